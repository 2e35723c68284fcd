"""The rules a strategy must satisfy: its settings (form and service) and the enable gate.

Everything here evaluates values it is given; it does no writes and, apart from `reverse`,
touches nothing outside its arguments, so the page, the form and the locked transaction in
`services.strategy_enable` all apply the very same rules. The add-on maths itself lives in
`strategies.planning`; this module only adapts stored settings to it and words the results.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from backfuture import numbers
from backfuture.display import when
from connections.exchanges import registry
from connections.exchanges.base import CheckName, CheckReport, Outcome
from connections.models import ConnectionStatus, Market
from strategies import planning
from strategies.models import Direction

# The settings a user edits; every other column of Strategy is state.
SETTINGS_FIELDS: tuple[str, ...] = (
    "name",
    "connection",
    "pairs",
    "direction",
    "leverage",
    "risk_level",
    "margin_limit",
    "base_order",
    "max_active_groups",
    "max_addons",
    "first_distance_pct",
    "step_scale",
    "volume_scale",
    "take_profit_pct",
    "recovery_enabled",
    "recovery_drawdown_pct",
    "recovery_addons_used",
    "recovery_margin_used_pct",
    "cautious_after_drawdown",
    "new_groups_connection",
    "auto_resume",
)
ADDON_FIELDS: tuple[str, ...] = (
    "base_order",
    "max_addons",
    "first_distance_pct",
    "step_scale",
    "volume_scale",
    "take_profit_pct",
)
MAX_PAIRS = 20
_CONNECTION_FIELDS = frozenset({"connection", "new_groups_connection"})

# planning's field names -> the Strategy / form field they belong to.
_PLANNING_FIELDS = {
    "drawdown_pct": "recovery_drawdown_pct",
    "addons_used": "recovery_addons_used",
    "margin_used_pct": "recovery_margin_used_pct",
}


def number(value: Decimal | int | None) -> str:
    """A number for messages: locale-aware, grouped, at most 8 places, no padded zeros."""
    return numbers.plain(value)


# Planning error params that are amounts of the quote currency, and those that are percentages.
_MONEY_PARAMS = frozenset({"capital", "required", "margin_limit"})
_PCT_PARAMS = frozenset({"distance"})


def _param(key: str, value: Any, quote: str) -> str:
    if key in _MONEY_PARAMS:
        return numbers.money(value, quote)
    if key == "shortfall":
        return numbers.shortfall(value, quote)
    if key in _PCT_PARAMS:
        return numbers.percent(value)
    return number(value)


def quote_asset(pairs: Iterable[str]) -> str:
    """The quote currency shared by the pairs ("USDT" for BTC/USDT), or "" if none or mixed."""
    quotes = {pair.partition("/")[2] for pair in pairs if "/" in pair}
    return quotes.pop() if len(quotes) == 1 else ""


# --- Settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a strategy's settings. `field` None means the whole form."""

    field: str | None
    code: str
    message: str


def _planning_message(error: planning.PlanningError, quote: str) -> str:
    p = {key: _param(key, value, quote) for key, value in error.params.items()}
    unit = f" {quote}" if quote else ""
    code = error.code
    if code is planning.ErrorCode.NOT_A_NUMBER:
        return _("Enter a number.")
    if code is planning.ErrorCode.MUST_BE_POSITIVE:
        return _("Must be greater than zero.")
    if code is planning.ErrorCode.TOO_SMALL:
        return _("Must be at least %(min)s.") % p
    if code is planning.ErrorCode.TOO_LARGE:
        return _("Must be at most %(max)s.") % p
    if code is planning.ErrorCode.LADDER_REACHES_ZERO:
        return (
            _(
                "The last add-on would sit %(distance)s %% from the entry, at or beyond a price "
                "of zero. Use fewer add-ons, a smaller first distance or a smaller step scale."
            )
            % p
        )
    if code is planning.ErrorCode.LADDER_TOO_WIDE:
        return (
            _(
                "The last add-on would sit %(distance)s %% from the entry; at most %(max)s %% "
                "is possible. Use fewer add-ons or a smaller step scale."
            )
            % p
        )
    if code is planning.ErrorCode.TAKE_PROFIT_UNREACHABLE:
        return (
            _("A short position cannot take a profit of %(value)s %%; use less than %(max)s %%.")
            % p
        )
    if code is planning.ErrorCode.CAPITAL_TOO_LARGE:
        return _("The worst case needs %(capital)s%(unit)s, more than we can plan for.") % {
            **p,
            "unit": unit,
        }
    if code is planning.ErrorCode.MARGIN_LIMIT_EXCEEDED:
        return _(
            "Worst-case capital is %(required)s%(unit)s, which exceeds the margin limit of "
            "%(margin_limit)s%(unit)s by %(shortfall)s%(unit)s. Raise the margin limit or lower "
            "the base order size, add-ons, volume scale or maximum active groups."
        ) % {**p, "unit": unit}
    if code is planning.ErrorCode.RECOVERY_WITHOUT_TRIGGER:
        return _("Recovery Mode needs at least one trigger.")
    return str(code)


