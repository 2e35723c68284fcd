"""The small HTTP layer the exchange modules share.

One `requests.Session` per client, explicit (connect, read) timeouts on every call capped by
what is left of the test's total time budget, JSON decoded with exact decimals, latency
measured, transport faults and non-JSON answers mapped to `TemporaryExchangeError`.
Independent calls of a round run concurrently, so a whole test costs about one round trip
(the server time goes out with the first signed calls, `flow.py`); `SkewMemory` keeps the
clock skews this process measured, which those first signed calls are signed with.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from .base import (
    Category,
    CheckReport,
    Credentials,
    ExchangeError,
    Market,
    ReportBuilder,
    TemporaryExchangeError,
    make_error,
)

logger = logging.getLogger(__name__)

USER_AGENT = "BackFuture/1.0"

Clock = Callable[[], float]


@dataclass(frozen=True)
class Call:
    """One planned HTTP request, already signed."""

    name: str  # the key under which its latency is reported, e.g. "account"
    method: str
    url: str  # complete, including the query string that was signed
    # Signed headers stay out of reprs: KC-API-PASSPHRASE is as good as the passphrase.
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    body: str = ""


@dataclass
class Reply:
    name: str
    status: int
    headers: Mapping[str, str] = field(repr=False)
    text: str = field(repr=False)
    data: Any = field(repr=False)  # the decoded JSON, or None when `json_ok` is False
    json_ok: bool
    latency_ms: int
    sent_at: float  # clock seconds just before sending
    received_at: float  # clock seconds just after the answer


# The largest answer a connection test reads. The test's answers are small (a key
# description, one page of balances: tens of kilobytes); anything beyond this is not an answer
# we can use, and reading it whole would let one host fill a worker's memory.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


def decode_json(text: str) -> tuple[bool, Any]:
    # Exact decimals: balances and KuCoin futures equity are JSON numbers, not strings.
    # RecursionError: JSON nested deeper than the parser's stack is garbled, like any other.
    try:
        return True, json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        return False, None


def read_bounded(response: requests.Response, limit: int = MAX_ANSWER_BYTES) -> str | None:
    """The body of a streamed response as text, or None past `limit` bytes (then closed)."""
    if isinstance(getattr(response, "_content", False), bytes):
        # Already read (a response built in memory rather than streamed).
        return response.text if len(response.content) <= limit else None
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > limit:
            response.close()
            return None
        chunks.append(chunk)
    response._content = b"".join(chunks)  # what `response.text` decodes
    return response.text


def parse_retry_after(
    headers: Mapping[str, str], *, now: float | None = None, rate_limited: bool = False
) -> float | None:
    """Seconds to wait, from `Retry-After` (seconds or HTTP date; RFC 9110 §10.2.3).

    MEXC sends it on 418/429 (exchanges.md §3.8). For rate-limit answers only, KuCoin's
    quota reset countdown `gw-ratelimit-reset` (milliseconds, §2.8, read by the official SDK)
    is the fallback: it comes on every answer, so on other errors it would mean nothing.
    """
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                current = now if now is not None else time.time()
                # A date in the past means "now" (RFC 9110 §10.2.3).
                return max(0.0, when.timestamp() - current)
        else:
            return _seconds_or_none(seconds)
    reset = headers.get("gw-ratelimit-reset") if rate_limited else None
    if reset:
        try:
            return _seconds_or_none(float(reset) / 1000)
        except ValueError:
            return None
    return None


def _seconds_or_none(seconds: float) -> float | None:
    """A wait we can honour: finite and not negative. `nan` and `inf` parse as floats (and
    max(0, nan) is 0); a negative delay is not an HTTP delay-seconds. Both are ignored."""
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_BRACKETED = re.compile(r"\[([0-9A-Fa-f:.]+)\]")


def extract_ip(text: str) -> str | None:
    """The caller IP an exchange echoes in an IP-whitelist error.

    MEXC: `IP [1.2.3.4] not in the whitelist` (mexcdevelop/mexc-api-sdk#87, exchanges.md §3.7);
    KuCoin messages may carry it too. Masked values such as `203.**.154` are not IPs.
    """
    for candidate in [*_BRACKETED.findall(text), *_IPV4.findall(text)]:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


def rebuild_pem(text: str) -> str | None:
    """The first PEM block in `text` with its line breaks back, for keys pasted into a
    password input (which drops them, or turns them into spaces): header, the base64 body in
    lines of 64, footer (RFC 7468 §2), no final newline. None when `text` holds no PEM."""
    match = _PEM.search(text)
    if match is None:
        return None
    label, body = match.group(1).strip(), "".join(match.group(2).split())
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith("<") or "<html" in head or "<!doctype" in head


def describe_body(reply: Reply) -> str:
    if not reply.text.strip():
        return "empty response"
    if looks_like_html(reply.text):
        return "HTML page instead of JSON"
    return "malformed or truncated JSON"


def transport_fallback(reply: Reply, what: str, detail: str = "") -> ExchangeError:
    """Classification of last resort, by HTTP status, for answers without a known code.

    A 401 means the exchange refused the credentials (KuCoin docs: "401 Invalid API Key",
    exchanges.md §2.7). Everything else without a recognised code is treated as a temporary
    fault (5xx, 403 WAF pages, 418 IP bans, 429 rate limits, garbled bodies): the Celery task
    retries and, if it persists, the connection fails as "exchange unavailable" rather than
    being blamed on the key or marked online by mistake.
    """
    retry_after = parse_retry_after(reply.headers, rate_limited=reply.status in (418, 429))
    if not reply.json_ok:
        return TemporaryExchangeError(
            Category.EXCHANGE_UNAVAILABLE,
            f"HTTP {reply.status} from {what}: {describe_body(reply)}",
            retry_after=retry_after,
        )
    suffix = f": {detail}" if detail else ""
    if reply.status == 401:
        return make_error(Category.INVALID_KEY, f"HTTP 401 from {what}{suffix}")
    return TemporaryExchangeError(
        Category.EXCHANGE_UNAVAILABLE,
        f"HTTP {reply.status} from {what}{suffix}",
        retry_after=retry_after,
    )


def coded_error(
    reply: Reply,
    what: str,
    category: Category | None,
    text: str,
    *,
    code: str | None,
    message: str,
    retry_after: float | None,
    detail: str | None = None,
    ip_from: Callable[[str], str | None] = extract_ip,
) -> ExchangeError:
    """The error of an answer with an exchange error code, once the exchange's table or the
    message gave `category` (or nothing).

    Nothing recognised: HTTP 401 still says the key was refused; anything else is temporary
    ("unrecognised answer"), retried and never blamed on the key. `retry_after` is kept for
    temporary errors only, and an IP refusal carries the caller IP `ip_from` finds in the
    message.
    """
    if category is None:
        if reply.status != 401:
            return TemporaryExchangeError(
                Category.EXCHANGE_UNAVAILABLE,
                f"unrecognised answer from {what} (HTTP {reply.status}): {text}",
                exchange_code=code,
                retry_after=retry_after,
            )
        category = Category.INVALID_KEY
    return make_error(
        category,
        text,
        exchange_code=code,
        retry_after=retry_after if category.is_temporary else None,
        reported_ip=ip_from(message) if category == Category.IP_NOT_ALLOWED else None,
        detail=detail,
    )


# Messages that are unambiguous even when the exchange's code is not in our tables. Only
# these make an unknown code permanent; anything else is treated as temporary.
_MESSAGE_RULES: tuple[tuple[re.Pattern[str], Category], ...] = (
    (
        re.compile(r"maintenance|maintain|busy|try again|too many|frequen|rate.?limit", re.I),
        Category.EXCHANGE_UNAVAILABLE,
    ),
    (
        re.compile(r"white\s*list|\bip\b.*(not allowed|denied|forbidden)|invalid request ip", re.I),
        Category.IP_NOT_ALLOWED,
    ),
    (re.compile(r"timestamp|recv.?window|request.?time", re.I), Category.CLOCK_SKEW),
    (re.compile(r"permission|access denied", re.I), Category.NO_TRADE_PERMISSION),
    (
        re.compile(r"signature|api.?key|access.?key|passphrase|unauthori[sz]ed", re.I),
        Category.INVALID_KEY,
    ),
    (
        re.compile(r"frozen|abnormal|suspended|banned|user status", re.I),
        Category.ACCOUNT_RESTRICTED,
    ),
)


def category_from_message(message: str) -> Category | None:
    for pattern, category in _MESSAGE_RULES:
        if pattern.search(message):
            return category
    return None


def safe_where(url: str) -> str:
    """Host and path for messages: never the query, which carries timestamps and signatures."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def unreachable_cause(exc: BaseException) -> str | None:
    """What kept our server from connecting to the exchange; None if a connection was made.

    requests wraps urllib3's errors: the cause of a failed connection sits in
    `MaxRetryError.reason` and, below that, in the exception chain (urllib3 raises
    `NameResolutionError`/`NewConnectionError` from the socket's `gaierror`/`OSError`). A
    connection the exchange reset or closed mid-answer (`ProtocolError`) was made: that is the
    exchange answering badly, not our network.
    """
    if isinstance(exc, requests.exceptions.ProxyError):
        return "proxy failed"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS failed"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timed out"
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NameResolutionError | socket.gaierror):
            return "name lookup failed"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, ssl.SSLError):
            return "TLS failed"
        if isinstance(current, NewConnectionError) and not _chain_has(
            current, (ConnectionRefusedError, socket.gaierror)
        ):
            return "no connection"
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__]
        linked += [arg for arg in current.args if isinstance(arg, BaseException)]
        pending += [item for item in linked if isinstance(item, BaseException)]
    return None


