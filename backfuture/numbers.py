"""Numbers as people read and type them, in the active language.

Display: money to its asset's precision (USDT: 2 places), percentages and scales to a few
places, always grouped ("1,000.50", "1.000,50", "1 000,50"). Input: `parse_decimal` accepts
what the display produces, and refuses what could mean two different numbers instead of
guessing (a German "1.5" is neither 1,5 nor 15; Django's own parser would read 15).

We do not turn on `USE_THOUSAND_SEPARATOR`: it would group every integer a template prints,
including ids inside element ids and URLs.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation

from django.utils import formats

# Places a quote asset is counted in. Stablecoins and fiat to the cent; anything else (BTC,
# ETH, …) keeps up to 8 places, the precision the exchanges report balances in.
QUOTE_PLACES: dict[str, int] = {
    "USDT": 2,
    "USDC": 2,
    "USD": 2,
    "EUR": 2,
    "FDUSD": 2,
    "TUSD": 2,
    "DAI": 2,
}
MAX_PLACES = 8
PCT_PLACES = 2
SCALE_PLACES = 4

# The spaces people and Django's French format put between groups of thousands.
_SPACES = frozenset({" ", "\u00a0", "\u202f", "\u2009"})
_MINUS = {"\u2212": "-", "\u2013": "-"}
_ARABIC_DECIMAL = "\u066b"
_ARABIC_GROUP = "\u066c"


def _strip(value: Decimal, places: int, rounding: str) -> Decimal:
    value = value.quantize(Decimal(1).scaleb(-places), rounding=rounding)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def localize(value: Decimal | int | float | None, *, places: int | None = None) -> str:
    """Grouped, localised; `places` fixed if given, else as many as the value has."""
    if value is None:
        return ""
    return formats.number_format(
        Decimal(value), decimal_pos=places, use_l10n=True, force_grouping=True
    )


def plain(
    value: Decimal | int | float | None, *, max_places: int = MAX_PLACES, rounding=ROUND_HALF_UP
) -> str:
    """At most `max_places` places, without padded zeros: 1.5 not 1.50000000."""
    if value is None:
        return ""
    return localize(_strip(Decimal(value), max_places, rounding))


def money(value: Decimal | int | float | None, asset: str = "", *, rounding=ROUND_HALF_UP) -> str:
    """An amount of `asset`: 2 fixed places for USDT and the like, up to 8 otherwise."""
    if value is None:
        return ""
    places = QUOTE_PLACES.get(asset.upper())
    if places is None:
        return plain(value, rounding=rounding)
    return localize(
        Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=rounding), places=places
    )


def shortfall(value: Decimal | int | float | None, asset: str = "") -> str:
    """Like `money`, but rounded up: a shortfall of 0.001 must not read as 0.00."""
    return money(value, asset, rounding=ROUND_UP)


def percent(value: Decimal | int | float | None) -> str:
    return plain(value, max_places=PCT_PLACES)


def scale(value: Decimal | int | float | None) -> str:
    return plain(value, max_places=SCALE_PLACES)


def input_value(value: Decimal | int | float | None) -> str:
    """A stored number as a form input shows it: localised, grouped, no padded zeros."""
    return plain(value)


class AmbiguousNumber(ValueError):
    """The text could be read as two different numbers in the active language."""


def example() -> str:
    """How one thousand two hundred and thirty-four and a half is written here."""
    return localize(Decimal("1234.5"))


def _group_chars(separator: str) -> frozenset[str]:
    return _SPACES if separator in _SPACES else frozenset({separator})


def parse_decimal(text: str) -> Decimal:
    """`text` as typed in the active language. Raises ValueError (or AmbiguousNumber).

    Grouping must be well formed (1 to 3 digits, then groups of exactly 3), so that a German
    "1.5" or an English "1,5" is refused rather than read as 15. Where "." is neither the
    decimal nor the group separator (French), it is taken as a decimal point too, unless it is
    followed by exactly three digits ("1.000" could be one or one thousand).
    """
    decimal_sep = formats.get_format("DECIMAL_SEPARATOR")
    groups = _group_chars(formats.get_format("THOUSAND_SEPARATOR"))
    body = text.strip()
    for char, replacement in _MINUS.items():
        body = body.replace(char, replacement)
    # Arabic keyboards type their own separators (and digits, which Decimal reads as they are):
    # "١٬٢٣٤٫٥" is 1234.5 whatever the page's language.
    body = body.replace(_ARABIC_DECIMAL, decimal_sep).replace(
        _ARABIC_GROUP, formats.get_format("THOUSAND_SEPARATOR")
    )
    sign = ""
    if body[:1] in "+-" and body:
        sign, body = body[0], body[1:].lstrip()
    if not body:
        raise ValueError(text)
    if decimal_sep != "." and "." not in groups and "." in body:
        if decimal_sep in body or body.count(".") > 1:
            raise ValueError(text)
        whole, _, fraction = body.partition(".")
        if len(fraction) == 3 and not any(char in groups for char in whole):
            raise AmbiguousNumber(text)
        body = f"{whole}{decimal_sep}{fraction}"
    if body.count(decimal_sep) > 1:
        raise ValueError(text)
    whole, _, fraction = body.partition(decimal_sep)
    if not fraction.isdigit() and fraction:
        raise ValueError(text)
    if any(char in groups for char in whole):
        group_class = "".join(re.escape(char) for char in sorted(groups))
        if not re.fullmatch(rf"\d{{1,3}}(?:[{group_class}]\d{{3}})+", whole):
            raise ValueError(text)
        whole = "".join(char for char in whole if char.isdigit())
    elif whole and not whole.isdigit():
        raise ValueError(text)
    if not whole and not fraction:
        raise ValueError(text)
    # isdigit() accepts other scripts' digits too; Decimal reads them, ASCII or not.
    try:
        return Decimal(f"{sign}{whole or '0'}.{fraction or '0'}")
    except InvalidOperation as error:
        raise ValueError(text) from error