@dataclass
class Plan:
    """The add-on ladder and capital a set of settings gives, with what is wrong with them."""

    rungs: list[planning.Rung] = field(default_factory=list)
    direction: str = Direction.LONG
    quote: str = ""
    base_order: Decimal | None = None
    group_capital: Decimal | None = None
    worst_case: Decimal | None = None
    margin_limit: Decimal | None = None
    problems: list[Problem] = field(default_factory=list)
    # False while an add-on field is missing or invalid: there is nothing to show yet.
    complete: bool = False

    @property
    def shortfall(self) -> Decimal | None:
        if self.worst_case is None or self.margin_limit is None:
            return None
        return max(self.worst_case - self.margin_limit, Decimal(0))

    @property
    def display(self) -> dict[str, str]:
        """Amounts for display, localised, without trailing zeros ("" when unknown)."""
        return {
            "base_order": numbers.money(self.base_order, self.quote),
            "group_capital": numbers.money(self.group_capital, self.quote),
            "worst_case": numbers.money(self.worst_case, self.quote),
            "margin_limit": numbers.money(self.margin_limit, self.quote),
        }

    @property
    def rows(self) -> list[dict[str, str | int]]:
        """The ladder for display: distances signed the way the price moves, numbers localised.

        Sizes in the quote currency's precision, percentages to two places.
        """
        pct = numbers.percent
        sign = "+" if self.direction == Direction.SHORT else "−"
        rows: list[dict[str, str | int]] = []
        for rung in self.rungs:
            change = (rung.average_pct - 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
            rows.append(
                {
                    "index": rung.index,
                    "distance": f"{sign}{pct(rung.distance_pct)} %",
                    "zone": f"{sign}{pct(rung.zone_low_pct)} … {sign}{pct(rung.zone_high_pct)} %",
                    "size": numbers.money(rung.size, self.quote),
                    "cumulative": numbers.money(rung.cumulative_size, self.quote),
                    "average": f"{'+' if change > 0 else '−' if change < 0 else ''}"
                    f"{pct(abs(change))} %",
                }
            )
        return rows

    @property
    def other_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.code != planning.ErrorCode.MARGIN_LIMIT_EXCEEDED]

    @property
    def margin_problem(self) -> Problem | None:
        return next(
            (p for p in self.problems if p.code == planning.ErrorCode.MARGIN_LIMIT_EXCEEDED), None
        )


def _recovery(values: Mapping[str, Any]) -> planning.RecoverySettings:
    return planning.RecoverySettings(
        enabled=bool(values.get("recovery_enabled")),
        drawdown_pct=values.get("recovery_drawdown_pct"),
        addons_used=values.get("recovery_addons_used"),
        margin_used_pct=values.get("recovery_margin_used_pct"),
        cautious_after_drawdown=bool(values.get("cautious_after_drawdown")),
    )