def _chain_has(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, kinds):
            return True
        current = current.__cause__ or current.__context__
    return False


def answered_badly(exc: requests.RequestException, method: str, where: str) -> ExchangeError:
    """A connection was made, but no proper answer came back (timeout, reset, garbled)."""
    if isinstance(exc, requests.Timeout):
        what = "timeout"
    elif isinstance(exc, requests.ConnectionError):
        what = "connection failed"
    else:
        what = "request failed"
    return TemporaryExchangeError(
        Category.EXCHANGE_UNAVAILABLE, f"{what} ({type(exc).__name__}) on {method} {where}"
    )


class Pacing(Protocol):
    """The worker's hold on the exchange's request budget (connections/throttle.Slot)."""

    def round(self) -> None:
        """A set of calls is about to go out (`Transport.send_all`)."""

    def call(self) -> None:
        """In the call's own thread, right before it goes out; may wait, or raise."""

    def resend(self) -> None:
        """Signed calls are about to go out a second time, their first answers dropped
        (`flow.py`): another slot for them; may wait, or raise."""


class Transport:
    """Sends calls for one connection test within its time budget."""

    def __init__(
        self,
        session: requests.Session,
        *,
        connect_timeout: float,
        read_timeout: float,
        budget: float,
        clock: Clock,
        pacing: Pacing | None = None,
    ) -> None:
        self.session = session
        self.pacing = pacing
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.budget = budget
        self.clock = clock
        self.deadline = clock() + budget

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def send(self, call: Call) -> Reply:
        if self.pacing is not None:
            # In the call's own thread, as close to the request as our code gets (it may
            # wait for another slot, so the time budget is read after it).
            self.pacing.call()
        where = safe_where(call.url)
        remaining = self.remaining()
        if remaining <= 0:
            raise TemporaryExchangeError(
                Category.EXCHANGE_UNAVAILABLE,
                f"time budget of {self.budget:g} s exhausted before {call.method} {where}",
            )
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **call.headers}
        sent_at = self.clock()
        started = time.perf_counter()
        try:
            response = self.session.request(
                call.method,
                call.url,
                headers=headers,
                data=call.body.encode() if call.body else None,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
            text = read_bounded(response)
        except requests.RequestException as exc:
            cause = unreachable_cause(exc)
            if cause is None:
                raise answered_badly(exc, call.method, where) from None
            # No connection was made: our DNS, egress, proxy or TLS, not the exchange's answer.
            # `from None`: the chained exception would carry the full URL with its signature.
            raise TemporaryExchangeError(
                Category.EXCHANGE_UNREACHABLE,
                f"could not reach the exchange: {cause} ({type(exc).__name__}) on "
                f"{call.method} {where}",
            ) from None
        if text is None:
            raise TemporaryExchangeError(
                Category.EXCHANGE_UNAVAILABLE,
                f"answer larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MB on {call.method} "
                f"{where} (HTTP {response.status_code})",
            )
        latency_ms = round((time.perf_counter() - started) * 1000)
        received_at = self.clock()
        json_ok, data = decode_json(text)
        logger.debug(
            "exchange call %s %s %s -> HTTP %s in %s ms",
            call.name,
            call.method,
            where,
            response.status_code,
            latency_ms,
        )
        return Reply(
            name=call.name,
            status=response.status_code,
            headers=response.headers,
            text=text,
            data=data,
            json_ok=json_ok,
            latency_ms=latency_ms,
            sent_at=sent_at,
            received_at=received_at,
        )

    def send_all(self, calls: Iterable[Call]) -> dict[str, Reply | ExchangeError]:
        """Send independent calls at once; each result is a reply or the error it raised."""
        calls = list(calls)
        if not calls:
            return {}
        if self.pacing is not None:
            self.pacing.round()
        results: dict[str, Reply | ExchangeError] = {}
        with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="exchange") as pool:
            futures = {call.name: pool.submit(self.send, call) for call in calls}
            for name, future in futures.items():
                try:
                    results[name] = future.result()
                except ExchangeError as exc:
                    results[name] = exc
        return results


