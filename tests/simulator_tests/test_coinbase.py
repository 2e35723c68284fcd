"""The Coinbase client against the simulator: real HTTP, JWTs verified as Coinbase does,
Coinbase's own answers. Every scenario; spot only (futures are not offered)."""

from __future__ import annotations

import pytest
import requests

from connections.exchanges import problems
from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    Outcome,
    TemporaryExchangeError,
)
from connections.exchanges.coinbase import CoinbaseClient
from tests.simulator import ExchangeSimulator, SimKey
from tests.simulator import data as sim_data
from tests.simulator_tests.conftest import checks


def run(sim: ExchangeSimulator, key: SimKey, market: Market = Market.SPOT, **options):
    client = CoinbaseClient(base_urls=sim.urls, **options)
    return client.run_checks(Credentials(key.api_key, key.secret), market)


def signed_calls(sim: ExchangeSimulator) -> list[str]:
    return [r.path for r in sim.requests if not r.path.endswith("/time")]


def test_healthy_key_is_online_with_what_coinbase_cannot_tell_said_so(sim):
    report = run(sim, sim.new_key("coinbase"))
    assert report.verdict == "online", report.to_dict()
    assert checks(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "credentials_accepted"),
        "balances": ("ok", "coinbase_portfolio_balances"),
        "trade_permission": ("ok", "spot_trade_enabled"),
        "futures_permission": ("skipped", "not_futures_market"),
        "withdrawal": ("ok", "withdrawal_disabled"),
        "ip_restriction": ("not_verifiable", "coinbase_ip_allowlist_hidden"),
        "key_expiry": ("not_verifiable", "not_reported"),
    }
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    assert report.free_balance("USDC") == 0
    assert report.raw_permissions == ["View", "Trade"]
    assert {(r.path, r.status) for r in sim.requests} == {
        ("/api/v3/brokerage/time", 200),
        ("/api/v3/brokerage/key_permissions", 200),
        ("/api/v3/brokerage/accounts", 200),
    }


def test_ed25519_key_in_the_portals_base64_form_is_online(sim):
    key = sim.add_key(
        "coinbase", sim_data.coinbase_key_name(), sim_data.coinbase_ed25519_private_key()
    )
    assert run(sim, key).verdict == "online"


def test_the_keys_portfolio_is_named(sim):
    key = sim.new_key("coinbase", portfolio_uuid="0f0e0d0c-aaaa-4bbb-8ccc-123456789abc")
    key.extra["portfolio_type"] = "CONSUMER"
    report = run(sim, key)
    assert report.check(CheckName.BALANCES).params["portfolio_uuid"] == (
        "0f0e0d0c-aaaa-4bbb-8ccc-123456789abc"
    )
    assert report.check(CheckName.BALANCES).params["portfolio_type"] == "CONSUMER"


def test_a_portfolio_without_a_type_is_named_by_its_id_not_a_question_mark(sim):
    key = sim.new_key("coinbase", portfolio_uuid="0f0e0d0c-aaaa-4bbb-8ccc-123456789abc")
    key.extra["portfolio_type"] = ""
    balances = run(sim, key).check(CheckName.BALANCES)
    assert balances.code == "coinbase_portfolio_id_balances"
    text = problems.check_detail(balances.code, balances.params)
    assert text.endswith("in the key's portfolio only: 0f0e0d0c-aaaa-4bbb-8ccc-123456789abc")
    assert "?" not in text


def test_key_without_trade_fails_as_no_trade_permission(sim):
    report = run(sim, sim.new_key("coinbase", trade=False))
    assert report.verdict == "failed"
    assert report.category == Category.NO_TRADE_PERMISSION
    assert checks(report)["trade_permission"] == ("failed", "trade_permission_missing")
    assert checks(report)["credentials"] == ("ok", "credentials_accepted")


