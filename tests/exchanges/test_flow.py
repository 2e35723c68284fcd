"""The shared test sequence (`flow.ExchangeAPI`), through a minimal made-up exchange.

Each exchange's own behaviour is tested in its module's tests; these pin the rules every
exchange inherits: how key facts become checks, what "cannot be verified" says, expiry
warnings, the optional introspection, demo hosts and headers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import responses

from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    ExchangeError,
    Market,
    Outcome,
    PermanentExchangeError,
)
from connections.exchanges.flow import ExchangeAPI, KeyFacts, SignedPlan
from connections.exchanges.http import Call, Reply, summarise_balances, to_decimal

from .conftest import NOW, NOW_MS, FakeClock

BASE = "https://toy.example"
CREDENTIALS = Credentials("toy-key-0123456789", "toy-secret-0123456789")


class ToyExchange(ExchangeAPI):
    """Answers {"ok": true, ...} or {"ok": false, "error": "<category>"}."""

    slug = "toy"
    default_base_urls = {"toy": BASE}
    demo_base_urls = {"toy": "https://demo.toy.example"}
    demo_headers = {"x-demo": "1"}
    not_verifiable = {CheckName.WITHDRAWAL: "toy_cannot_tell"}
    facts = KeyFacts()

    def time_calls(self, market: Market) -> list[Call]:
        return [Call("time", "GET", self.url("toy", "/time"))]

    def server_time_ms(self, reply: Reply) -> int:
        return int(reply.data["time"])

    def classify(self, reply: Reply) -> ExchangeError | None:
        if reply.data.get("ok"):
            return None
        return PermanentExchangeError(Category(reply.data["error"]), reply.data["error"])

    def plan(self, ctx) -> SignedPlan:
        headers = self.signed_headers({"x-key": ctx.credentials.api_key})
        return SignedPlan(
            key_info=Call("key", "GET", self.url("toy", "/key"), headers),
            balances=Call("wallet", "GET", self.url("toy", "/wallet"), headers),
        )

    def key_facts(self, reply, ctx) -> KeyFacts:
        return self.facts

    def balances(self, reply: Reply, ctx) -> list[dict[str, str]]:
        amounts = {row["asset"]: (to_decimal(row["free"]), 0) for row in reply.data["rows"]}
        return summarise_balances(amounts, ("free", "locked"))


def toy(rsps, *, key=None, wallet=None, base=BASE) -> None:
    rsps.add(responses.GET, f"{base}/time", json={"ok": True, "time": NOW_MS})
    rsps.add(responses.GET, f"{base}/key", json=key or {"ok": True})
    rsps.add(
        responses.GET,
        f"{base}/wallet",
        json=wallet or {"ok": True, "rows": [{"asset": "USDT", "free": "100"}]},
    )


def run(facts: KeyFacts, market: Market = Market.SPOT, **options):
    client = ToyExchange(clock=FakeClock(), **options)
    client.facts = facts
    return client.run_checks(CREDENTIALS, market)


def check(report, name: CheckName) -> tuple[str, str]:
    result = report.check(name)
    return result.outcome.value, result.code


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


def test_a_key_that_reads_and_trades_and_cannot_withdraw_is_online(rsps):
    toy(rsps)
    facts = KeyFacts(
        read=True,
        spot_trade=True,
        withdraw=False,
        ip_whitelist=["203.0.113.10"],
        permissions=["read", "spot"],
    )

    report = run(facts)

    assert report.is_online
    assert check(report, CheckName.TRADE_PERMISSION) == ("ok", "spot_trade_enabled")
    assert check(report, CheckName.WITHDRAWAL) == ("ok", "withdrawal_disabled")
    assert check(report, CheckName.IP_RESTRICTION) == ("ok", "ip_restricted")
    assert check(report, CheckName.FUTURES_PERMISSION) == ("skipped", "not_futures_market")
    assert report.balances == [{"asset": "USDT", "free": "100", "locked": "0"}]


def test_what_the_exchange_does_not_report_cannot_be_verified_with_its_reason(rsps):
    toy(rsps)

    report = run(KeyFacts())

    assert report.is_online  # nothing failed; nothing was guessed either
    assert check(report, CheckName.TRADE_PERMISSION) == ("not_verifiable", "not_reported")
    assert check(report, CheckName.WITHDRAWAL) == ("not_verifiable", "toy_cannot_tell")
    assert check(report, CheckName.KEY_EXPIRY) == ("not_verifiable", "not_reported")
    assert report.ip_restricted is None


def test_a_key_that_can_move_funds_leads_the_headline(rsps):
    toy(rsps)

    report = run(KeyFacts(spot_trade=False, withdraw=True, raw_permissions=["Trade", "Withdraw"]))

    assert report.category == Category.WITHDRAWAL_ENABLED
    assert check(report, CheckName.TRADE_PERMISSION) == ("failed", "trade_permission_missing")
    assert "Withdraw" in report.message


def test_only_a_yes_or_no_ip_restriction_is_shown_as_set_without_a_list(rsps):
    toy(rsps)

    report = run(KeyFacts(spot_trade=True, ip_restricted=True))

    assert check(report, CheckName.IP_RESTRICTION) == ("ok", "ip_restricted_unlisted")
    assert report.ip_restricted is True


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (60, ("ok", "key_expires_on")),
        (10, ("warning", "key_expires_soon")),
        (-1, ("failed", "key_expired")),
    ],
)
def test_a_reported_expiry_is_shown_warned_about_and_fails_once_past(rsps, days, expected):
    toy(rsps)
    expires_at = datetime.fromtimestamp(NOW, UTC) + timedelta(days=days, hours=1)

    report = run(KeyFacts(spot_trade=True, expires_at=expires_at))

    assert check(report, CheckName.KEY_EXPIRY) == expected
    assert report.key_expires_at == expires_at
    assert report.check(CheckName.KEY_EXPIRY).params["date"] == expires_at.date().isoformat()
    assert report.is_online is (days > 0)


def test_futures_without_a_flag_is_proven_by_a_readable_futures_account(rsps):
    toy(rsps)

    report = run(KeyFacts(), Market.FUTURES)

    assert check(report, CheckName.FUTURES_PERMISSION) == ("ok", "futures_account_readable")
    assert "futures" in report.permissions


def test_an_introspection_refused_for_a_permission_fails_the_credentials_check(rsps):
    toy(rsps, key={"ok": False, "error": "no_trade_permission"})

    report = run(KeyFacts())

    assert check(report, CheckName.CREDENTIALS) == ("failed", "read_permission_missing")
    assert check(report, CheckName.BALANCES) == ("skipped", "not_run")


def test_an_optional_introspection_falls_back_to_the_balances_and_says_what_it_could_not_tell(
    rsps, monkeypatch
):
    monkeypatch.setattr(ToyExchange, "key_info_optional", True)
    toy(rsps, key={"ok": False, "error": "no_trade_permission"})

    report = run(KeyFacts())

    assert check(report, CheckName.CREDENTIALS) == ("ok", "credentials_accepted")
    assert check(report, CheckName.BALANCES) == ("ok", "balances_read")
    assert check(report, CheckName.WITHDRAWAL) == ("not_verifiable", "key_info_refused")
    assert check(report, CheckName.TRADE_PERMISSION) == ("not_verifiable", "key_info_refused")


def test_a_refused_key_skips_everything_after_it(rsps):
    toy(rsps, key={"ok": False, "error": "invalid_key"})

    report = run(KeyFacts())

    assert report.category == Category.INVALID_KEY
    assert [c.outcome for c in report.checks[2:]] == [Outcome.SKIPPED] * 6


def test_an_exchange_can_name_a_fact_in_its_own_words(rsps):
    toy(rsps)
    facts = KeyFacts(
        futures_trade=True,
        details={CheckName.FUTURES_PERMISSION: ("toy_mode", {"mode": "hedge"})},
    )

    report = run(facts, Market.FUTURES)

    result = report.check(CheckName.FUTURES_PERMISSION)
    assert (result.outcome, result.code, result.params) == (
        Outcome.OK,
        "toy_mode",
        {"mode": "hedge"},
    )


def test_demo_mode_uses_the_demo_host_and_headers_and_its_settings_override(rsps):
    demo = "http://127.0.0.1:9999"
    toy(rsps, base=demo)

    report = run(KeyFacts(spot_trade=True), base_urls={"toy_demo": demo}, demo=True)

    assert report.is_online
    signed = [call.request for call in rsps.calls if call.request.url.endswith("/key")]
    assert signed[0].headers["x-demo"] == "1"
    assert "x-demo" not in rsps.calls[0].request.headers  # the public time call carries none