def server_skew_ms(reply: Reply, server_ms: int) -> int:
    """Server time minus our clock at the middle of the request (NTP-style midpoint)."""
    local_mid_ms = (reply.sent_at + reply.received_at) * 500
    return round(server_ms - local_mid_ms)


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def decimal_string(value: Any) -> str | None:
    """A plain decimal string ("40.12618754", never "4E+1"); None when not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    if number == 0:
        return "0"
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def utc_now(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


# A report is stored with every test; a dust-filled account should not bloat it.
MAX_BALANCE_ROWS = 50
QUOTE_ASSET = "USDT"


def summarise_balances(
    rows: Mapping[str, tuple[Decimal, Decimal]],
    fields: tuple[str, str],
    *,
    keep: Iterable[str] = (QUOTE_ASSET,),
) -> list[dict[str, str]]:
    """Non-zero assets, plus the quote assets of `keep` when present (USDT by default), those
    first in that order, then by name.

    `rows` maps an asset to two amounts, named by `fields` in the summary: spot
    ("free", "locked"), futures ("equity", "available").
    """
    first_assets = [asset for asset in dict.fromkeys(keep) if asset in rows]
    kept = [
        asset
        for asset, (first, second) in rows.items()
        if asset not in first_assets and (first != 0 or second != 0)
    ]
    kept = first_assets + sorted(kept)
    return [
        {
            "asset": asset,
            fields[0]: decimal_string(rows[asset][0]) or "0",
            fields[1]: decimal_string(rows[asset][1]) or "0",
        }
        for asset in kept[:MAX_BALANCE_ROWS]
    ]


def to_decimal(value: Any) -> Decimal | None:
    text = decimal_string(value)
    return Decimal(text) if text is not None else None


def summarise_asset_rows(
    rows: Iterable[Any],
    what: str,
    *,
    asset: str,
    amounts: tuple[str, str],
    fields: tuple[str, str] = ("free", "locked"),
    noun: str = "balance",
) -> list[dict[str, str]]:
    """`summarise_balances` of a list of one-asset rows: `rows[i][asset]` names the asset,
    `amounts` the two fields read as `fields`. Rows that are not objects or name no asset are
    skipped (Binance and MEXC list every asset, empty ones included); an amount that is not
    a number is `unexpected`, named "unreadable <noun> for <asset>"."""
    parsed: dict[str, tuple[Decimal, Decimal]] = {}
    for row in rows:
        if not isinstance(row, dict) or not row.get(asset):
            continue
        first, second = to_decimal(row.get(amounts[0])), to_decimal(row.get(amounts[1]))
        if first is None or second is None:
            raise unexpected(what, f"unreadable {noun} for {row.get(asset)}")
        parsed[str(row[asset]).upper()] = (first, second)
    return summarise_balances(parsed, fields)


def unexpected(what: str, detail: str) -> TemporaryExchangeError:
    """A 200 answer without the fields the documentation promises: retry rather than guess."""
    return TemporaryExchangeError(
        Category.EXCHANGE_UNAVAILABLE, f"unexpected response from {what}: {detail}"
    )


# How long a measured skew is used to sign a test's first signed calls (sent together with
# the time call that measures it afresh: flow.py). Clocks synchronised by NTP drift by
# milliseconds over this time; an older entry is ignored and the test signs with our own
# clock (skew 0), as on a cold start.
SKEW_MAX_AGE_S = 600.0
# Entries beyond this many are pruned of expired ones on the next write. The keys are the
# configured hosts' time URLs (a few dozen), so this only bounds a process that is handed
# ever new base URLs (a test run starting simulators on fresh ports).
SKEW_MEMORY_PRUNE_AT = 256


class SkewMemory:
    """The clock skew (server time minus ours, ms) this process last measured, by the time
    call's URL: demo hosts, overridden base URLs and simulator ports never mix. Shared by
    the worker's threads (one lock); an entry older than `max_age_s` is not returned."""

    def __init__(self, max_age_s: float = SKEW_MAX_AGE_S, *, clock: Clock = time.monotonic) -> None:
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._skews: dict[str, tuple[int, float]] = {}

    def get(self, url: str) -> int | None:
        """The skew last measured on `url`, or None: none yet, or older than `max_age_s`."""
        with self._lock:
            entry = self._skews.get(url)
            now = self._clock()
        if entry is None or now - entry[1] > self.max_age_s:
            return None
        return entry[0]

    def put(self, url: str, skew_ms: int) -> None:
        with self._lock:
            now = self._clock()
            self._skews[url] = (int(skew_ms), now)
            if len(self._skews) > SKEW_MEMORY_PRUNE_AT:
                self._skews = {
                    key: entry
                    for key, entry in self._skews.items()
                    if now - entry[1] <= self.max_age_s
                }

    def clear(self) -> None:
        with self._lock:
            self._skews.clear()


