"""Numbers as people read and type them (issue 19, point 7): display and strict input parsing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.conf import settings
from django.utils import translation

from backfuture import numbers

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "1,000.50", D("1000.50")),
        ("en", "1000.5", D("1000.5")),
        ("en", "1.000", D("1")),  # English: a decimal point, so one
        ("en", "1,234,567", D("1234567")),
        ("en", " 50 ", D("50")),
        ("en", ".5", D("0.5")),
        ("en", "-3", D("-3")),
        ("en", "\u22123", D("-3")),
        ("de", "1.000,50", D("1000.50")),
        ("de", "1.000", D("1000")),  # German: a group separator, so one thousand
        ("de", "1000,5", D("1000.5")),
        ("de", "0,25", D("0.25")),
        ("fr", f"1{NNBSP}000,50", D("1000.50")),
        ("fr", f"1{NBSP}000,50", D("1000.50")),
        ("fr", "1 000,50", D("1000.50")),
        ("fr", f"1{NNBSP}000", D("1000")),
        ("fr", "1000.5", D("1000.5")),  # "." is no French separator: a decimal point
        ("fr", "0.25", D("0.25")),
    ],
)
def test_parse_accepts_what_each_language_writes(language, text, expected):
    with translation.override(language):
        assert numbers.parse_decimal(text) == expected


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "abc"),
        ("en", ""),
        ("en", "1,5"),  # not a grouping: 1.5 or 15?
        ("en", "1,00.5"),
        ("en", "1.000.000"),
        ("en", "1.5,5"),
        ("en", "1e3"),
        ("en", "NaN"),
        ("en", "²"),
        ("de", "1.5"),  # German decimal comma expected: refused rather than read as 15
        ("de", "1,000,5"),
        ("de", "1.00,5"),
        ("fr", "1 00,5"),
        ("fr", "1,000.5"),
        ("fr", "1.000.000"),
    ],
)
def test_parse_refuses_malformed_or_ambiguous_text(language, text):
    with translation.override(language), pytest.raises(ValueError):
        numbers.parse_decimal(text)


def test_a_french_dot_before_three_digits_is_ambiguous():
    with translation.override("fr"), pytest.raises(numbers.AmbiguousNumber):
        numbers.parse_decimal("1.000")


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
@pytest.mark.parametrize(
    "value", [D("1000"), D("1000.5"), D("1234567.12345678"), D("0.25"), D("-2.5")]
)
def test_what_the_app_displays_parses_back_to_the_same_number(language, value):
    """Every language of the app: the number a page shows can be typed back (issue 18)."""
    with translation.override(language):
        assert numbers.parse_decimal(numbers.input_value(value)) == value
        assert numbers.parse_decimal(numbers.money(value, "BTC")) == value
        assert numbers.parse_decimal(numbers.money(value, "USDT")) == value.quantize(D("0.01"))


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("ar", "١٢٣٤,٥", D("1234.5")),  # Arabic-Indic digits, the page's separator
        ("ar", "١٢٣٤٫٥", D("1234.5")),  # ...and the Arabic decimal separator
        ("ar", "١٬٢٣٤٫٥", D("1234.5")),  # ...and the Arabic thousands separator
        ("ar", "1.234,5", D("1234.5")),  # as Django's Arabic format shows it
        ("pl", f"1{NBSP}234,5", D("1234.5")),
        ("pl", "1 234,5", D("1234.5")),  # a plain space typed for the no-break one
        ("tr", "1.234,5", D("1234.5")),
        ("sr-latn", "1.234,5", D("1234.5")),
        ("hu", "1 234,5", D("1234.5")),
    ],
)
def test_parse_accepts_the_digits_and_separators_of_more_languages(language, text, expected):
    with translation.override(language):
        assert numbers.parse_decimal(text) == expected


def test_money_uses_the_quote_assets_precision_and_groups():
    with translation.override("en"):
        assert numbers.money(D("2512.890625"), "USDT") == "2,512.89"
        assert numbers.money(D("1000"), "USDT") == "1,000.00"
        assert numbers.money(D("0.00012345"), "BTC") == "0.00012345"
        assert numbers.shortfall(D("0.001"), "USDT") == "0.01"
        assert numbers.percent(D("24.7486")) == "24.75"
        assert numbers.input_value(D("1000.00000000")) == "1,000"
    with translation.override("de"):
        assert numbers.money(D("2512.890625"), "USDT") == "2.512,89"
    with translation.override("fr"):
        assert numbers.money(D("2512.890625"), "USDT") in {f"2{NBSP}512,89", f"2{NNBSP}512,89"}