def build_plan(values: Mapping[str, Any]) -> Plan:
    """Ladder, worst-case capital and planning problems for (possibly partial) settings.

    `values` uses Strategy field names; missing values simply leave parts of the plan empty.
    """
    direction = values.get("direction") or Direction.LONG
    plan = Plan(
        direction=direction,
        quote=quote_asset(values.get("pairs") or []),
        margin_limit=values.get("margin_limit"),
    )
    if any(values.get(name) is None for name in ADDON_FIELDS):
        return plan
    try:
        settings = planning.AddOnSettings(**{name: values[name] for name in ADDON_FIELDS})
    except (TypeError, ValueError):
        return plan
    groups = values.get("max_active_groups")
    leverage = values.get("leverage")
    issues = planning.validate_settings(
        settings,
        direction,
        max_active_groups=groups,
        margin_limit=plan.margin_limit,
        leverage=leverage,
        recovery=_recovery(values),
    )
    plan.problems = [
        Problem(
            _PLANNING_FIELDS.get(issue.field or "", issue.field),
            str(issue.code),
            _planning_message(issue, plan.quote),
        )
        for issue in issues
    ]
    ladder_fields = set(ADDON_FIELDS) | {"max_active_groups"}
    if any(p.field in ladder_fields for p in plan.problems):
        return plan
    plan.complete = True
    plan.base_order = settings.base_order
    try:
        plan.rungs = planning.ladder(settings, direction)
    except planning.PlanningError:
        plan.rungs = []
    plan.group_capital = planning.worst_case_group_capital(settings)
    if groups is not None:
        plan.worst_case = planning.worst_case_capital(settings, groups)
    return plan


def settings_problems(
    *,
    owner_id: int,
    values: Mapping[str, Any],
    plan: Plan | None = None,
    tradable: Collection[str] | None = None,
) -> list[Problem]:
    """Everything wrong with `values` (Strategy field names) for the user `owner_id`.

    Used by the form and, again, by the services (a strategy can never point at another
    user's connection, whoever calls). `tradable` is the exchange's API symbol list for the
    connection's market; None when it is not known yet (the enable gate then refuses).
    """
    problems: list[Problem] = []
    connection = values.get("connection")
    new_groups = values.get("new_groups_connection")
    if connection is not None and connection.owner_id != owner_id:
        problems.append(
            Problem("connection", "foreign_connection", _("Choose one of your own connections."))
        )
        connection = None
    if new_groups is not None:
        if new_groups.owner_id != owner_id:
            problems.append(
                Problem(
                    "new_groups_connection",
                    "foreign_connection",
                    _("Choose one of your own connections."),
                )
            )
        elif connection is not None and new_groups.pk == connection.pk:
            problems.append(
                Problem(
                    "new_groups_connection",
                    "same_connection",
                    _("New groups need a different connection than the strategy's own."),
                )
            )

    if connection is not None and connection.market != Market.FUTURES:
        if values.get("direction") in (Direction.SHORT, Direction.BOTH):
            problems.append(
                Problem(
                    "direction",
                    "short_needs_futures",
                    _(
                        "Short positions, alone or with long, need a Futures connection; Spot can only go long."
                    ),
                )
            )
        if (values.get("leverage") or 1) != 1:
            problems.append(
                Problem(
                    "leverage",
                    "leverage_needs_futures",
                    _("Leverage needs a Futures connection; on Spot it must be 1."),
                )
            )

    pairs = values.get("pairs")
    if pairs is not None:
        if not pairs:
            problems.append(Problem("pairs", "no_pairs", _("Enter at least one pair.")))
        elif len(pairs) > MAX_PAIRS:
            problems.append(
                Problem(
                    "pairs",
                    "too_many_pairs",
                    _("Enter at most %(max)s pairs.") % {"max": MAX_PAIRS},
                )
            )
        elif not quote_asset(pairs):
            problems.append(
                Problem(
                    "pairs",
                    "mixed_quotes",
                    _(
                        "All pairs must share one quote currency (for example all …/USDT): the "
                        "margin limit is counted in it."
                    ),
                )
            )
        elif tradable is not None and connection is not None:
            missing = [pair for pair in pairs if pair not in tradable]
            if missing:
                problems.append(
                    Problem(
                        "pairs",
                        "pair_not_tradable",
                        _("Not tradable over the API on %(where)s: %(pairs)s.")
                        % {"where": market_label(connection), "pairs": ", ".join(missing)},
                    )
                )

    if plan is None:
        plan = build_plan(values)
    problems += plan.problems
    return problems


