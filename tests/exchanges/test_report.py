"""Report types, errors, secret hygiene and the translated texts."""

from __future__ import annotations

import json
import logging
import pickle
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses
from django.utils import translation

from connections.exchanges import problems
from connections.exchanges.base import (
    Category,
    CheckName,
    CheckReport,
    CheckResult,
    Credentials,
    ExchangeError,
    Market,
    Outcome,
    PermanentExchangeError,
    TemporaryExchangeError,
    failed_report,
    make_error,
)
from connections.exchanges.kucoin import KucoinClient
from connections.exchanges.mexc import MexcClient

from .conftest import (
    KUCOIN_KEY,
    KUCOIN_PASSPHRASE,
    KUCOIN_SECRET,
    MEXC_SECRET,
    NOW_MS,
    FakeClock,
    load,
)


def test_credentials_repr_masks_everything():
    credentials = Credentials(KUCOIN_KEY, KUCOIN_SECRET, KUCOIN_PASSPHRASE)

    for text in (repr(credentials), str(credentials), f"{credentials}", repr([credentials])):
        assert KUCOIN_SECRET not in text
        assert KUCOIN_PASSPHRASE not in text
        assert KUCOIN_KEY not in text
        assert "6705…d3eb" in text


def test_short_keys_are_fully_masked():
    assert "abc" not in repr(Credentials("abc", "s"))


def test_credentials_refuse_to_be_pickled():
    with pytest.raises(TypeError):
        pickle.dumps(Credentials(KUCOIN_KEY, KUCOIN_SECRET, KUCOIN_PASSPHRASE))


def test_category_temporariness():
    assert [c for c in Category if c.is_temporary] == [
        Category.EXCHANGE_UNAVAILABLE,
        Category.EXCHANGE_UNREACHABLE,
    ]


def test_check_names_are_in_report_order():
    assert [c.value for c in CheckName] == [
        "reachable",
        "credentials",
        "balances",
        "trade_permission",
        "futures_permission",
        "withdrawal",
        "ip_restriction",
        "key_expiry",
    ]


def test_errors_know_whether_they_are_temporary():
    assert make_error(Category.INVALID_KEY, "x").__class__ is PermanentExchangeError
    assert make_error(Category.EXCHANGE_UNAVAILABLE, "x").__class__ is TemporaryExchangeError
    assert TemporaryExchangeError().category == Category.EXCHANGE_UNAVAILABLE
    assert TemporaryExchangeError().temporary is True
    assert PermanentExchangeError(Category.CLOCK_SKEW, "x").temporary is False
    assert ExchangeError(Category.EXCHANGE_UNAVAILABLE, "x").temporary is True
    assert isinstance(TemporaryExchangeError(), ExchangeError)


def test_error_messages_are_truncated_when_scrubbed():
    # Kept whole until the credentials are out (issue 14): cutting first could halve a secret.
    error = PermanentExchangeError(Category.INVALID_KEY, "x" * 1000)
    assert len(error.message) == 1000
    error.scrub(Credentials("k" * 20, "s" * 20))
    assert len(error.message) <= 300
    assert str(error) == error.message


def roundtrip(obj):
    # Our own bytes, straight back: the pickle round trip Celery does when it records a retry.
    return pickle.loads(pickle.dumps(obj))  # noqa: S301


def test_errors_survive_pickling():
    error = TemporaryExchangeError(
        Category.EXCHANGE_UNAVAILABLE, "429 busy", exchange_code="429", retry_after=7.0
    )
    copy = roundtrip(error)
    assert type(copy) is TemporaryExchangeError
    assert (copy.category, copy.message, copy.retry_after, copy.exchange_code) == (
        Category.EXCHANGE_UNAVAILABLE,
        "429 busy",
        7.0,
        "429",
    )
    ip_error = roundtrip(
        PermanentExchangeError(Category.IP_NOT_ALLOWED, "ip", reported_ip="1.2.3.4")
    )
    assert ip_error.reported_ip == "1.2.3.4"
    assert ip_error.temporary is False


