"""Credentials an exchange echoes never reach a stored text, even across the length cut.

Issue 14 ("also found"): an error message echoing the API key was stored and shown in full on
the support pages, and messages were cut to length before the secrets were scrubbed, so a
secret cut in half by the truncation survived.
"""

from __future__ import annotations

import json

import pytest
import responses

from connections.exchanges.base import (
    MESSAGE_MAX_CHARS,
    Credentials,
    ExchangeError,
    Market,
    TemporaryExchangeError,
    failed_report,
    mask_key,
)
from connections.exchanges.kucoin import KucoinClient

from .conftest import KUCOIN_KEY, KUCOIN_PASSPHRASE, KUCOIN_SECRET, NOW_MS, FakeClock, load

CREDENTIALS = Credentials(KUCOIN_KEY, KUCOIN_SECRET, KUCOIN_PASSPHRASE)
API_KEY_URL = "https://api.kucoin.com/api/v1/user/api-key"
ACCOUNTS_URL = "https://api.kucoin.com/api/v1/accounts"


def pieces(value: str, size: int = 9) -> list[str]:
    """Every run of `size` characters of a value: none may survive anywhere."""
    return [value[i : i + size] for i in range(len(value) - size + 1)]


def assert_no_credentials(text: str) -> None:
    for value in (KUCOIN_KEY, KUCOIN_SECRET, KUCOIN_PASSPHRASE):
        for piece in pieces(value):
            assert piece not in text, (piece, text)


def answer(rsps, body: dict, status: int) -> None:
    time_body = load("kucoin_timestamp")
    time_body["data"] = NOW_MS
    rsps.add(responses.GET, "https://api.kucoin.com/api/v1/timestamp", json=time_body)
    rsps.add(responses.GET, API_KEY_URL, json=body, status=status)
    rsps.add(responses.GET, ACCOUNTS_URL, json=body, status=status)


def outputs_of(rsps) -> list[str]:
    try:
        report = KucoinClient(clock=FakeClock()).run_checks(CREDENTIALS, Market.SPOT)
    except ExchangeError as exc:
        report = failed_report("kucoin", Market.SPOT, exc)
        return [exc.message, str(exc), repr(exc), json.dumps(report.to_dict())]
    return [report.message, json.dumps(report.to_dict())]


def test_echoed_api_key_is_stored_masked(rsps):
    answer(rsps, {"code": "400003", "msg": f"KC-API-KEY not exists: {KUCOIN_KEY}"}, 401)
    texts = outputs_of(rsps)
    for text in texts:
        assert_no_credentials(text)
    assert mask_key(KUCOIN_KEY) in texts[0]


@pytest.mark.parametrize("secret", [KUCOIN_KEY, KUCOIN_SECRET, KUCOIN_PASSPHRASE])
@pytest.mark.parametrize("shift", range(-12, 4, 3))
@pytest.mark.parametrize(("code", "status"), [("400003", 401), ("999999", 400)])
def test_a_credential_across_the_length_cut_does_not_survive(rsps, secret, shift, code, status):
    # "<code> " starts the message; place the value so the cut at MESSAGE_MAX_CHARS falls
    # inside it (permanent errors become a report, temporary ones are raised).
    prefix = len(code) + 1
    padding = "x" * (MESSAGE_MAX_CHARS - prefix - len(secret) // 2 + shift)
    answer(rsps, {"code": code, "msg": f"{padding}{secret} and more text after it"}, status)
    for text in outputs_of(rsps):
        assert_no_credentials(text)


def test_credentials_in_url_or_json_form_are_scrubbed():
    from urllib.parse import quote

    error = TemporaryExchangeError(
        message=f"echo {quote(KUCOIN_PASSPHRASE, safe='')} {json.dumps(KUCOIN_SECRET)}"
    )
    assert_no_credentials(error.scrub(CREDENTIALS).message)


def test_lists_dicts_and_lower_cased_copies_in_a_report_are_scrubbed():
    """Found in review: only the message and top-level string parameters were scrubbed, while
    clients also store exchange texts in lists (KuCoin's permissions, lower-cased) and dicts."""
    from connections.exchanges.base import CheckName, CheckResult, Outcome, scrub_report

    report = failed_report("kucoin", Market.SPOT, TemporaryExchangeError())
    report.raw_permissions = ["general", f"echo {KUCOIN_KEY.lower()}"]
    report.checks.append(
        CheckResult(
            CheckName.CREDENTIALS,
            Outcome.FAILED,
            "x",
            params={"seen": [KUCOIN_SECRET, {"nested": KUCOIN_PASSPHRASE.upper()}], "n": 3},
        )
    )
    stored = json.dumps(scrub_report(report, CREDENTIALS).to_dict(), ensure_ascii=False)
    assert_no_credentials(stored.lower())
    assert mask_key(KUCOIN_KEY).lower() in stored.lower()
    assert '"n": 3' in stored