def test_transfer_permission_fails_as_withdrawal_enabled(sim):
    report = run(sim, sim.new_key("coinbase", withdrawal=True))
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert checks(report)["withdrawal"] == ("failed", "withdrawal_enabled")
    assert "Transfer" in report.raw_permissions


def test_ip_allowlist_without_our_ip_cannot_be_told_from_a_bad_key(sim):
    # No IP whitelist to read, and Coinbase's refusal of a caller outside the allowlist is
    # undocumented (§10.8): the simulator answers 401 like any refused token, and the report
    # names the allowlist among the possible causes.
    key = sim.new_key("coinbase", ip_whitelist=["203.0.113.10"])
    sim.caller_ip = "192.0.2.44"
    report = run(sim, key)
    assert report.category == Category.INVALID_KEY
    assert checks(report)["credentials"] == ("failed", "coinbase_unauthorized")


def test_key_with_an_allowlist_containing_our_ip_is_online(sim):
    key = sim.new_key("coinbase", ip_whitelist=["127.0.0.1"])
    report = run(sim, key)
    assert report.verdict == "online"
    assert checks(report)["ip_restriction"][0] == "not_verifiable"


def test_ip_fault_with_an_explicit_ip_wording_reports_the_ip(sim):
    key = sim.new_key("coinbase")
    sim.set_fault(
        "coinbase",
        "ip_not_allowed",
        body={"error": "unauthorized", "message": "IP address 198.51.100.7 not allowed"},
    )
    report = run(sim, key)
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "198.51.100.7"
    assert checks(report)["ip_restriction"] == ("failed", "ip_not_whitelisted")


def test_frozen_account_fails_as_account_restricted(sim):
    key = sim.new_key("coinbase")
    sim.set_fault("coinbase", "account_frozen")
    report = run(sim, key)
    assert report.category == Category.ACCOUNT_RESTRICTED


def test_unknown_key_fails_as_invalid_key(sim):
    key = sim.new_key("coinbase")
    sim.remove_key("coinbase", key.api_key)
    report = run(sim, key)
    assert report.category == Category.INVALID_KEY
    assert checks(report)["credentials"] == ("failed", "coinbase_unauthorized")


def test_wrong_private_key_fails_as_invalid_key(sim):
    key = sim.new_key("coinbase")
    other = sim_data.coinbase_ec_private_key()
    report = CoinbaseClient(base_urls=sim.urls).run_checks(
        Credentials(key.api_key, other), Market.SPOT
    )
    assert report.category == Category.INVALID_KEY
    assert other not in report.message


def test_legacy_hmac_secret_fails_before_any_signed_call(sim):
    key = sim.new_key("coinbase")
    report = CoinbaseClient(base_urls=sim.urls).run_checks(
        Credentials(key.api_key, "0123456789abcdef0123456789abcdef"), Market.SPOT
    )
    assert report.category == Category.INVALID_KEY
    assert checks(report)["credentials"] == ("failed", "coinbase_not_cdp_key")
    assert signed_calls(sim) == []


def test_token_for_another_host_is_refused(sim):
    # The uri claim names the host: a token signed for api.coinbase.com is refused here, as
    # Coinbase refuses one signed for another host.
    key = sim.new_key("coinbase")
    client = CoinbaseClient(base_urls=sim.urls)
    from connections.exchanges import coinbase

    headers = coinbase.auth_headers(
        Credentials(key.api_key, key.secret),
        "GET",
        "https://api.coinbase.com",
        "/api/v3/brokerage/key_permissions",
        sim.server_time_ms("coinbase") // 1000,
    )
    url = client.url("coinbase", "/api/v3/brokerage/key_permissions")
    assert requests.get(url, headers=headers, timeout=5).status_code == 401


def test_small_skew_is_signed_with_the_exchange_clock(sim):
    key = sim.new_key("coinbase")
    sim.set_fault("coinbase", "clock_skew", offset_ms=30_000)
    report = run(sim, key)
    assert report.verdict == "online", report.to_dict()
    assert checks(report)["reachable"][1] == "clock_skew_high"
    assert report.clock_skew_ms == pytest.approx(30_000, abs=2_000)