def sample_report() -> CheckReport:
    return CheckReport(
        exchange="kucoin",
        market=Market.SPOT,
        checks=[
            CheckResult(CheckName.REACHABLE, Outcome.OK, "reachable", {"skew_ms": 12}, 40),
            CheckResult(
                CheckName.CREDENTIALS,
                Outcome.FAILED,
                "ip_not_allowed",
                {"exchange_code": "400006", "reported_ip": "203.0.113.77"},
                55,
                Category.IP_NOT_ALLOWED,
            ),
        ],
        verdict="failed",
        category=Category.IP_NOT_ALLOWED,
        message="400006 Invalid request ip",
        permissions=["read", "spot"],
        raw_permissions=["General", "Spot"],
        ip_restricted=True,
        reported_ip="203.0.113.77",
        key_expires_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        clock_skew_ms=12,
        balances=[{"asset": "USDT", "free": "40.5", "locked": "0"}],
        latencies_ms={"time": 40, "api_key": 55},
        started_at=datetime(2025, 1, 1, tzinfo=UTC),
        finished_at=datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC),
    )


def test_report_round_trips_through_json():
    report = sample_report()

    data = json.loads(json.dumps(report.to_dict()))
    again = CheckReport.from_dict(data)

    assert again == report
    assert data["key_expires_at"] == "2026-01-02T03:04:05+00:00"
    assert data["checks"][1]["category"] == "ip_not_allowed"


def test_report_helpers():
    report = sample_report()
    assert report.check(CheckName.CREDENTIALS).code == "ip_not_allowed"
    assert report.check("reachable").params == {"skew_ms": 12}
    assert report.check(CheckName.KEY_EXPIRY) is None
    assert report.free_balance("USDT") == Decimal("40.5")
    assert report.free_balance("BTC") is None
    assert report.is_online is False


def test_failed_report_after_the_last_retry():
    error = TemporaryExchangeError(Category.EXCHANGE_UNAVAILABLE, "timeout on GET api.mexc.com")

    report = failed_report("mexc", Market.FUTURES, error)

    assert report.verdict == "failed"
    assert report.category == Category.EXCHANGE_UNAVAILABLE
    assert report.market == Market.FUTURES
    assert report.message == "timeout on GET api.mexc.com"
    assert [c.outcome for c in report.checks] == [Outcome.FAILED] + [Outcome.SKIPPED] * 7
    json.dumps(report.to_dict())


def test_failed_report_for_a_permanent_error_blames_the_credentials():
    error = PermanentExchangeError(Category.IP_NOT_ALLOWED, "700006", reported_ip="1.2.3.4")

    report = failed_report("mexc", "spot", error)

    assert report.check(CheckName.REACHABLE).outcome == Outcome.SKIPPED
    assert report.check(CheckName.CREDENTIALS).category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "1.2.3.4"
    assert report.ip_restricted is True


# --- Secrets never leave ------------------------------------------------------------------


def _kucoin_time(rsps):
    body = load("kucoin_timestamp")
    body["data"] = NOW_MS
    rsps.add(responses.GET, "https://api.kucoin.com/api/v1/timestamp", json=body)


def kucoin_echoing_secrets(rsps):
    _kucoin_time(rsps)
    echo = {"code": "400004", "msg": f"passphrase {KUCOIN_PASSPHRASE} / {KUCOIN_SECRET} wrong"}
    rsps.add(responses.GET, "https://api.kucoin.com/api/v1/user/api-key", json=echo, status=401)
    rsps.add(responses.GET, "https://api.kucoin.com/api/v1/accounts", json=echo, status=401)


def kucoin_temporary_echo(rsps):
    _kucoin_time(rsps)
    echo = {"code": "999999", "msg": f"odd failure for {KUCOIN_SECRET} {KUCOIN_PASSPHRASE}"}
    rsps.add(responses.GET, "https://api.kucoin.com/api/v1/user/api-key", json=echo, status=400)
    rsps.add(responses.GET, "https://api.kucoin.com/api/v1/accounts", json=echo, status=400)


