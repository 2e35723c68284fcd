"""Shared types of the exchange clients: markets, outcomes, problem categories, the report.

Plain Python: no Django models, no network. The report is language-neutral (codes and
params); `problems.py` turns codes into translated text when a page renders them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, quote_plus

VERDICT_ONLINE = "online"
VERDICT_FAILED = "failed"

# Exchange messages end up on the status page and in the admin; keep them short. Only
# `scrub_text` cuts them, after removing credentials: a secret cut in half by the truncation
# would no longer be found by the scrub.
MESSAGE_MAX_CHARS = 300

# Above this the check still passes (we sign with the corrected time) but the user is warned:
# MEXC rejects requests more than 1 s ahead of its clock (exchanges.md §3.2), KuCoin beyond
# 5 s (§2.2), so a drifting server clock is worth fixing at the source.
CLOCK_SKEW_WARN_MS = 1000


class Market(StrEnum):
    SPOT = "spot"
    FUTURES = "futures"


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    WARNING = "warning"
    NOT_VERIFIABLE = "not_verifiable"
    SKIPPED = "skipped"


class Category(StrEnum):
    INVALID_KEY = "invalid_key"
    NO_TRADE_PERMISSION = "no_trade_permission"
    FUTURES_NOT_PERMITTED = "futures_not_permitted"
    IP_NOT_ALLOWED = "ip_not_allowed"
    WITHDRAWAL_ENABLED = "withdrawal_enabled"
    CLOCK_SKEW = "clock_skew"
    ACCOUNT_RESTRICTED = "account_restricted"
    EXCHANGE_UNAVAILABLE = "exchange_unavailable"
    # Decided by BackFuture, not the exchange: one key, one connection (docs/security.md).
    # The key passed, but another connection had already proved it with a passing test.
    KEY_IN_USE = "key_in_use"

    # Our server could not connect to the exchange at all (name lookup, refused or timed-out
    # connection, TLS, proxy): our network, not the exchange's answer and not the key.
    EXCHANGE_UNREACHABLE = "exchange_unreachable"

    @property
    def is_temporary(self) -> bool:
        # Clock skew is permanent for the report: requests are already signed with the
        # exchange's own time, so a skew rejection will not go away by retrying.
        return self in (Category.EXCHANGE_UNAVAILABLE, Category.EXCHANGE_UNREACHABLE)


class CheckName(StrEnum):
    """The checks of a connection test, in the order they appear in a report."""

    REACHABLE = "reachable"
    CREDENTIALS = "credentials"
    BALANCES = "balances"
    TRADE_PERMISSION = "trade_permission"
    FUTURES_PERMISSION = "futures_permission"
    WITHDRAWAL = "withdrawal"
    IP_RESTRICTION = "ip_restriction"
    KEY_EXPIRY = "key_expiry"


CHECK_ORDER: tuple[CheckName, ...] = tuple(CheckName)


def mask_key(value: str) -> str:
    """First 4 and last 4 characters, as the house style shows keys; short values fully hidden."""
    if len(value) <= 8:
        return "****"
    return f"{value[:4]}…{value[-4:]}"


@dataclass(frozen=True, repr=False)
class Credentials:
    """What the user pasted. Lives only in memory on the exchange call path."""

    api_key: str
    api_secret: str
    passphrase: str = ""

    def __repr__(self) -> str:
        passphrase = "'***'" if self.passphrase else "''"
        return (
            f"Credentials(api_key={mask_key(self.api_key)!r}, api_secret='***', "
            f"passphrase={passphrase})"
        )

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # Pickling is how objects travel through Celery or caches; secrets must never do that.
        raise TypeError("Credentials cannot be serialised")

    def scrub(self, text: str) -> str:
        """Text an exchange sent back, with our credentials taken out (exchanges echo them).

        The secret and passphrase become "***"; the key becomes its masked form (first 4 and
        last 4, as the pages show it), so support can still tell which key a message is about.
        Also caught: the forms a value takes in a URL or a JSON string, and with its
        whitespace collapsed as `truncate` does.
        """
        # Case-blind: clients keep some exchange texts lower-cased (KuCoin's permission list).
        for secret in (self.api_secret, self.passphrase):
            for form in _written_forms(secret):
                text = re.sub(re.escape(form), "***", text, flags=re.IGNORECASE)
            for pattern in _private_key_patterns(secret):
                text = pattern.sub("***", text)
        masked = mask_key(self.api_key)
        for form in _written_forms(self.api_key):
            text = re.sub(re.escape(form), lambda _: masked, text, flags=re.IGNORECASE)
        return text

    def scrub_any(self, value: Any) -> Any:
        """`scrub` over every string inside a value (lists and dicts too); others unchanged."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list | tuple):
            return [self.scrub_any(item) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub_any(item) for key, item in value.items()}
        return value