def test_skew_beyond_the_jwt_lifetime_fails_as_the_clock_not_as_a_refused_key(sim):
    key = sim.new_key("coinbase")
    sim.set_fault("coinbase", "clock_skew", offset_ms=-600_000)
    report = run(sim, key)
    assert report.category == Category.CLOCK_SKEW
    assert checks(report)["credentials"] == ("failed", "clock_skew_beyond_limit")
    assert checks(report)["balances"] == ("skipped", "not_run")
    # The signed calls went out with the time call, signed with our clock (nothing was
    # remembered), and Coinbase refused their tokens; the skew was judged before any of those
    # answers was read, and nothing was sent again.
    assert sorted(signed_calls(sim)) == [
        "/api/v3/brokerage/accounts",
        "/api/v3/brokerage/key_permissions",
    ]
    assert {r.status for r in sim.requests if not r.path.endswith("/time")} == {401}


def test_futures_are_not_offered(sim):
    report = run(sim, sim.new_key("coinbase"), Market.FUTURES)
    assert report.verdict == "failed"
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert checks(report)["credentials"] == ("failed", "coinbase_spot_only")
    assert signed_calls(sim) == []


def test_key_without_view_scope_fails_balances(sim):
    report = run(sim, sim.new_key("coinbase", can_view=False))
    assert checks(report)["balances"] == ("failed", "read_permission_missing")
    assert report.check(CheckName.BALANCES).outcome == Outcome.FAILED


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("maintenance", {}),
        ("html_502", {}),
        ("reset", {}),
        ("malformed_json", {"path": "/api/v3/brokerage/key_permissions"}),
        ("truncated_json", {"path": "/api/v3/brokerage/accounts"}),
        ("ip_banned", {}),
    ],
)
def test_exchange_side_faults_are_temporary(sim, fault, options):
    key = sim.new_key("coinbase")
    sim.set_fault("coinbase", fault, **options)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key)
    assert caught.value.category == Category.EXCHANGE_UNAVAILABLE
    assert key.secret not in caught.value.message


def test_rate_limit_is_temporary_with_retry_after(sim):
    key = sim.new_key("coinbase")
    sim.set_fault("coinbase", "rate_limited", retry_after=2)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key)
    assert caught.value.retry_after == 2


def test_enforced_private_quota_is_temporary(sim):
    key = sim.new_key("coinbase")
    sim.set_rate_limit("coinbase", "private", limit=1)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key)
    assert caught.value.retry_after is not None
    assert sim.stats()["coinbase"]["rate_limited"] == 1


def test_timeout_is_temporary(sim):
    key = sim.new_key("coinbase")
    sim.set_fault("coinbase", "timeout", seconds=2, path="/api/v3/brokerage/accounts")
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, read_timeout=0.3)
    assert "timeout" in caught.value.message


def test_down_exchange_is_temporary(sim):
    key = sim.new_key("coinbase")
    sim.set_fault("coinbase", "maintenance", status=500)
    with pytest.raises(TemporaryExchangeError):
        run(sim, key)


def test_seeded_demo_keys_use_the_sdks_published_test_keys(sim):
    keys = [key for key in sim.seed_demo_keys() if key.exchange == "coinbase"]
    healthy, transfer = keys
    assert run(sim, healthy).verdict == "online"
    assert run(sim, transfer).category == Category.WITHDRAWAL_ENABLED


def test_refused_ed25519_key_is_told_coinbase_may_want_ecdsa(sim):
    key = sim.add_key(
        "coinbase", sim_data.coinbase_key_name(), sim_data.coinbase_ed25519_private_key()
    )
    sim.remove_key("coinbase", key.api_key)
    report = run(sim, key)
    assert report.category == Category.INVALID_KEY
    assert checks(report)["credentials"] == ("failed", "coinbase_unauthorized_ed25519")