# The process's memory, used by every client unless one is given (`skew_memory`).
SKEWS = SkewMemory()


class HttpExchangeClient:
    """Construction shared by the exchange clients: base URLs, timeouts, session, clock."""

    slug = ""
    # Keys of the settings' EXCHANGE_URLS that this client reads, with documented defaults.
    default_base_urls: Mapping[str, str] = {}

    def __init__(
        self,
        base_urls: Mapping[str, str] | None = None,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 10,
        budget: float = 25,
        session: requests.Session | None = None,
        clock: Clock = time.time,
        skew_memory: SkewMemory | None = None,
        pacing: Pacing | None = None,
    ) -> None:
        urls = dict(self.default_base_urls)
        for key in urls:
            override = (base_urls or {}).get(key)
            if override:
                urls[key] = override
        self.base_urls = {key: url.rstrip("/") for key, url in urls.items()}
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self.budget = float(budget)
        self.session = session or requests.Session()
        self.clock = clock
        self.skew_memory = skew_memory if skew_memory is not None else SKEWS
        # The worker's throttle slot: each call checks it right before it goes out.
        self.pacing = pacing

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_urls!r})"

    def run_checks(self, credentials: Credentials, market: Market) -> CheckReport:
        market = Market(market)
        builder = ReportBuilder(self.slug, market, utc_now(self.clock))
        try:
            self.run(self.transport(), builder, credentials, market)
        except ExchangeError as exc:
            # `from None`: nothing chained (requests' exceptions carry signed URLs).
            raise exc.scrub(credentials) from None
        builder.scrub(credentials)
        return builder.finish(utc_now(self.clock))

    def run(
        self, transport: Transport, builder: ReportBuilder, credentials: Credentials, market: Market
    ) -> None:
        """Fill `builder` with the checks; raise TemporaryExchangeError to have it retried."""
        raise NotImplementedError

    def transport(self) -> Transport:
        return Transport(
            self.session,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            budget=self.budget,
            clock=self.clock,
            pacing=self.pacing,
        )

    def now_ms(self, skew_ms: int) -> int:
        """Our clock corrected to the exchange's, for signing."""
        return int(self.clock() * 1000) + skew_ms