def kucoin_healthy_with_transfer(rsps):
    _kucoin_time(rsps)
    rsps.add(
        responses.GET, "https://api.kucoin.com/api/v1/user/api-key", json=load("kucoin_api_key")
    )
    rsps.add(responses.GET, "https://api.kucoin.com/api/v1/accounts", json=load("kucoin_accounts"))


def kucoin_timeout(rsps):
    _kucoin_time(rsps)
    rsps.add(
        responses.GET,
        "https://api.kucoin.com/api/v1/user/api-key",
        body=responses.ConnectionError("refused"),
    )
    rsps.add(responses.GET, "https://api.kucoin.com/api/v1/accounts", json=load("kucoin_accounts"))


@pytest.mark.parametrize(
    "scenario",
    [kucoin_echoing_secrets, kucoin_temporary_echo, kucoin_healthy_with_transfer, kucoin_timeout],
)
def test_secret_and_passphrase_never_appear_in_any_output(rsps, caplog, scenario):
    caplog.set_level(logging.DEBUG)
    scenario(rsps)
    credentials = Credentials(KUCOIN_KEY, KUCOIN_SECRET, KUCOIN_PASSPHRASE)
    outputs = [repr(credentials)]

    try:
        report = KucoinClient(clock=FakeClock()).run_checks(credentials, Market.SPOT)
    except ExchangeError as exc:
        outputs += [str(exc), repr(exc), exc.message, str(exc.args)]
        outputs.append(json.dumps(failed_report("kucoin", Market.SPOT, exc).to_dict()))
        assert exc.__cause__ is None
    else:
        outputs += [json.dumps(report.to_dict()), repr(report)]

    outputs += [record.getMessage() for record in caplog.records]
    for text in outputs:
        assert KUCOIN_SECRET not in text
        assert KUCOIN_PASSPHRASE not in text


def test_mexc_secret_never_appears_in_errors(rsps, caplog):
    caplog.set_level(logging.DEBUG)
    body = load("mexc_time")
    body["serverTime"] = NOW_MS
    rsps.add(responses.GET, "https://api.mexc.com/api/v3/time", json=body)
    echo = {"code": 700002, "msg": f"Signature for this request is not valid: {MEXC_SECRET}"}
    rsps.add(responses.GET, "https://api.mexc.com/api/v3/account", json=echo, status=400)
    rsps.add(responses.POST, "https://api.mexc.com/api/v3/order/test", json=echo, status=400)
    credentials = Credentials("mx0aBYs33eIilxBWC5", MEXC_SECRET)

    report = MexcClient(clock=FakeClock()).run_checks(credentials, Market.SPOT)

    assert report.category == Category.INVALID_KEY
    assert MEXC_SECRET not in json.dumps(report.to_dict())
    assert all(MEXC_SECRET not in r.getMessage() for r in caplog.records)


# --- Texts ----------------------------------------------------------------------------------

# Every detail code a client can put into a report.
PRODUCED_CODES = [
    "reachable",
    "clock_skew_high",
    "credentials_accepted",
    "read_permission_missing",
    "balances_read",
    "futures_balances_read",
    "futures_account_unreadable",
    "spot_trade_enabled",
    "futures_trade_enabled",
    "trade_permission_missing",
    "order_test_ok",
    "order_test_validated",
    "mexc_futures_api_orders_closed",
    "not_futures_market",
    "futures_enabled",
    "futures_account_readable",
    "futures_permission_missing",
    "withdrawal_disabled",
    "withdrawal_enabled",
    "mexc_cannot_tell",
    "ip_restricted",
    "ip_not_set",
    "ip_not_whitelisted",
    "ip_not_whitelisted_unreported",
    "key_never_expires",
    "mexc_unbound_expires_90d",
    "binance_key_ip_or_permission",
    "binance_key_or_ip",
    "binance_key_or_ip_ip",
    "binance_permission_missing",
    "binance_futures_disabled",
    "binance_portfolio_margin",
    "binance_demo_no_key_info",
    "bybit_demo_no_key_info",
    "coinbase_portfolio_id_balances",
    "okx_futures_enabled_account_mode",
    "clock_skew_beyond_limit",
    "ip_restricted_unlisted",
    "key_does_not_expire",
    "key_expired",
    "key_expires_on",
    "key_expires_soon",
    "key_info_refused",
    "not_reported",
    "demo_account",
    "not_run",
    *[c.value for c in Category],
]