def market_label(connection) -> str:
    from connections.presenters import exchange_label

    return f"{exchange_label(connection.exchange, demo=connection.demo)} {Market(connection.market).label}"


_LOAD = object()


def strategy_values(strategy, *, connection=_LOAD, new_groups_connection=_LOAD) -> dict[str, Any]:
    """A saved strategy's settings under their field names (connections as objects).

    Connections passed in (for example rows the caller has locked) are used instead of
    loading the strategy's own relations.
    """
    plain = [name for name in SETTINGS_FIELDS if name not in _CONNECTION_FIELDS]
    values = {name: getattr(strategy, name) for name in plain}
    values["pairs"] = list(strategy.pairs or [])
    values["connection"] = strategy.connection if connection is _LOAD else connection
    values["new_groups_connection"] = (
        strategy.new_groups_connection if new_groups_connection is _LOAD else new_groups_connection
    )
    return values


# --- The enable gate --------------------------------------------------------------------------


class Code(StrEnum):
    SETTINGS_VALID = "settings_valid"
    CONNECTION_ONLINE = "connection_online"
    TEST_RECENT = "test_recent"
    TRADE_PERMISSION = "trade_permission"
    FUTURES_PERMISSION = "futures_permission"
    WITHDRAWAL_DISABLED = "withdrawal_disabled"
    ORDERS_VIA_API = "orders_via_api"
    PAIRS_TRADABLE = "pairs_tradable"
    WORST_CASE_WITHIN_MARGIN = "worst_case_within_margin"
    MARGIN_WITHIN_BALANCE = "margin_within_balance"
    NEW_GROUPS_CONNECTION = "new_groups_connection"


@dataclass(frozen=True)
class Condition:
    code: Code
    passed: bool
    label: str
    # Passed: what was found; failed: what is wrong and what to do about it.
    detail: str = ""
    action_url: str = ""
    action_label: str = ""
    # True when the action starts a connection test (a POST), not a page to open.
    action_starts_test: bool = False
    # Nothing to compare with: it does not block enabling, but it is not a ✓ either.
    unknown: bool = False

    @property
    def state(self) -> str:
        """ "ok", "failed" or "unknown": the mark the checklist shows (✓, ✗, ?)."""
        if self.unknown:
            return "unknown"
        return "ok" if self.passed else "failed"


@dataclass(frozen=True)
class GateResult:
    conditions: tuple[Condition, ...]

    @property
    def passed(self) -> bool:
        return all(condition.passed for condition in self.conditions)

    @property
    def failed(self) -> list[Condition]:
        return [condition for condition in self.conditions if not condition.passed]

    def __getitem__(self, code: str) -> Condition:
        for condition in self.conditions:
            if condition.code == code:
                return condition
        raise KeyError(code)

    def __contains__(self, code: object) -> bool:
        return any(c.code == code for c in self.conditions)


def _outcome(report: CheckReport | None, name: CheckName) -> str | None:
    check = report.check(name) if report else None
    return str(check.outcome) if check else None