def _written_forms(value: str) -> Iterator[str]:
    if not value:
        return
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    forms.add(" ".join(value.split()))
    # Longest first, so a form that contains another is replaced whole.
    yield from sorted((form for form in forms if form), key=len, reverse=True)


# Between two characters of a PEM echoed in another shape: line breaks dropped, doubled
# (CRLF), turned into spaces, re-wrapped at another width, or escaped in JSON (`\n`).
_PEM_GAP = r"(?:\s|\\[rn])*"
# A PEM line shorter than this (its last) is not scrubbed on its own: too little to matter.
_PEM_LINE_MIN = 16


def _private_key_patterns(secret: str) -> list[re.Pattern[str]]:
    """For a PEM secret (Ed25519 for Binance, a CDP key for Coinbase): the whole PEM and its
    base64 body in any line layout, then each line of the body on its own."""
    if "-----BEGIN" not in secret:
        return []
    lines = [line.strip() for line in secret.replace("\\n", "\n").splitlines()]
    body_lines = [line for line in lines if line and not line.startswith("-----")]
    body = "".join(body_lines)
    wholes = ["".join(lines), body]
    patterns = [
        re.compile(_PEM_GAP.join(re.escape(ch) for ch in "".join(whole.split())))
        for whole in wholes
        if whole
    ]
    patterns += [
        re.compile(re.escape(line))
        for line in sorted(body_lines, key=len, reverse=True)
        if len(line) >= _PEM_LINE_MIN
    ]
    return patterns


def scrub_text(text: str, credentials: Credentials) -> str:
    """Exchange text ready to store: credentials removed first, then cut to length."""
    return truncate(credentials.scrub(str(text)))