@pytest.mark.parametrize("code", PRODUCED_CODES)
def test_every_detail_code_has_a_text(code):
    assert code in problems.CHECK_DETAILS
    text = problems.check_detail(
        code,
        {
            "skew_ms": 5,
            "skew_s": 31,
            "limit_s": 30,
            "count": 2,
            "days": 3,
            "date": "2027-02-24",
            "exchange_code": "30002",
            "reported_ip": "1.2.3.4",
        },
    )
    assert text and "%(" not in text


def test_every_category_has_title_cause_and_what_to_do():
    for category in Category:
        problem = problems.problem_for(category)
        assert str(problem.title) and str(problem.cause) and str(problem.what_to_do)
    assert str(problems.problem_for("invalid_key").cause) == (
        "The API key or secret was copied incorrectly"
    )
    assert str(problems.problem_for(Category.EXCHANGE_UNAVAILABLE).what_to_do) == (
        "Wait and run the test again"
    )


def test_detail_text_fills_params():
    assert problems.check_detail("reachable", {"skew_ms": 120}) == "reachable, clock skew 120 ms"
    assert problems.check_detail("ip_not_set") == "not set — recommended"
    assert problems.check_detail("withdrawal_disabled", {}) == "disabled"
    # The page shows "<label>: <detail>", as in "Withdrawal: disabled".
    assert problems.check_label("withdrawal") == "Withdrawal"


def test_detail_text_survives_missing_params_and_unknown_codes():
    assert "?" in problems.check_detail("reachable", {})
    assert problems.check_detail("brand_new_code") == "Result code: brand_new_code"


def test_labels():
    assert [problems.check_label(name) for name in CheckName][:2] == [
        "Exchange",
        "Key and secret",
    ]
    assert problems.outcome_label("not_verifiable") == "Cannot be verified"


def test_texts_are_lazy_and_follow_the_active_language():
    with translation.override("de"):
        text = problems.check_label(CheckName.WITHDRAWAL)
    assert isinstance(text, str) and text


def test_withdrawal_enabled_leads_the_headline_whatever_failed_first():
    from datetime import UTC, datetime

    from connections.exchanges.base import (
        Category,
        CheckName,
        Market,
        PermanentExchangeError,
        ReportBuilder,
    )

    builder = ReportBuilder("kucoin", Market.FUTURES, datetime.now(UTC))
    builder.fail(
        CheckName.FUTURES_PERMISSION,
        PermanentExchangeError(Category.FUTURES_NOT_PERMITTED, "no Futures"),
    )
    builder.fail(
        CheckName.WITHDRAWAL, PermanentExchangeError(Category.WITHDRAWAL_ENABLED, "Transfer")
    )
    report = builder.finish(datetime.now(UTC))
    assert report.verdict == "failed"
    assert report.category == Category.WITHDRAWAL_ENABLED


def test_key_pairs_survive_storage_and_older_reports_have_none():
    report = CheckReport(exchange="gate", market=Market.SPOT, key_pairs=["BTC/USDT"])
    assert CheckReport.from_dict(report.to_dict()).key_pairs == ["BTC/USDT"]
    assert (
        CheckReport.from_dict(CheckReport("gate", Market.SPOT, key_pairs=[]).to_dict()).key_pairs
        == []
    )
    older = report.to_dict()
    del older["key_pairs"]
    assert CheckReport.from_dict(older).key_pairs is None


def test_key_limited_to_pairs_is_worded_in_the_trading_check():
    text = problems.check_detail("trade_limited_to_pairs", {"pairs": "BTC/USDT", "count": 1})
    assert text == "enabled, but only for BTC/USDT (the key's pair whitelist)"