def evaluate(
    strategy,
    *,
    connection,
    new_groups_connection=None,
    tradable: Collection[str] | None,
    now: datetime,
    max_test_age: timedelta,
) -> GateResult:
    """Every enable condition for `strategy`, with its reason. Reads only its arguments.

    `connection` and `new_groups_connection` are passed in (not read from the strategy) so that
    the service can hand over rows it has locked; `tradable` is the API symbol list of the
    connection's exchange and market, None if it has never been fetched.
    """
    conditions: list[Condition] = []
    add = conditions.append
    connection_url = reverse("connections:detail", args=[connection.pk])
    test_url = reverse("connections:test", args=[connection.pk])
    # While a test runs, starting another would only be refused: the live status shows instead.
    can_test = connection.status != ConnectionStatus.TESTING
    edit_url = reverse("strategies:edit", args=[strategy.pk])
    futures = connection.market == Market.FUTURES
    where = market_label(connection)
    values = strategy_values(
        strategy, connection=connection, new_groups_connection=new_groups_connection
    )
    plan = build_plan(values)

    settings_issues = [
        p
        for p in settings_problems(owner_id=strategy.owner_id, values=values, plan=plan)
        if p.code != planning.ErrorCode.MARGIN_LIMIT_EXCEEDED
    ]
    add(
        Condition(
            Code.SETTINGS_VALID,
            not settings_issues,
            _("The settings are complete and consistent"),
            " ".join(p.message for p in settings_issues),
            edit_url if settings_issues else "",
            _("Edit settings") if settings_issues else "",
        )
    )

    status = connection.status
    online = status == ConnectionStatus.ONLINE
    if online:
        detail = _("“%(name)s” passed its last test.") % {"name": connection.name}
    elif status == ConnectionStatus.TESTING:
        detail = _("A test is running. This list updates when it finishes.")
    elif status == ConnectionStatus.FAILED:
        detail = _("“%(name)s” failed its last test (%(problem)s). Fix it, then test again.") % {
            "name": connection.name,
            "problem": connection.get_problem_category_display() or _("see the connection page"),
        }
    else:
        detail = _(
            "“%(name)s” has not been tested since it was added or its key was replaced. Run the "
            "connection test."
        ) % {"name": connection.name}
    if online or status == ConnectionStatus.TESTING:
        url, action, starts_test = "", "", False
    elif status == ConnectionStatus.FAILED:
        # The key or its permissions need fixing first; the connection page says how.
        url, action, starts_test = connection_url, _("Open the connection"), False
    else:
        url, action, starts_test = test_url, _("Run the connection test"), True
    add(
        Condition(
            Code.CONNECTION_ONLINE,
            online,
            _("Its connection is Online"),
            detail,
            url,
            action,
            action_starts_test=starts_test,
        )
    )

    tested_at = connection.last_tested_at
    replaced_at = connection.key_replaced_at
    # A report from before a key replacement describes the old key: it proves nothing.
    old_key = replaced_at is not None and (tested_at is None or tested_at < replaced_at)
    recent = tested_at is not None and not old_key and now - tested_at <= max_test_age
    hours = number(Decimal(max_test_age.total_seconds()) / 3600)
    if old_key:
        detail = _("The key was replaced after the last test. Test it again.")
    elif recent:
        detail = _("Last tested: %(when)s") % {"when": when(tested_at)}
    elif tested_at is None:
        detail = _("It has never been tested. Run the connection test.")
    else:
        detail = _("The last test is more than %(hours)s hours old. Test it again.") % {
            "hours": hours
        }
    if recent or not can_test:
        url, action = "", ""
    else:
        url = test_url
        action = _("Run the connection test") if tested_at is None else _("Test again")
    add(
        Condition(
            Code.TEST_RECENT,
            recent,
            _("Its last test is recent (at most %(hours)s hours old)") % {"hours": hours},
            detail,
            url,
            action,
            action_starts_test=bool(url),
        )
    )

    report = None
    if connection.last_report and not old_key:
        report = CheckReport.from_dict(connection.last_report)
    trade = _outcome(report, CheckName.TRADE_PERMISSION)
    if trade == Outcome.OK:
        detail = _("The key may place orders.")
    elif trade == Outcome.NOT_VERIFIABLE:
        detail = _("%(where)s cannot confirm that this key may trade.") % {"where": where}
    elif trade == Outcome.FAILED:
        detail = _(
            "The key may not trade. Allow trading on the key at the exchange (never withdrawal), "
            "then test again."
        )
    else:
        detail = _("Not established yet. Test the connection again.")
    if trade == Outcome.OK:
        url, action, starts_test = "", "", False
    elif trade is None:
        url, action = (test_url, _("Test again")) if can_test else ("", "")
        starts_test = can_test
    else:
        url, action, starts_test = connection_url, _("Open the connection"), False
    add(
        Condition(
            Code.TRADE_PERMISSION,
            trade == Outcome.OK,
            _("The key has trade permission"),
            detail,
            url,
            action,
            action_starts_test=starts_test,
        )
    )

    if futures:
        ok = _outcome(report, CheckName.FUTURES_PERMISSION) == Outcome.OK
        add(
            Condition(
                Code.FUTURES_PERMISSION,
                ok,
                _("The key has futures permission"),
                _("The key may use the futures account.")
                if ok
                else _(
                    "The key may not use the futures account. Enable the futures permission on "
                    "the key, then test again."
                ),
                "" if ok else connection_url,
                "" if ok else _("Open the connection"),
            )
        )

    withdrawal = _outcome(report, CheckName.WITHDRAWAL)
    replace_url = reverse("connections:replace_key", args=[connection.pk])
    if withdrawal == Outcome.OK:
        ok, detail, url, action = True, _("The exchange reports withdrawal disabled."), "", ""
    elif withdrawal == Outcome.FAILED:
        ok, url, action = False, replace_url, _("Replace the key")
        detail = _(
            "Withdrawal is enabled on this key. Delete it on the exchange, create one without "
            "withdrawal permission and replace the key here."
        )
    elif withdrawal == Outcome.NOT_VERIFIABLE and connection.demo and not _live_key(connection):
        # A key of an exchange's demo environment holds demo funds only (Binance's demo does
        # not describe its keys at all): nothing real can be withdrawn with it.
        ok, url, action = True, "", ""
        detail = _("A demo key holds only demo funds; the exchange's demo does not report it.")
    elif withdrawal == Outcome.NOT_VERIFIABLE:
        ok = bool(connection.withdrawal_off_confirmed)
        url, action = ("", "") if ok else (replace_url, _("Replace the key"))
        detail = (
            _("The exchange cannot tell; you confirmed that withdrawal is disabled.")
            if ok
            else _(
                "The exchange cannot tell whether this key may withdraw. Replace the key and "
                "confirm that withdrawal is disabled on it."
            )
        )
    else:
        ok = False
        url, action = (test_url, _("Test again")) if can_test else ("", "")
        detail = _("Not established yet. Test the connection again.")
    add(
        Condition(
            Code.WITHDRAWAL_DISABLED,
            ok,
            _("Withdrawal is disabled on the key"),
            detail,
            url,
            action,
            action_starts_test=url == test_url,
        )
    )

    try:
        spec = registry.get(connection.exchange)
        accepts = spec.futures_orders_via_api if futures else spec.spot_orders_via_api
    except registry.UnknownExchange:
        accepts = False
    add(
        Condition(
            Code.ORDERS_VIA_API,
            accepts,
            _("The exchange accepts orders over its API for this market"),
            _("%(where)s accepts orders over the API.") % {"where": where}
            if accepts
            else _(
                "%(where)s does not accept orders over its API (MEXC closed futures order "
                "placement for API users in 2022). Use a Spot connection or another exchange."
            )
            % {"where": where},
        )
    )

    pairs = values["pairs"]
    # A key the exchange limits to some pairs (Gate's trading-pair whitelist), as its last
    # test reported them: other pairs would be refused when the strategy trades.
    key_pairs = report.key_pairs if report else None
    if tradable is None:
        ok, detail = False, _("Symbol list not yet available — try again shortly.")
    else:
        missing = [pair for pair in pairs if pair not in tradable]
        outside_key = [pair for pair in pairs if key_pairs and pair not in key_pairs]
        ok = bool(pairs) and not missing and not outside_key
        if ok:
            detail = _("%(pairs)s can be traded over the API.") % {"pairs": ", ".join(pairs)}
        elif not pairs:
            detail = _("The strategy has no pairs yet.")
        elif missing:
            detail = _("Not tradable over the API on %(where)s: %(pairs)s. Edit the pairs.") % {
                "where": where,
                "pairs": ", ".join(missing),
            }
        else:
            detail = _(
                "This key may only trade %(allowed)s; %(pairs)s are outside its trading-pair "
                "whitelist on the exchange. Edit the pairs, or add them to the key's whitelist "
                "and test the connection again."
            ) % {"allowed": ", ".join(key_pairs or []), "pairs": ", ".join(outside_key)}
    add(
        Condition(
            Code.PAIRS_TRADABLE,
            ok,
            _("Every pair is tradable over the API"),
            detail,
            "" if ok or tradable is None else edit_url,
            "" if ok or tradable is None else _("Edit settings"),
        )
    )

    unit = f" {plan.quote}" if plan.quote else ""
    margin_limit = strategy.margin_limit
    if plan.worst_case is None:
        ok, detail = False, _("The worst case cannot be computed until the settings are valid.")
    elif plan.worst_case > margin_limit:
        ok = False
        detail = plan.margin_problem.message if plan.margin_problem else ""
    else:
        ok = True
        detail = _("Worst case %(worst)s%(unit)s, margin limit %(limit)s%(unit)s.") % {
            "worst": numbers.money(plan.worst_case, plan.quote),
            "limit": numbers.money(margin_limit, plan.quote),
            "unit": unit,
        }
    add(
        Condition(
            Code.WORST_CASE_WITHIN_MARGIN,
            ok,
            _("Worst-case capital fits the margin limit"),
            detail,
            "" if ok else edit_url,
            "" if ok else _("Edit settings"),
        )
    )

    balance = report.free_balance(plan.quote) if report and plan.quote else None
    unknown = balance is None
    if unknown:
        ok = True
        detail = _(
            "The last test did not report a free %(asset)s balance, so it cannot be compared."
        ) % {"asset": plan.quote or _("quote")}
    elif margin_limit <= balance:
        ok = True
        detail = _("Free balance in the last test: %(balance)s%(unit)s.") % {
            "balance": numbers.money(balance, plan.quote),
            "unit": unit,
        }
    else:
        ok = False
        detail = _(
            "The margin limit of %(limit)s%(unit)s is more than the free balance of "
            "%(balance)s%(unit)s seen in the last test. Lower the margin limit, or add funds "
            "and test the connection again."
        ) % {
            "limit": numbers.money(margin_limit, plan.quote),
            "balance": numbers.money(balance, plan.quote),
            "unit": unit,
        }
    add(
        Condition(
            Code.MARGIN_WITHIN_BALANCE,
            ok,
            _("The margin limit fits the free balance"),
            detail,
            "" if ok else edit_url,
            "" if ok else _("Edit settings"),
            unknown=unknown,
        )
    )

    if new_groups_connection is not None:
        other = new_groups_connection
        if other.owner_id != strategy.owner_id or other.pk == connection.pk:
            ok = False
            detail = _("Choose another connection of yours for new groups.")
            url, action = edit_url, _("Edit settings")
        elif other.status != ConnectionStatus.ONLINE:
            ok = False
            detail = _("“%(name)s” is not Online. Test it, or choose another connection.") % {
                "name": other.name
            }
            url, action = reverse("connections:detail", args=[other.pk]), _("Open the connection")
        else:
            ok, url, action = True, "", ""
            detail = _("New groups go through “%(name)s” while a group is in Recovery Mode.") % {
                "name": other.name
            }
        add(
            Condition(
                Code.NEW_GROUPS_CONNECTION,
                ok,
                _("The separate connection for new groups is Online"),
                detail,
                url,
                action,
            )
        )
    return GateResult(_one_test_button(conditions))


def _one_test_button(conditions: list[Condition]) -> tuple[Condition, ...]:
    """Only the first condition a connection test would settle carries the test button.

    An untested connection fails up to four conditions for the same reason; four identical
    buttons would suggest four different actions.
    """
    seen = False
    result = []
    for condition in conditions:
        if condition.action_starts_test:
            if seen:
                condition = replace(
                    condition, action_url="", action_label="", action_starts_test=False
                )
            seen = True
        result.append(condition)
    return tuple(result)


def _live_key(connection) -> bool:
    """The connection's demo environment is reached with a live key (BingX): it can move real
    funds whatever the environment. Unknown exchanges count as live."""
    try:
        return registry.get(connection.exchange).demo_keys_are_live_keys
    except registry.UnknownExchange:
        return True