def time_skews(
    calls: list[Call],
    results: Mapping[str, Reply | ExchangeError],
    server_time_ms: Callable[[Reply], int],
) -> dict[str, tuple[int, Reply]]:
    """The results of the public server-time calls judged: skew and reply per call.

    `server_time_ms` reads the exchange's time from a reply or raises an ExchangeError. A
    public endpoint that fails says nothing about the key, so every failure here is
    temporary: the exchange is not (properly) reachable.
    """
    skews: dict[str, tuple[int, Reply]] = {}
    for call in calls:
        result = results[call.name]
        try:
            if isinstance(result, ExchangeError):
                raise result
            skews[call.name] = (server_skew_ms(result, server_time_ms(result)), result)
        except ExchangeError as exc:
            if exc.temporary:
                raise
            raise TemporaryExchangeError(
                Category.EXCHANGE_UNAVAILABLE,
                f"public endpoint {safe_where(call.url)} failed: {exc.message}",
                retry_after=exc.retry_after,
            ) from None
    return skews


def settle(
    result: Reply | ExchangeError, classify: Callable[[Reply], ExchangeError | None]
) -> tuple[Reply | None, ExchangeError | None]:
    """Split a round-2 result into a good reply or a permanent error.

    Temporary errors end the test here, whichever check they belong to: the task retries
    rather than reporting a check it could not establish.
    """
    if isinstance(result, ExchangeError):
        error: ExchangeError | None = result
    else:
        error = classify(result)
    if error is not None and error.temporary:
        raise error
    return (None if isinstance(result, ExchangeError) else result), error


def latency_of(result: Reply | ExchangeError) -> int | None:
    return result.latency_ms if isinstance(result, Reply) else None
