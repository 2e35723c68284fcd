"""The sequence of a connection test, written once for every exchange.

An exchange module subclasses `ExchangeAPI` and supplies only what is specific to it: base
URLs, signing, endpoint paths, its error-code table (`classify`), the permission mapping
(`key_facts`) and response parsing (`server_time_ms`, `balances`, `pairs`). This module runs
the test and writes the report:

1. `prepare`: signed calls another call depends on (HTX's uid), rarely needed;
2. the signed round, at once: key introspection, balances and, where the introspection cannot
   tell, a trade-permission probe that never reaches the matching engine;
3. the checks, from the answers: credentials, balances, trading, futures, withdrawal, IP
   restriction and key expiry, each with an outcome and a detail code (`problems.py` words
   them). What an exchange cannot tell is reported as "cannot be verified" with the reason the
   exchange module names, never guessed.

The public server time of every host the market uses (reachability and clock skew) is not a
round of its own: its calls go out in the same `send_all` as the test's first signed calls
(`prepare`'s, or the signed round where `prepare` sends none). Those are signed with the skew
this process last measured on that time call's URL (`http.SkewMemory`, at most
`http.SKEW_MAX_AGE_S` old), or with our own clock (skew 0) when none is remembered. The time
answers are judged first, exactly as when they went alone: a failed time call is a temporary
error whatever the signed answers said, reachability and latency per host go into the report,
and `max_clock_skew_ms` is checked before any signed answer is read. The fresh skew is
remembered; where it differs from the one a host's calls were signed with by more than
`SKEW_TOLERANCE_MS`, the signed answers are dropped unread and the signed calls are built and
sent again with the fresh skew (`prepare`'s round, then the signed round; first
`resend_wait_s`, then `pacing.resend()`, where the worker takes a throttle slot for them). So a
test takes one round trip (HTX two: its uid comes first), one more when our clock moved
against the exchange's since this process last tested that host, or on a cold start with a
clock off by more than the tolerance. A test that `TestContext.stop`s before sending any
signed call still sends its time calls, alone.

Temporary faults raise `TemporaryExchangeError` (the task retries); permanent refusals become
failed checks. docs/architecture.md, "Adding an exchange", is the recipe.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .base import (
    Category,
    CheckName,
    Credentials,
    ExchangeError,
    Market,
    Outcome,
    ReportBuilder,
)
from .http import (
    Call,
    HttpExchangeClient,
    Reply,
    Transport,
    latency_of,
    settle,
    time_skews,
)

# Answers that prove the key was recognised: the exchange verified the signature, then
# refused one endpoint for lack of a permission.
PERMISSION_CATEGORIES = frozenset({Category.NO_TRADE_PERMISSION, Category.FUTURES_NOT_PERMITTED})

# A key expiring within this many days is a warning on the report (issue #17 reminds the
# owner on the same horizon).
EXPIRY_WARNING_DAYS = 14

# The first signed calls of a test are signed with a remembered skew (or none) and sent with
# the time call that measures it afresh. Their answers are used only if the two differ by at
# most this much; otherwise they are dropped and the calls signed again with the fresh skew.
# The exchanges' windows around their own clock (the timestamp a signed call carries): KuCoin
# +-5 s (exchanges.md §2.2), BingX +-5 s (exchanges-more.md §7.5), OKX +-30 s (§2.2), Bitget
# +-30 s (§4.2, unverified), Gate +-60 s (§5.2), HTX +-5 min (§6.2), Coinbase a 120 s JWT
# (§8.2, §8.5), MEXC futures +-10 s (exchanges.md §3.4, error 513); but Binance (exchanges-
# more.md §1.2), Bybit (§3.2) and MEXC spot (exchanges.md §3.2) accept a timestamp at most 1 s
# ahead of their clock (5 s behind). Half of that 1 s leaves the other half for the error of
# the skew measurement itself (up to half the time call's round trip) and for the time between
# signing and arrival counting only in our favour there: a call within the tolerance is never
# refused for its timestamp where the old order (time first, then the signed calls) was not.
# Otherwise a redo costs one round: a clock that moved by half a second is rare enough.
SKEW_TOLERANCE_MS = 500


@dataclass
class SignedPlan:
    """The signed round: each call optional, all sent at once."""

    key_info: Call | None = None
    balances: Call | None = None
    trade_probe: Call | None = None
    # Further introspection calls of the same round (Gate's account detail, which describes
    # the calling key when the key list cannot; Bybit's account type): `key_facts` finds
    # their results, replies or errors, in `ctx.data["extra"]` by call name and settles them.
    extra: list[Call] = field(default_factory=list)

    def calls(self) -> list[Call]:
        first = [call for call in (self.key_info, self.balances, self.trade_probe) if call]
        return first + list(self.extra)


@dataclass
class KeyFacts:
    """What an exchange says about the calling key, in our terms. None means "not reported"."""

    read: bool | None = None
    spot_trade: bool | None = None
    futures_trade: bool | None = None
    # The key can move funds off the account (withdrawal, or a transfer permission that
    # includes it). A trading bot's key must never have it.
    withdraw: bool | None = None
    # The exchange's own permission names, as reported, and ours (read, spot, futures,
    # withdraw, ...) for the page.
    raw_permissions: list[str] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)
    # The key's IP whitelist entries (possibly masked); [] = none set; None = not reported.
    ip_whitelist: list[str] | None = None
    # Where only a yes/no is reported (Binance `ipRestrict`).
    ip_restricted: bool | None = None
    expires_at: datetime | None = None
    # The exchange reports that the key never expires (HTX `validDays` -1): the expiry check
    # passes instead of "not reported".
    never_expires: bool = False
    # The pairs (`BASE/QUOTE`) the key may trade where the exchange limits a key to some
    # (Gate's trading-pair whitelist); [] = no such limit; None = not reported.
    pairs: list[str] | None = None
    # Detail code and params to show for a check instead of the generic one, for facts worth
    # naming (account mode, a key created before the futures account, the key's portfolio).
    details: dict[CheckName, tuple[str, dict[str, Any]]] = field(default_factory=dict)


@dataclass
class TestContext:
    """One test's inputs and what the rounds so far established."""

    __test__ = False  # not a pytest test class, whatever its name

    client: ExchangeAPI
    transport: Transport
    builder: ReportBuilder
    credentials: Credentials
    market: Market
    # The skew per time call that signed calls are signed with (`now_ms`): until the time
    # calls are answered the remembered one (or 0), then the fresh one.
    skews: dict[str, int] = field(default_factory=dict)
    # Anything `prepare` learnt for `plan` (HTX's uid and account id).
    data: dict[str, Any] = field(default_factory=dict)
    # The introspection call was refused for lack of a permission (`key_info_optional`).
    key_info_refused: bool = False
    # The time calls not sent yet: they go out with the first signed round (`send_round`).
    pending_time_calls: list[Call] = field(default_factory=list)

    @property
    def futures(self) -> bool:
        return self.market == Market.FUTURES

    def now_ms(self, time_call: str | None = None) -> int:
        """Our clock corrected to the exchange's (the host of `time_call`), for signing."""
        skew = self.skews[time_call] if time_call else next(iter(self.skews.values()))
        return self.client.now_ms(skew)

    def stop(self, error: ExchangeError) -> None:
        """End the test with the credentials failed by `error`, before any (further) signed
        call: a key the exchange could never accept (Coinbase's legacy HMAC secrets). The
        time calls still go out (alone) and are judged first, as in any test."""
        self.send_time_calls_alone()
        self.builder.fail_credentials(error)
        raise _Stop

    def send_time_calls_alone(self) -> None:
        """The time calls, if not sent yet, in a round of their own, judged."""
        calls, self.pending_time_calls = self.pending_time_calls, []
        if calls:
            self._judge_time(calls, self.transport.send_all(calls))

    def send_round(self, calls: Iterable[Call]) -> dict[str, Reply | ExchangeError]:
        """Signed calls at once: each result, a reply or the error raised. The first round of
        a test also carries the time calls, judged before the signed results are returned;
        if the fresh skew of a host is not the one the calls were signed with (within
        `SKEW_TOLERANCE_MS`), the signed results are dropped unread and `_Resign` raised."""
        calls = list(calls)
        time_calls, self.pending_time_calls = self.pending_time_calls, []
        if not time_calls:
            return self.transport.send_all(calls)
        names = [call.name for call in [*time_calls, *calls]]
        assert len(set(names)) == len(names), f"call names must differ: {names}"
        signed_with = dict(self.skews)
        results = self.transport.send_all([*time_calls, *calls])
        self._judge_time(time_calls, results)
        if any(
            abs(self.skews[name] - signed_with[name]) > SKEW_TOLERANCE_MS for name in self.skews
        ):
            raise _Resign
        return {call.name: results[call.name] for call in calls}

    def _judge_time(self, calls: list[Call], results: Mapping[str, Reply | ExchangeError]) -> None:
        """The time calls' results, before anything else: a failure is temporary; the skew
        and latency per host go into the report and the memory; `max_clock_skew_ms`."""
        skews = time_skews(calls, results, self.client.server_time_ms)
        for call in calls:
            self.client.skew_memory.put(call.url, skews[call.name][0])
        self.builder.reachable(
            {name: (skew, reply.latency_ms) for name, (skew, reply) in skews.items()}
        )
        self.skews = {name: skew for name, (skew, _) in skews.items()}
        self._check_skew_limit()

    def _check_skew_limit(self) -> None:
        """Where a signature has a fixed lifetime (`max_clock_skew_ms`: Coinbase's JWT), a
        larger skew fails the credentials with a clock problem before any signed answer is
        read."""
        limit = self.client.max_clock_skew_ms
        skew = self.builder.report.clock_skew_ms
        if limit is None or skew is None or abs(skew) <= limit:
            return
        self.builder.set(
            CheckName.CREDENTIALS,
            Outcome.FAILED,
            "clock_skew_beyond_limit",
            {"skew_s": round(skew / 1000), "limit_s": limit // 1000},
            category=Category.CLOCK_SKEW,
        )
        self.builder.note_message(
            f"our clock is {skew / 1000:+.0f} s off the exchange's; signed requests are only "
            f"valid for {limit // 1000} s"
        )
        raise _Stop

    def send_signed(self, call: Call) -> Reply:
        """A signed call of `prepare`: its reply, or the test ends with credentials failed."""
        reply = self.send_signed_all([call])[call.name]
        assert isinstance(reply, Reply)
        return reply

    def send_signed_all(
        self, calls: Iterable[Call], optional: Iterable[Call] = ()
    ) -> dict[str, Reply | ExchangeError]:
        """Independent signed calls of `prepare`, sent at once (HTX's uid and account id):
        their replies, or the test ends with credentials failed on the first refusal.
        `optional` calls go out in the same round; their results (a reply, which may be an
        error answer, or the error raised) come back as they are and never end the test."""
        calls, optional = list(calls), list(optional)
        results = self.send_round([*calls, *optional])
        replies: dict[str, Reply | ExchangeError] = {}
        for call in [*calls, *optional]:
            result = results[call.name]
            if isinstance(result, Reply):
                self.builder.report.latencies_ms[call.name] = result.latency_ms
        for call in optional:
            replies[call.name] = results[call.name]
        for call in calls:
            result = results[call.name]
            reply, error = self.client.settle(result, self)
            if error is not None:
                self.builder.fail_credentials(error, latency_ms=latency_of(result))
                raise _Stop
            assert reply is not None
            replies[call.name] = reply
        return replies


class _Stop(Exception):
    """The report is complete early (credentials refused)."""


class _Resign(Exception):
    """The signed calls sent with the time calls were signed with a skew the time calls
    proved wrong: their answers are dropped, and the calls built and sent again."""


class ExchangeAPI(HttpExchangeClient):
    """An exchange's specifics; `run` is the shared test."""

    # Keys of the EXCHANGE_URLS setting read in demo mode ("<key>_demo"), with documented
    # defaults. A key without a demo entry keeps its live URL (Bitget demo: same host).
    demo_base_urls: Mapping[str, str] = {}
    # Extra headers every signed call carries in demo mode (OKX, Bitget).
    demo_headers: Mapping[str, str] = {}
    # True where the introspection endpoint needs a permission a trading key may lack (Gate's
    # `account`): its refusal then leaves the facts unknown instead of failing the test.
    key_info_optional = False
    # The futures balance answers only a key that may use the futures account (MEXC's contract
    # host, KuCoin's futures host), so it stands in for a futures flag the exchange does not
    # report. False where one wallet answers every key (Bybit's unified account).
    balances_show_futures_access = True
    # The reason shown for a check the exchange cannot tell, by check (and market).
    not_verifiable: Mapping[CheckName, str] = {}
    not_verifiable_futures: Mapping[CheckName, str] = {}
    # ... and in demo mode, where the demo host cannot answer what the live one can (Binance).
    not_verifiable_demo: Mapping[CheckName, str] = {}
    # Where a signature's validity window is a fixed lifetime the server checks with its own
    # clock (Coinbase's 120 s JWT): a larger skew of our clock fails the test with a clock
    # problem before any signed answer is read (they went out with the time call), rather than
    # leaving the exchange's refusal to explain it.
    max_clock_skew_ms: int | None = None
    # Seconds to wait, after a round whose signed answers were dropped (signed with a skew the
    # time calls proved wrong), before the same calls go out again: where an endpoint allows
    # one call per account in that time (Bitget's key info, 1/s per UID), the second would be
    # refused as a rate limit.
    resend_wait_s: float = 0.0

    def __init__(
        self,
        base_urls: Mapping[str, str] | None = None,
        *,
        demo: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(base_urls, **options)
        self.demo = bool(demo)
        if self.demo:
            for key, default in self.demo_base_urls.items():
                override = (base_urls or {}).get(f"{key}_demo")
                self.base_urls[key] = (override or default).rstrip("/")

    # --- what an exchange module supplies -----------------------------------------------------

    def time_calls(self, market: Market) -> list[Call]:
        """The public server-time calls: one per host the market uses."""
        raise NotImplementedError

    def server_time_ms(self, reply: Reply) -> int:
        """The exchange's time from a time call's reply; raise the reply's error otherwise."""
        raise NotImplementedError

    def classify(self, reply: Reply) -> ExchangeError | None:
        """The error a reply stands for (by the exchange's codes), or None for a success.
        `reply.name` is the call's name, for exchanges whose hosts answer differently."""
        raise NotImplementedError

    def prepare(self, ctx: TestContext) -> None:
        """Signed calls the plan depends on, through `ctx.send_signed` (most need none)."""

    def plan(self, ctx: TestContext) -> SignedPlan:
        raise NotImplementedError

    def key_info_unavailable(self, result: Reply | ExchangeError, ctx: TestContext) -> bool:
        """True where the introspection call may not exist on this host (a demo environment
        whose support for it is undocumented): its answer then leaves the facts unknown, and
        the balances and the trade probe decide, instead of failing or retrying the test."""
        return False

    def key_facts(self, reply: Reply | None, ctx: TestContext) -> KeyFacts:
        """The introspection answer in our terms; `reply` is None without one."""
        return KeyFacts()

    def balances(self, reply: Reply, ctx: TestContext) -> list[dict[str, str]]:
        """Spot `{asset, free, locked}` or futures `{asset, equity, available}` rows."""
        raise NotImplementedError

    def probe_validated(self, reply: Reply, ctx: TestContext) -> str | None:
        """The exchange code when a probe was refused only by order rules (which proves the
        key may trade); None otherwise."""
        return None

    def refine(self, call_name: str, error: ExchangeError, ctx: TestContext) -> ExchangeError:
        """A permanent error of call `call_name` seen in the context of the test (Binance's
        -2015 merges three causes). `ctx.data["settled"]` holds the calls settled so far,
        `ctx.data["round"]` every result of the signed round."""
        return error

    def pairs(self, get: Callable[[str], Any], market: Market) -> Iterable[str]:
        """The `BASE/QUOTE` pairs tradable over the API; `get(url)` fetches public JSON."""
        raise NotImplementedError

    # --- helpers for exchange modules ---------------------------------------------------------

    def url(self, key: str, path: str) -> str:
        return f"{self.base_urls[key]}{path}"

    def signed_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {**headers, **(self.demo_headers if self.demo else {})}

    # --- the shared test ------------------------------------------------------------------

    def run(
        self, transport: Transport, builder: ReportBuilder, credentials: Credentials, market: Market
    ) -> None:
        time_calls = self.time_calls(market)
        remembered = {call.name: self.skew_memory.get(call.url) for call in time_calls}
        ctx = TestContext(
            self,
            transport,
            builder,
            credentials,
            market,
            skews={name: skew or 0 for name, skew in remembered.items()},
            pending_time_calls=time_calls,
        )
        try:
            try:
                plan, results = self._signed_rounds(ctx)
            except _Resign:
                # Signed with a skew the time calls proved wrong: nothing of those answers
                # was read or kept. Again, signed with the fresh skew.
                ctx.data.clear()
                # The wait first, then the slot: a slot taken before a wait would be spent
                # late, closer to the next slot's calls than the exchange's limits allow.
                if self.resend_wait_s:
                    time.sleep(min(self.resend_wait_s, max(0.0, transport.remaining())))
                # The worker takes another slot of the exchange's request budget there
                # (connections/throttle.py), so the calls a redo adds are paced like any test's.
                if self.pacing is not None:
                    self.pacing.resend()
                plan, results = self._signed_rounds(ctx)
            except ExchangeError:
                # If raised before anything was sent, the time calls' verdict comes first.
                ctx.send_time_calls_alone()
                raise
            # The whole round, for `refine` (one call's answer can explain another's).
            ctx.data["round"] = results
            for name, result in results.items():
                if isinstance(result, Reply):
                    builder.report.latencies_ms[name] = result.latency_ms
            ctx.data["extra"] = {call.name: results[call.name] for call in plan.extra}
            self._evaluate(ctx, plan, results)
        except _Stop:
            builder.skip_remaining()

    def _signed_rounds(
        self, ctx: TestContext
    ) -> tuple[SignedPlan, dict[str, Reply | ExchangeError]]:
        """`prepare`'s round (if any), then the signed round; the first carries the time
        calls while they are pending."""
        self.prepare(ctx)
        plan = self.plan(ctx)
        return plan, ctx.send_round(plan.calls())

    def settle(
        self, result: Reply | ExchangeError, ctx: TestContext
    ) -> tuple[Reply | None, ExchangeError | None]:
        """A good reply or a permanent error; a temporary error ends the test (the task
        retries rather than report a check it could not establish)."""
        reply, error = settle(result, self.classify)
        if error is not None:
            name = result.name if isinstance(result, Reply) else ""
            error = self.refine(name, error, ctx)
            if error.temporary:
                raise error
        if isinstance(result, Reply):
            ctx.data.setdefault("settled", {})[result.name] = error
        return reply, error

    def _evaluate(
        self, ctx: TestContext, plan: SignedPlan, results: Mapping[str, Reply | ExchangeError]
    ) -> None:
        builder = ctx.builder
        introspected: Reply | None = None
        if plan.key_info is not None and self.key_info_unavailable(
            results[plan.key_info.name], ctx
        ):
            plan = SignedPlan(balances=plan.balances, trade_probe=plan.trade_probe)
        if plan.key_info is not None:
            result = results[plan.key_info.name]
            introspected, error = self.settle(result, ctx)
            if error is not None:
                if error.category not in PERMISSION_CATEGORIES:
                    builder.fail_credentials(error, latency_ms=latency_of(result))
                    raise _Stop
                if not self.key_info_optional:
                    # The key was recognised, but may not even describe itself: nothing else
                    # (trading, withdrawal, IP) can be established honestly.
                    builder.fail(
                        CheckName.CREDENTIALS,
                        error,
                        code="read_permission_missing",
                        latency_ms=latency_of(result),
                    )
                    raise _Stop
                ctx.key_info_refused = True
                # The refusal is not a description of the key: key_facts gets no reply.
                introspected = None
                builder.note_message(error.message)
            builder.set(
                CheckName.CREDENTIALS,
                Outcome.OK,
                "credentials_accepted",
                latency_ms=latency_of(result),
            )

        balances_ok = self._balances_check(ctx, plan, results)
        facts = self.key_facts(introspected, ctx)
        self._apply_facts(ctx, plan, results, facts, balances_ok)

    def _balances_check(
        self, ctx: TestContext, plan: SignedPlan, results: Mapping[str, Reply | ExchangeError]
    ) -> bool | None:
        """BALANCES (and CREDENTIALS when no introspection vouched for the key)."""
        builder = ctx.builder
        if plan.balances is None:
            self._not_verifiable(builder, CheckName.BALANCES, ctx)
            return None
        result = results[plan.balances.name]
        latency = latency_of(result)
        reply, error = self.settle(result, ctx)
        if error is not None:
            if error.category not in PERMISSION_CATEGORIES:
                if not builder.has(CheckName.CREDENTIALS):
                    builder.fail_credentials(error, latency_ms=latency)
                    raise _Stop
                builder.fail(CheckName.BALANCES, error, latency_ms=latency)
                return False
            if not builder.has(CheckName.CREDENTIALS):
                # A permission refusal is given only to a key the exchange recognised.
                builder.set(
                    CheckName.CREDENTIALS, Outcome.OK, "credentials_accepted", latency_ms=latency
                )
            futures_refusal = ctx.futures or error.category == Category.FUTURES_NOT_PERMITTED
            code = "futures_account_unreadable" if futures_refusal else "read_permission_missing"
            builder.fail(CheckName.BALANCES, error, code=code, latency_ms=latency)
            return False
        assert reply is not None
        if not builder.has(CheckName.CREDENTIALS):
            builder.set(
                CheckName.CREDENTIALS, Outcome.OK, "credentials_accepted", latency_ms=latency
            )
        rows = self.balances(reply, ctx)
        builder.report.balances = rows
        builder.set(
            CheckName.BALANCES,
            Outcome.OK,
            "futures_balances_read" if ctx.futures else "balances_read",
            {"count": len(rows)},
            latency_ms=latency,
        )
        return True

    def _apply_facts(
        self,
        ctx: TestContext,
        plan: SignedPlan,
        results: Mapping[str, Reply | ExchangeError],
        facts: KeyFacts,
        balances_ok: bool | None,
    ) -> None:
        builder = ctx.builder
        report = builder.report
        key_latency = latency_of(results[plan.key_info.name]) if plan.key_info else None
        report.raw_permissions = list(facts.raw_permissions)
        builder.add_permission(*facts.permissions)
        if balances_ok and not facts.permissions:
            builder.add_permission("read")

        # Withdrawal first: a key that can move funds is refused whatever else it can do, and
        # its message leads, as its category leads the headline.
        if facts.withdraw is True:
            builder.set(
                CheckName.WITHDRAWAL,
                Outcome.FAILED,
                "withdrawal_enabled",
                latency_ms=key_latency,
                category=Category.WITHDRAWAL_ENABLED,
            )
            granted = ", ".join(facts.raw_permissions) or "?"
            builder.note_message(f"API key can withdraw or transfer funds (permissions: {granted})")
        elif facts.withdraw is False:
            builder.set(
                CheckName.WITHDRAWAL, Outcome.OK, "withdrawal_disabled", latency_ms=key_latency
            )
        else:
            self._not_verifiable(builder, CheckName.WITHDRAWAL, ctx)

        # Trading, for the connection's market.
        allowed = facts.futures_trade if ctx.futures else facts.spot_trade
        if allowed is True:
            builder.set(
                CheckName.TRADE_PERMISSION,
                Outcome.OK,
                "futures_trade_enabled" if ctx.futures else "spot_trade_enabled",
                latency_ms=key_latency,
            )
        elif allowed is False:
            self._trade_missing(builder, CheckName.TRADE_PERMISSION, ctx, key_latency)
        elif plan.trade_probe is not None:
            self._probe_check(ctx, results[plan.trade_probe.name])
        else:
            self._not_verifiable(builder, CheckName.TRADE_PERMISSION, ctx)

        # Futures: only for a futures connection.
        if not ctx.futures:
            builder.set(CheckName.FUTURES_PERMISSION, Outcome.SKIPPED, "not_futures_market")
        elif facts.futures_trade is True:
            builder.set(
                CheckName.FUTURES_PERMISSION, Outcome.OK, "futures_enabled", latency_ms=key_latency
            )
        elif facts.futures_trade is False or (
            balances_ok is False and self.balances_show_futures_access
        ):
            self._trade_missing(builder, CheckName.FUTURES_PERMISSION, ctx, key_latency)
        elif balances_ok and self.balances_show_futures_access:
            # No flag to read, but the futures account answered this key.
            builder.set(
                CheckName.FUTURES_PERMISSION,
                Outcome.OK,
                "futures_account_readable",
                latency_ms=latency_of(results[plan.balances.name]) if plan.balances else None,
            )
            builder.add_permission("futures")
        else:
            self._not_verifiable(builder, CheckName.FUTURES_PERMISSION, ctx)

        self._ip_check(ctx, facts, key_latency)
        self._expiry_check(ctx, facts, key_latency)

        # A key limited to some pairs: the report keeps the list (the strategy gate refuses
        # other pairs) and the trading check names it.
        if facts.pairs is not None:
            report.key_pairs = list(facts.pairs)
            trade = builder.result(CheckName.TRADE_PERMISSION)
            if facts.pairs and trade is not None and trade.outcome == Outcome.OK:
                builder.reword(
                    CheckName.TRADE_PERMISSION,
                    "trade_limited_to_pairs",
                    {"pairs": ", ".join(facts.pairs), "count": len(facts.pairs)},
                )

        # The exchange's own wording of a fact, where it has one worth showing.
        for name, (code, params) in facts.details.items():
            builder.reword(name, code, params)

    def _trade_missing(
        self, builder: ReportBuilder, name: CheckName, ctx: TestContext, latency: int | None
    ) -> None:
        if ctx.futures:
            builder.set(
                name,
                Outcome.FAILED,
                "futures_permission_missing",
                latency_ms=latency,
                category=Category.FUTURES_NOT_PERMITTED,
            )
            builder.note_message("API key lacks the futures permission")
        else:
            builder.set(
                name,
                Outcome.FAILED,
                "trade_permission_missing",
                latency_ms=latency,
                category=Category.NO_TRADE_PERMISSION,
            )
            builder.note_message("API key lacks the spot trading permission")

    def _probe_check(self, ctx: TestContext, result: Reply | ExchangeError) -> None:
        builder = ctx.builder
        latency = latency_of(result)
        market_permission = "futures" if ctx.futures else "spot"
        if isinstance(result, Reply) and result.json_ok:
            if self.classify(result) is None:
                builder.set(
                    CheckName.TRADE_PERMISSION, Outcome.OK, "order_test_ok", latency_ms=latency
                )
                builder.add_permission(market_permission)
                return
            code = self.probe_validated(result, ctx)
            if code is not None:
                builder.set(
                    CheckName.TRADE_PERMISSION,
                    Outcome.OK,
                    "order_test_validated",
                    {"exchange_code": code},
                    latency_ms=latency,
                )
                builder.add_permission(market_permission)
                return
        _, error = self.settle(result, ctx)
        assert error is not None  # a success returned above
        code = None
        if error.category in PERMISSION_CATEGORIES:
            code = "futures_permission_missing" if ctx.futures else "trade_permission_missing"
        builder.fail(CheckName.TRADE_PERMISSION, error, code=code, latency_ms=latency)

    def _ip_check(self, ctx: TestContext, facts: KeyFacts, latency: int | None) -> None:
        builder = ctx.builder
        if builder.has(CheckName.IP_RESTRICTION):
            return
        if facts.ip_whitelist is not None:
            entries = [entry for entry in facts.ip_whitelist if entry.strip()]
            restricted: bool | None = bool(entries)
        else:
            entries, restricted = [], facts.ip_restricted
        builder.report.ip_restricted = restricted
        if restricted and entries:
            builder.set(
                CheckName.IP_RESTRICTION,
                Outcome.OK,
                "ip_restricted",
                {"count": len(entries)},
                latency_ms=latency,
            )
        elif restricted:
            builder.set(
                CheckName.IP_RESTRICTION, Outcome.OK, "ip_restricted_unlisted", latency_ms=latency
            )
        elif restricted is False:
            # A warning, not a failure: the exchanges allow it, but an unbound key is easier to
            # misuse and on several exchanges expires or is deleted sooner.
            builder.set(CheckName.IP_RESTRICTION, Outcome.WARNING, "ip_not_set", latency_ms=latency)
        else:
            self._not_verifiable(builder, CheckName.IP_RESTRICTION, ctx)

    def _expiry_check(self, ctx: TestContext, facts: KeyFacts, latency: int | None) -> None:
        builder = ctx.builder
        expires_at = facts.expires_at
        if expires_at is None and facts.never_expires:
            builder.set(CheckName.KEY_EXPIRY, Outcome.OK, "key_does_not_expire", latency_ms=latency)
            return
        if expires_at is None:
            self._not_verifiable(builder, CheckName.KEY_EXPIRY, ctx, default="not_reported")
            return
        builder.report.key_expires_at = expires_at
        now = builder.report.started_at or expires_at
        left = expires_at - now
        params = {"date": expires_at.date().isoformat(), "days": max(0, left.days)}
        if left <= timedelta(0):
            builder.set(
                CheckName.KEY_EXPIRY,
                Outcome.FAILED,
                "key_expired",
                params,
                latency_ms=latency,
                category=Category.INVALID_KEY,
            )
            builder.note_message("API key has expired")
        elif left <= timedelta(days=EXPIRY_WARNING_DAYS):
            builder.set(
                CheckName.KEY_EXPIRY,
                Outcome.WARNING,
                "key_expires_soon",
                params,
                latency_ms=latency,
            )
        else:
            builder.set(
                CheckName.KEY_EXPIRY, Outcome.OK, "key_expires_on", params, latency_ms=latency
            )

    def _not_verifiable(
        self, builder: ReportBuilder, name: CheckName, ctx: TestContext, default: str = ""
    ) -> None:
        if ctx.key_info_refused and name != CheckName.BALANCES:
            # Gate: a key without the `account` permission cannot describe itself.
            builder.set(name, Outcome.NOT_VERIFIABLE, "key_info_refused")
            return
        reasons = {
            **self.not_verifiable,
            **(self.not_verifiable_futures if ctx.futures else {}),
            **(self.not_verifiable_demo if self.demo else {}),
        }
        builder.set(name, Outcome.NOT_VERIFIABLE, reasons.get(name) or default or "not_reported")