@dataclass
class CheckResult:
    name: CheckName
    outcome: Outcome
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    latency_ms: int | None = None
    # The problem a failed check stands for; None for every other outcome.
    category: Category | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name.value,
            "outcome": self.outcome.value,
            "code": self.code,
            "params": dict(self.params),
            "latency_ms": self.latency_ms,
            "category": self.category.value if self.category else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        category = data.get("category")
        return cls(
            name=CheckName(data["name"]),
            outcome=Outcome(data["outcome"]),
            code=data.get("code", ""),
            params=dict(data.get("params") or {}),
            latency_ms=data.get("latency_ms"),
            category=Category(category) if category else None,
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class CheckReport:
    exchange: str
    market: Market
    checks: list[CheckResult] = field(default_factory=list)
    verdict: str = VERDICT_FAILED
    category: Category | None = None
    message: str = ""
    permissions: list[str] = field(default_factory=list)
    raw_permissions: list[str] = field(default_factory=list)
    ip_restricted: bool | None = None
    reported_ip: str | None = None
    key_expires_at: datetime | None = None
    # The pairs (`BASE/QUOTE`) this key may trade where the exchange limits a key to some
    # (Gate's trading-pair whitelist): the strategy gate refuses others. [] = no such limit;
    # None = not reported.
    key_pairs: list[str] | None = None
    clock_skew_ms: int | None = None
    balances: list[dict[str, str]] = field(default_factory=list)
    latencies_ms: dict[str, int] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def is_online(self) -> bool:
        return self.verdict == VERDICT_ONLINE

    def check(self, name: CheckName | str) -> CheckResult | None:
        for result in self.checks:
            if result.name == name:
                return result
        return None

    def free_balance(self, asset: str) -> Decimal | None:
        """Spot: the free amount; futures: the available margin. None when the asset is absent."""
        key = "available" if self.market == Market.FUTURES else "free"
        for row in self.balances:
            if row.get("asset", "").upper() == asset.upper():
                try:
                    return Decimal(row[key])
                except (KeyError, InvalidOperation):
                    return None
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "market": self.market.value,
            "checks": [c.to_dict() for c in self.checks],
            "verdict": self.verdict,
            "category": self.category.value if self.category else None,
            "message": self.message,
            "permissions": list(self.permissions),
            "raw_permissions": list(self.raw_permissions),
            "ip_restricted": self.ip_restricted,
            "reported_ip": self.reported_ip,
            "key_expires_at": _iso(self.key_expires_at),
            "key_pairs": list(self.key_pairs) if self.key_pairs is not None else None,
            "clock_skew_ms": self.clock_skew_ms,
            "balances": [dict(row) for row in self.balances],
            "latencies_ms": dict(self.latencies_ms),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckReport:
        category = data.get("category")
        return cls(
            exchange=data["exchange"],
            market=Market(data["market"]),
            checks=[CheckResult.from_dict(c) for c in data.get("checks", [])],
            verdict=data.get("verdict", VERDICT_FAILED),
            category=Category(category) if category else None,
            message=data.get("message", ""),
            permissions=list(data.get("permissions", [])),
            raw_permissions=list(data.get("raw_permissions", [])),
            ip_restricted=data.get("ip_restricted"),
            reported_ip=data.get("reported_ip"),
            key_expires_at=_parse_dt(data.get("key_expires_at")),
            key_pairs=list(data["key_pairs"]) if data.get("key_pairs") is not None else None,
            clock_skew_ms=data.get("clock_skew_ms"),
            balances=[dict(row) for row in data.get("balances", [])],
            latencies_ms=dict(data.get("latencies_ms", {})),
            started_at=_parse_dt(data.get("started_at")),
            finished_at=_parse_dt(data.get("finished_at")),
        )


def truncate(text: str, limit: int = MESSAGE_MAX_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ExchangeError(Exception):
    """An exchange call that did not give us an answer we can use.

    `message` is an English technical text (the exchange's own code and message, or the
    transport fault). It is kept whole until `scrub` removes the credentials an exchange may
    have echoed and only then cut to length; the clients do that before an error leaves
    `run_checks`, and the services again before anything is stored.
    """

    # Subclasses pin this; the base class derives it from the category.
    _temporary: bool | None = None

    def __init__(
        self,
        category: Category,
        message: str,
        *,
        exchange_code: str | None = None,
        retry_after: float | None = None,
        reported_ip: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.category = Category(category)
        # A detail code for the failed check where the category alone would mislead (Binance's
        # -2015: key, IP or permission, which Binance does not tell apart).
        self.detail = detail
        self.message = str(message)
        self.exchange_code = exchange_code
        self.retry_after = retry_after
        self.reported_ip = reported_ip
        self.temporary = self.category.is_temporary if self._temporary is None else self._temporary
        super().__init__(self.message)

    def __reduce__(self) -> Any:
        # Keyword-only arguments do not survive the default Exception pickling, and Celery
        # pickles exceptions when it records a retry.
        state = {
            "exchange_code": self.exchange_code,
            "retry_after": self.retry_after,
            "reported_ip": self.reported_ip,
            "detail": self.detail,
        }
        return (self.__class__, (self.category, self.message), state)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.category.value!r}, {self.message!r})"

    def scrub(self, credentials: Credentials) -> ExchangeError:
        """Remove credentials from the message (then cut it), in place; returns self."""
        self.message = scrub_text(self.message, credentials)
        self.args = (self.message,)
        if self.exchange_code:
            self.exchange_code = credentials.scrub(self.exchange_code)
        return self


class TemporaryExchangeError(ExchangeError):
    """Worth retrying: outage, maintenance, rate limit, timeout, garbled response."""

    _temporary = True

    def __init__(
        self,
        category: Category = Category.EXCHANGE_UNAVAILABLE,
        message: str = "exchange unavailable",
        **kwargs: Any,
    ) -> None:
        super().__init__(category, message, **kwargs)


class PermanentExchangeError(ExchangeError):
    """Retrying will not help: the key, its permissions or the account must change."""

    _temporary = False


def make_error(category: Category, message: str, **kwargs: Any) -> ExchangeError:
    """The right subclass for a category."""
    cls = TemporaryExchangeError if category.is_temporary else PermanentExchangeError
    return cls(category, message, **kwargs)


@runtime_checkable
class ExchangeClient(Protocol):
    def run_checks(self, credentials: Credentials, market: Market) -> CheckReport:
        """Test a key. Permanent problems give a failed report; temporary ones raise
        `TemporaryExchangeError` so the caller can retry, then call `failed_report`."""
        ...


def utc_from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class ReportBuilder:
    """Collects check results in any order and produces a report with the checks in order."""

    def __init__(self, exchange: str, market: Market, started_at: datetime) -> None:
        self.report = CheckReport(exchange=exchange, market=market, started_at=started_at)
        self._results: dict[CheckName, CheckResult] = {}

    def has(self, name: CheckName) -> bool:
        return name in self._results

    def result(self, name: CheckName) -> CheckResult | None:
        return self._results.get(name)

    def reword(self, name: CheckName, code: str, params: dict[str, Any] | None = None) -> None:
        """Show a check with an exchange's own detail code (its outcome stays)."""
        result = self._results.get(name)
        if result is not None:
            result.code = code
            result.params = {**result.params, **(params or {})}

    def set(
        self,
        name: CheckName,
        outcome: Outcome,
        code: str,
        params: dict[str, Any] | None = None,
        *,
        latency_ms: int | None = None,
        category: Category | None = None,
    ) -> None:
        self._results[name] = CheckResult(name, outcome, code, params or {}, latency_ms, category)

    def fail(
        self,
        name: CheckName,
        error: ExchangeError,
        *,
        code: str | None = None,
        category: Category | None = None,
        latency_ms: int | None = None,
    ) -> None:
        """A check that the exchange answered with a permanent refusal."""
        params: dict[str, Any] = {}
        if error.exchange_code:
            params["exchange_code"] = error.exchange_code
        if error.reported_ip:
            params["reported_ip"] = error.reported_ip
            self.report.reported_ip = self.report.reported_ip or error.reported_ip
        category = category or error.category
        self.set(
            name,
            Outcome.FAILED,
            code or error.detail or category.value,
            params,
            latency_ms=latency_ms,
            category=category,
        )
        self.note_message(error.message)

    def scrub(self, credentials: Credentials) -> None:
        """Remove credentials from the message and from every text parameter, then cut."""
        self.report.message = scrub_text(self.report.message, credentials)
        _scrub_fields(self.report, self._results.values(), credentials)

    def note_message(self, message: str) -> None:
        """The report's technical message: the first problem's wins."""
        if not self.report.message:
            self.report.message = message

    def add_permission(self, *names: str) -> None:
        for name in names:
            if name not in self.report.permissions:
                self.report.permissions.append(name)

    def reachable(self, skews: dict[str, tuple[int, int]]) -> None:
        """Check 1 from the server-time calls: {call name: (skew ms, latency ms)}.

        With two hosts (futures), the larger skew is reported: it is the one that matters.
        """
        for call_name, (_, latency) in skews.items():
            self.report.latencies_ms[call_name] = latency
        skew = max((s for s, _ in skews.values()), key=abs)
        self.report.clock_skew_ms = skew
        high = abs(skew) > CLOCK_SKEW_WARN_MS
        self.set(
            CheckName.REACHABLE,
            Outcome.WARNING if high else Outcome.OK,
            "clock_skew_high" if high else "reachable",
            {"skew_ms": skew},
            latency_ms=max(latency for _, latency in skews.values()),
        )

    def fail_credentials(self, error: ExchangeError, *, latency_ms: int | None = None) -> None:
        """The signed read call was refused: nothing after it can be established."""
        self.fail(CheckName.CREDENTIALS, error, latency_ms=latency_ms)
        if error.category == Category.IP_NOT_ALLOWED:
            # The refusal itself proves the key is IP-restricted, and to which IP we appear.
            self.report.ip_restricted = True
            # Some exchanges (Bybit's 10010) do not say which IP they saw.
            code = "ip_not_whitelisted" if error.reported_ip else "ip_not_whitelisted_unreported"
            self.fail(CheckName.IP_RESTRICTION, error, code=code)
        self.skip_remaining()

    def skip_remaining(self, code: str = "not_run") -> None:
        for name in CHECK_ORDER:
            if name not in self._results:
                self.set(name, Outcome.SKIPPED, code)

    def finish(self, finished_at: datetime) -> CheckReport:
        self.skip_remaining()
        report = self.report
        report.checks = [self._results[name] for name in CHECK_ORDER]
        failed = [c for c in report.checks if c.outcome == Outcome.FAILED]
        report.verdict = VERDICT_FAILED if failed else VERDICT_ONLINE
        # The headline is the first failed check's category, except that a key able to withdraw
        # always leads: fixing only the first-listed problem must never leave such a key in use.
        categories = [c.category for c in failed]
        if Category.WITHDRAWAL_ENABLED in categories:
            report.category = Category.WITHDRAWAL_ENABLED
        else:
            report.category = categories[0] if categories else None
        report.finished_at = finished_at
        return report


def scrub_report(report: CheckReport, credentials: Credentials) -> CheckReport:
    """A finished report with credentials removed from its message and text parameters."""
    report.message = scrub_text(report.message, credentials)
    _scrub_fields(report, report.checks, credentials)
    return report


def _scrub_fields(report: CheckReport, results, credentials: Credentials) -> None:
    """Every exchange-provided text a report stores besides its message: check parameters
    (lists and dicts included), the permission names the exchange reported, the balances."""
    for result in results:
        result.params = credentials.scrub_any(dict(result.params))
    report.raw_permissions = credentials.scrub_any(report.raw_permissions)
    report.permissions = credentials.scrub_any(report.permissions)
    report.balances = credentials.scrub_any(report.balances)
    if report.key_pairs is not None:
        report.key_pairs = credentials.scrub_any(report.key_pairs)


def failed_report(
    exchange: str,
    market: Market,
    error: ExchangeError,
    *,
    at: datetime | None = None,
) -> CheckReport:
    """The final report after the last retry of a temporary error (or any uncaught error).

    Only the check the error belongs to is marked failed; the others were not established and
    are reported as skipped rather than guessed.
    """
    at = at or datetime.now(UTC)
    builder = ReportBuilder(exchange, Market(market), at)
    name = CheckName.REACHABLE if error.category.is_temporary else CheckName.CREDENTIALS
    builder.fail(name, error)
    if error.reported_ip:
        builder.report.ip_restricted = error.category == Category.IP_NOT_ALLOWED or None
    return builder.finish(at)
