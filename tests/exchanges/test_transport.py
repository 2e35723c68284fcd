"""Transport faults, rate limits, the time budget and concurrency, through real clients."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses

from connections.exchanges.base import Category, Market, TemporaryExchangeError
from connections.exchanges.http import (
    SKEW_MAX_AGE_S,
    SKEW_MEMORY_PRUNE_AT,
    SkewMemory,
    extract_ip,
    parse_retry_after,
)
from connections.exchanges.kucoin import KucoinClient
from connections.exchanges.mexc import MexcClient

from .conftest import NOW, NOW_MS, FakeClock, connection_refused, dns_failure, load

TIME_URL = "https://api.mexc.com/api/v3/time"


def mexc_time():
    body = load("mexc_time")
    body["serverTime"] = NOW_MS
    return body


def run_mexc(credentials, **kwargs):
    return MexcClient(clock=kwargs.pop("clock", FakeClock()), **kwargs).run_checks(
        credentials, Market.SPOT
    )


def test_html_error_page_is_temporary(rsps, mexc_credentials):
    rsps.add(responses.GET, TIME_URL, body="<html><body>502 Bad Gateway</body></html>", status=502)

    with pytest.raises(TemporaryExchangeError, match="HTML page") as excinfo:
        run_mexc(mexc_credentials)

    assert excinfo.value.category == Category.EXCHANGE_UNAVAILABLE


def test_waf_403_page_is_temporary_with_retry_after(rsps, mexc_credentials):
    # MEXC: "HTTP 403 = WAF limit violated" (exchanges.md §3.2).
    rsps.add(responses.GET, TIME_URL, json=mexc_time())
    rsps.add(
        responses.GET,
        "https://api.mexc.com/api/v3/account",
        body="<!DOCTYPE html><title>Access denied</title>",
        status=403,
        headers={"Retry-After": "60"},
    )
    rsps.add(responses.POST, "https://api.mexc.com/api/v3/order/test", json={})

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run_mexc(mexc_credentials)

    assert excinfo.value.retry_after == 60


def test_read_timeout_is_temporary(rsps, mexc_credentials):
    rsps.add(responses.GET, TIME_URL, body=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(TemporaryExchangeError, match="timeout"):
        run_mexc(mexc_credentials)


def test_connectionconnection_refused_is_temporary(rsps, mexc_credentials):
    rsps.add(
        responses.GET, TIME_URL, body=requests.exceptions.ConnectionError("Connection refused")
    )

    with pytest.raises(TemporaryExchangeError, match="connection failed"):
        run_mexc(mexc_credentials)


@pytest.mark.parametrize(
    "body",
    [
        "{not json at all",
        '{"canTrade": true, "balances": [{"asset": "USDT", "free": "1',  # truncated
        "",
    ],
)
def test_malformed_or_truncated_json_is_temporary(rsps, mexc_credentials, body):
    rsps.add(responses.GET, TIME_URL, json=mexc_time())
    rsps.add(responses.GET, "https://api.mexc.com/api/v3/account", body=body, status=200)
    rsps.add(responses.POST, "https://api.mexc.com/api/v3/order/test", json={})

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run_mexc(mexc_credentials)

    assert excinfo.value.category == Category.EXCHANGE_UNAVAILABLE


def test_success_without_the_documented_fields_is_temporary(rsps, mexc_credentials):
    rsps.add(responses.GET, TIME_URL, json={"serverTime": "soon"})

    with pytest.raises(TemporaryExchangeError, match="no server time"):
        run_mexc(mexc_credentials)


def test_429_honours_retry_after_seconds(rsps, mexc_credentials):
    rsps.add(
        responses.GET,
        TIME_URL,
        json={"code": 429, "msg": "Too Many Requests"},
        status=429,
        headers={"Retry-After": "30"},
    )

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run_mexc(mexc_credentials)

    assert excinfo.value.retry_after == 30


def test_418_ip_ban_is_temporary_with_retry_after(rsps, mexc_credentials):
    # MEXC: repeated violations → automated IP ban with HTTP 418 and Retry-After (§3.8).
    rsps.add(responses.GET, TIME_URL, body="", status=418, headers={"Retry-After": "120"})

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run_mexc(mexc_credentials)

    assert excinfo.value.retry_after == 120


def test_redirect_is_not_followed(rsps, mexc_credentials):
    rsps.add(responses.GET, TIME_URL, status=302, headers={"Location": "https://example.com/"})

    with pytest.raises(TemporaryExchangeError):
        run_mexc(mexc_credentials)


def test_retry_after_http_date():
    when = datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=90)
    headers = {"Retry-After": format_datetime(when, usegmt=True)}
    assert parse_retry_after(headers, now=NOW) == pytest.approx(90)


def test_retry_after_absent_or_garbage():
    assert parse_retry_after({}) is None
    assert parse_retry_after({"Retry-After": "soon-ish"}) is None


@pytest.mark.parametrize(
    ("text", "ip"),
    [
        ("IP [203.0.113.77] not in the whitelist", "203.0.113.77"),
        ("request ip 198.51.100.4 denied", "198.51.100.4"),
        ("IP [2001:db8::1] not in the whitelist", "2001:db8::1"),
        ("ipWhitelist 203.**.154", None),
        ("version 1.2.3.4.5", None),
        ("IP non white list", None),
    ],
)
def test_extract_ip(text, ip):
    assert extract_ip(text) == ip


def test_time_budget_exceeded_is_temporary(rsps, mexc_credentials):
    rsps.add(responses.GET, TIME_URL, json=mexc_time())
    rsps.add(responses.GET, "https://api.mexc.com/api/v3/account", json=load("mexc_account"))
    rsps.add(responses.POST, "https://api.mexc.com/api/v3/order/test", json={})

    # Every reading of the clock moves it 10 s on: building and signing the calls read it, so
    # the 25 s budget has run out before the round goes out.
    with pytest.raises(TemporaryExchangeError, match="time budget") as excinfo:
        run_mexc(mexc_credentials, clock=FakeClock(step=10))

    assert excinfo.value.category == Category.EXCHANGE_UNAVAILABLE


class ScriptedSession(requests.Session):
    """Answers by path without any network, recording timeouts and concurrency."""

    def __init__(self, answers: dict[str, dict], barrier: threading.Barrier | None = None):
        super().__init__()
        self.answers = answers
        self.barrier = barrier
        self.timeouts: list[tuple[float, float]] = []
        self.threads: set[str] = set()

    def request(self, method, url, **kwargs):
        self.timeouts.append(kwargs["timeout"])
        path = requests.utils.urlparse(url).path
        if self.barrier is not None and path != "/api/v3/time":
            # Both signed calls must be in flight at the same time to pass this point.
            self.barrier.wait()
            self.threads.add(threading.current_thread().name)
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(self.answers[path]).encode()
        response.url = url
        return response


def test_signed_calls_run_concurrently(mexc_credentials):
    session = ScriptedSession(
        {
            "/api/v3/time": mexc_time(),
            "/api/v3/account": load("mexc_account"),
            "/api/v3/order/test": {},
        },
        barrier=threading.Barrier(2, timeout=5),
    )

    report = run_mexc(mexc_credentials, session=session)

    assert report.verdict == "online"
    assert len(session.threads) == 2


def test_timeouts_are_explicit_and_capped_by_the_budget(mexc_credentials):
    session = ScriptedSession(
        {
            "/api/v3/time": mexc_time(),
            "/api/v3/account": load("mexc_account"),
            "/api/v3/order/test": {},
        }
    )

    run_mexc(mexc_credentials, session=session, budget=2, connect_timeout=3.05, read_timeout=10)

    assert session.timeouts == [(2, 2)] * 3


def test_default_timeouts_are_sent(mexc_credentials):
    session = ScriptedSession(
        {
            "/api/v3/time": mexc_time(),
            "/api/v3/account": load("mexc_account"),
            "/api/v3/order/test": {},
        }
    )

    run_mexc(mexc_credentials, session=session)

    assert session.timeouts == [(3.05, 10.0)] * 3


def test_kucoin_cloudflare_rate_limit_page_is_temporary(rsps, kucoin_credentials):
    # 1015: Cloudflare's IP rate limit comes as an HTML page (exchanges.md §2.7).
    rsps.add(
        responses.GET,
        "https://api.kucoin.com/api/v1/timestamp",
        body="<html>error code: 1015</html>",
        status=429,
        headers={"Retry-After": "30"},
    )

    with pytest.raises(TemporaryExchangeError) as excinfo:
        KucoinClient(clock=FakeClock()).run_checks(kucoin_credentials, Market.SPOT)

    assert excinfo.value.retry_after == 30


def test_kucoin_quota_header_is_no_retry_hint_for_other_errors(rsps, kucoin_credentials):
    # KuCoin sends its quota countdown on every answer (§2.8); a garbled 200 is no rate limit.
    rsps.add(
        responses.GET,
        "https://api.kucoin.com/api/v1/timestamp",
        body='{"code": "200000", "da',
        headers={"gw-ratelimit-reset": "29000"},
    )

    with pytest.raises(TemporaryExchangeError) as excinfo:
        KucoinClient(clock=FakeClock()).run_checks(kucoin_credentials, Market.SPOT)

    assert excinfo.value.retry_after is None


def test_quota_reset_header_counts_only_for_rate_limits():
    headers = {"gw-ratelimit-reset": "2500"}
    assert parse_retry_after(headers) is None
    assert parse_retry_after(headers, rate_limited=True) == 2.5


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e309", "-5", "-0.5"])
def test_retry_after_rejects_non_finite_and_negative_values(value):
    """Issue 14: `nan` slipped through max() as 0 and `inf` became an endless wait."""
    assert parse_retry_after({"Retry-After": value}) is None
    assert parse_retry_after({"gw-ratelimit-reset": value}, rate_limited=True) is None


def test_retry_after_in_the_past_means_now():
    when = datetime.fromtimestamp(NOW, UTC) - timedelta(seconds=90)
    assert parse_retry_after({"Retry-After": format_datetime(when, usegmt=True)}, now=NOW) == 0


# --- Our server could not reach the exchange (issue 19 #5) ------------------------------------


@pytest.mark.parametrize(
    ("make_error", "cause"),
    [
        (dns_failure, "name lookup failed"),
        (connection_refused, "connection refused"),
        (lambda: requests.exceptions.SSLError("certificate verify failed"), "TLS failed"),
        (lambda: requests.exceptions.ProxyError("proxy refused"), "proxy failed"),
        (lambda: requests.exceptions.ConnectTimeout("connect timed out"), "connect timed out"),
    ],
)
def test_no_route_to_the_exchange_is_our_network_not_the_exchange(
    rsps, mexc_credentials, make_error, cause
):
    rsps.add(responses.GET, TIME_URL, body=make_error())

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run_mexc(mexc_credentials)

    error = excinfo.value
    assert error.category == Category.EXCHANGE_UNREACHABLE and error.temporary
    assert cause in error.message and "api.mexc.com/api/v3/time" in error.message


def test_unreachable_in_the_signed_round_is_our_network_too(rsps, mexc_credentials):
    rsps.add(responses.GET, TIME_URL, json=mexc_time())
    rsps.add(responses.GET, "https://api.mexc.com/api/v3/account", body=connection_refused())
    rsps.add(responses.POST, "https://api.mexc.com/api/v3/order/test", json={})

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run_mexc(mexc_credentials)

    assert excinfo.value.category == Category.EXCHANGE_UNREACHABLE
    assert mexc_credentials.api_secret not in excinfo.value.message


def test_a_connection_dropped_by_the_exchange_is_the_exchange(rsps, mexc_credentials):
    """Reached, then reset mid-answer: the exchange answered badly, not our network."""
    from urllib3.exceptions import ProtocolError

    dropped = requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer"))
    )
    rsps.add(responses.GET, TIME_URL, body=dropped)

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run_mexc(mexc_credentials)

    assert excinfo.value.category == Category.EXCHANGE_UNAVAILABLE


def test_kucoindns_failure_is_our_network(rsps, kucoin_credentials):
    rsps.add(responses.GET, "https://api.kucoin.com/api/v1/timestamp", body=dns_failure())

    with pytest.raises(TemporaryExchangeError) as excinfo:
        KucoinClient(clock=FakeClock()).run_checks(kucoin_credentials, Market.SPOT)

    assert excinfo.value.category == Category.EXCHANGE_UNREACHABLE


# --- the clock skews a process remembers ---------------------------------------------------


def test_the_memory_is_keyed_by_url_and_forgets_after_its_max_age():
    now = [1000.0]
    memory = SkewMemory(clock=lambda: now[0])
    memory.put("https://a.example/time", 1500)

    assert memory.get("https://a.example/time") == 1500
    assert memory.get("https://b.example/time") is None
    assert memory.get("http://127.0.0.1:8001/time") is None
    now[0] += SKEW_MAX_AGE_S
    assert memory.get("https://a.example/time") == 1500
    now[0] += 1
    assert memory.get("https://a.example/time") is None
    memory.put("https://a.example/time", -200)
    assert memory.get("https://a.example/time") == -200
    memory.clear()
    assert memory.get("https://a.example/time") is None


def test_the_memory_prunes_expired_entries_once_it_grows():
    now = [0.0]
    memory = SkewMemory(max_age_s=10, clock=lambda: now[0])
    for n in range(SKEW_MEMORY_PRUNE_AT):
        memory.put(f"http://127.0.0.1:{n}/time", n)
    now[0] = 11
    memory.put("https://a.example/time", 5)
    assert len(memory._skews) == 1


def test_the_memory_is_shared_by_threads():
    memory = SkewMemory()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(500):
                memory.put(f"https://{n % 4}.example/time", i)
                memory.get(f"https://{(n + 1) % 4}.example/time")
        except BaseException as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert [memory.get(f"https://{n}.example/time") for n in range(4)] == [499] * 4
