"""The shared test sequence (`flow.ExchangeAPI`), through a minimal made-up exchange.

Each exchange's own behaviour is tested in its module's tests; these pin the rules every
exchange inherits: how key facts become checks, what "cannot be verified" says, expiry
warnings, the optional introspection, demo hosts and headers, and the server time sent with
the first signed calls (signed with the skew remembered per host, dropped and sent again when
the fresh skew says otherwise).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    ExchangeError,
    Market,
    Outcome,
    PermanentExchangeError,
    TemporaryExchangeError,
)
from connections.exchanges.flow import SKEW_TOLERANCE_MS, ExchangeAPI, KeyFacts, SignedPlan
from connections.exchanges.http import (
    SKEWS,
    Call,
    Reply,
    SkewMemory,
    summarise_balances,
    to_decimal,
)

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
    public = [call.request for call in rsps.calls if call.request.url.endswith("/time")]
    assert "x-demo" not in public[0].headers  # the public time call carries none


# --- the server time goes out with the first signed calls ----------------------------------


class ClockedToy(ToyExchange):
    """The toy, its signed calls stamped with our clock corrected by the skew (`x-ts`)."""

    max_clock_skew_ms = None

    def plan(self, ctx) -> SignedPlan:
        headers = {"x-key": ctx.credentials.api_key, "x-ts": str(ctx.now_ms("time"))}
        return SignedPlan(
            key_info=Call("key", "GET", self.url("toy", "/key"), headers),
            balances=Call("wallet", "GET", self.url("toy", "/wallet"), headers),
        )


class ToyServer:
    """The toy exchange with a clock `offset_ms` ahead of ours that refuses a signed call
    stamped more than 5 s away from it, as the exchanges do (`clock_skew`)."""

    def __init__(self, rsps, *, offset_ms: int = 0, base: str = BASE, signed: bool = True) -> None:
        self.offset_ms = offset_ms
        self.stamps: list[tuple[str, int]] = []
        rsps.add_callback(responses.GET, f"{base}/time", callback=self.time)
        if signed:
            rsps.add_callback(responses.GET, f"{base}/key", callback=self.signed)
            rsps.add_callback(responses.GET, f"{base}/wallet", callback=self.signed)

    def now_ms(self) -> int:
        return NOW_MS + self.offset_ms

    def time(self, request):
        return 200, {}, json.dumps({"ok": True, "time": self.now_ms()})

    def signed(self, request):
        stamp = int(request.headers["x-ts"])
        self.stamps.append((request.url.rsplit("/", 1)[1], stamp))
        if abs(stamp - self.now_ms()) > 5000:
            return 200, {}, json.dumps({"ok": False, "error": "clock_skew"})
        rows = [{"asset": "USDT", "free": "100"}]
        return 200, {}, json.dumps({"ok": True, "rows": rows})


def clocked(market: Market = Market.SPOT, **options):
    client = ClockedToy(clock=FakeClock(), **options)
    client.facts = KeyFacts(spot_trade=True, withdraw=False)
    return client.run_checks(CREDENTIALS, market)


ONE_ROUND = [["time", "key", "wallet"]]


def test_cold_with_a_correct_clock_one_round_carries_the_time_and_the_signed_calls(rsps, rounds):
    server = ToyServer(rsps)

    report = clocked()

    assert report.is_online
    assert rounds == ONE_ROUND
    assert sorted(server.stamps) == [("key", NOW_MS), ("wallet", NOW_MS)]
    assert set(report.latencies_ms) == {"time", "key", "wallet"}
    assert SKEWS.get(f"{BASE}/time") == 0


def test_warm_the_signed_calls_go_out_with_the_time_call_signed_with_the_remembered_skew(
    rsps, rounds
):
    server = ToyServer(rsps, offset_ms=30_000)
    SKEWS.put(f"{BASE}/time", 30_000)

    report = clocked()

    assert report.is_online
    assert rounds == ONE_ROUND
    assert sorted(server.stamps) == [("key", NOW_MS + 30_000), ("wallet", NOW_MS + 30_000)]
    assert report.clock_skew_ms == 30_000


def test_cold_with_our_clock_off_the_first_answers_are_dropped_and_the_calls_signed_again(
    rsps, rounds
):
    # Our clock is 30 s behind the exchange's: the calls signed with it are refused for their
    # timestamp. Those answers are never read (no clock failure, no latency): the calls go out
    # again signed with the measured skew, and the report is the normal one.
    server = ToyServer(rsps, offset_ms=30_000)

    report = clocked()

    assert report.is_online, report.to_dict()
    assert report.check(CheckName.CREDENTIALS).code == "credentials_accepted"
    assert report.check(CheckName.REACHABLE).code == "clock_skew_high"
    assert rounds == [["time", "key", "wallet"], ["key", "wallet"]]
    assert sorted(server.stamps[:2]) == [("key", NOW_MS), ("wallet", NOW_MS)]
    assert sorted(server.stamps[2:]) == [("key", NOW_MS + 30_000), ("wallet", NOW_MS + 30_000)]
    assert report.balances == [{"asset": "USDT", "free": "100", "locked": "0"}]
    # Remembered: the next test is one round again, signed right the first time.
    assert SKEWS.get(f"{BASE}/time") == 30_000
    rounds.clear()
    server.stamps.clear()

    assert clocked().is_online
    assert rounds == ONE_ROUND
    assert sorted(server.stamps) == [("key", NOW_MS + 30_000), ("wallet", NOW_MS + 30_000)]


def test_a_skew_within_the_tolerance_keeps_the_first_answers(rsps, rounds):
    ToyServer(rsps, offset_ms=SKEW_TOLERANCE_MS)

    report = clocked()

    assert report.is_online
    assert rounds == ONE_ROUND
    assert report.clock_skew_ms == SKEW_TOLERANCE_MS  # the fresh skew is still reported


def test_a_remembered_skew_the_clock_moved_away_from_is_corrected(rsps, rounds):
    # Remembered 30 s, but the exchange's clock is now 2 s from ours: beyond the tolerance,
    # even though the exchange would have taken the first stamps.
    server = ToyServer(rsps, offset_ms=2_000)
    SKEWS.put(f"{BASE}/time", 30_000)

    assert clocked().is_online

    assert rounds == [["time", "key", "wallet"], ["key", "wallet"]]
    assert sorted(server.stamps[2:]) == [("key", NOW_MS + 2_000), ("wallet", NOW_MS + 2_000)]
    assert SKEWS.get(f"{BASE}/time") == 2_000


def test_a_failed_time_call_is_temporary_whatever_the_signed_answers_said(rsps, rounds):
    rsps.add(responses.GET, f"{BASE}/time", body=requests.ConnectionError("reset by peer"))
    rsps.add(responses.GET, f"{BASE}/key", json={"ok": True})
    rsps.add(responses.GET, f"{BASE}/wallet", json={"ok": True, "rows": []})

    with pytest.raises(TemporaryExchangeError) as caught:
        clocked()

    assert caught.value.category == Category.EXCHANGE_UNAVAILABLE
    assert rounds == ONE_ROUND  # the good signed answers came back, and did not count
    assert SKEWS.get(f"{BASE}/time") is None


def test_a_time_answer_without_a_time_is_temporary_even_with_refused_signed_calls(rsps):
    rsps.add(responses.GET, f"{BASE}/time", status=502, body="<html>Bad gateway</html>")
    rsps.add(responses.GET, f"{BASE}/key", json={"ok": False, "error": "invalid_key"})
    rsps.add(responses.GET, f"{BASE}/wallet", json={"ok": False, "error": "invalid_key"})

    class Classified(ClockedToy):
        def server_time_ms(self, reply: Reply) -> int:
            if not reply.json_ok:
                raise TemporaryExchangeError(Category.EXCHANGE_UNAVAILABLE, "HTTP 502")
            return super().server_time_ms(reply)

    with pytest.raises(TemporaryExchangeError):
        Classified(clock=FakeClock()).run_checks(CREDENTIALS, Market.SPOT)


def test_a_skew_beyond_the_exchanges_limit_fails_as_the_clock_before_any_answer_is_read(
    rsps, rounds, monkeypatch
):
    # The signed answers came back (refused for their timestamp): the report blames the
    # clock, from the time call, and never the key.
    monkeypatch.setattr(ClockedToy, "max_clock_skew_ms", 120_000)
    ToyServer(rsps, offset_ms=180_000)

    report = clocked()

    assert report.category == Category.CLOCK_SKEW
    assert report.check(CheckName.CREDENTIALS).code == "clock_skew_beyond_limit"
    assert report.check(CheckName.BALANCES).outcome == Outcome.SKIPPED
    assert rounds == ONE_ROUND
    assert set(report.latencies_ms) == {"time"}


def test_a_test_that_stops_before_any_signed_call_still_sends_the_time_calls_alone(
    rsps, rounds, monkeypatch
):
    def prepare(self, ctx):
        ctx.stop(PermanentExchangeError(Category.INVALID_KEY, "not a key we can sign with"))

    monkeypatch.setattr(ClockedToy, "prepare", prepare)
    ToyServer(rsps, signed=False)  # an unregistered call fails the test

    report = clocked()

    assert report.category == Category.INVALID_KEY
    assert report.check(CheckName.REACHABLE).code == "reachable"
    assert rounds == [["time"]]


def test_an_error_before_anything_was_sent_lets_the_time_calls_speak_first(rsps, monkeypatch):
    def plan(self, ctx):
        raise PermanentExchangeError(Category.INVALID_KEY, "cannot sign")

    monkeypatch.setattr(ClockedToy, "plan", plan)
    rsps.add(responses.GET, f"{BASE}/time", body=requests.ConnectionError("reset by peer"))

    with pytest.raises(TemporaryExchangeError):
        clocked()


def test_demo_and_live_hosts_keep_their_own_skews(rsps, rounds):
    demo = "http://127.0.0.1:9999"
    ToyServer(rsps, offset_ms=30_000, base=demo)
    ToyServer(rsps, offset_ms=0)

    assert clocked(base_urls={"toy_demo": demo}, demo=True).is_online
    assert SKEWS.get(f"{demo}/time") == 30_000
    assert SKEWS.get(f"{BASE}/time") is None
    rounds.clear()

    assert clocked().is_online
    assert rounds == ONE_ROUND  # live: signed with our own clock, which is right there


def test_a_client_can_be_given_its_own_skew_memory(rsps, rounds):
    ToyServer(rsps, offset_ms=30_000)
    memory = SkewMemory()
    memory.put(f"{BASE}/time", 30_000)

    assert clocked(skew_memory=memory).is_online

    assert rounds == ONE_ROUND
    assert SKEWS.get(f"{BASE}/time") is None
