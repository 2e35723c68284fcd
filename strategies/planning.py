"""Pure planning maths for add-on strategies (DCA; de "Nachkauf", fr "renfort").

Nothing here touches Django, the database or the network: the strategy form, the services and
the signal pipeline call these functions with plain values and get plain values back, so every
number the user sees can be checked by hand and by the tests.

Conventions (the product pages give no numbers or formulas; these are our decisions):

* Money is in the quote currency (USDT for BTC/USDT). A size is the capital the strategy commits
  with that order; on futures that is the order's margin and its notional is size x leverage.
  That is why leverage never enters the capital maths and the margin limit is compared with
  the sizes directly.
* Orders are "equal quote amount" orders: spending q quote at price p buys q / p units, and a
  group's average price is total quote / total units (the quote-weighted harmonic mean).
* Add-on k (1-based) triggers at a cumulative distance from the group's entry price. The gaps
  between triggers start at ``first_distance_pct`` and each next gap is the previous one times
  ``step_scale``. Long add-ons sit below the entry, short add-ons above it.
* Add-on 1 has the size of the base order; each next add-on is the previous one times
  ``volume_scale`` (we have one size field, so the first add-on reuses it).
* Each add-on may fill inside its zone: from its own trigger distance to the next add-on's
  trigger distance. The last add-on's zone runs to where an add-on after it would trigger (its
  own gap x ``step_scale``), but never past a price of zero for a long. Zone bounds are
  inclusive.
* Outputs are rounded half-up: prices and averages to 8 decimal places, money to 8, percentages
  to 4. Sizes are rounded before they are summed, so cumulative sizes and worst-case capital are
  exactly what the rounded orders would spend, and the rounded trigger distances are the plan
  from which prices and averages are derived. Prices of assets below about 0.0001 quote lose
  significant digits at 8 places; the order placement rounds to the exchange's tick anyway.
* Every public function computes in its own decimal context, so a caller's thread-local context
  (precision, traps) cannot change the results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum
from functools import wraps
from types import MappingProxyType
from typing import Final, ParamSpec, TypeVar

PRICE_PLACES: Final = 8
MONEY_PLACES: Final = 8
PCT_PLACES: Final = 4

MAX_ADDONS: Final = 20
MAX_SCALE: Final = Decimal(10)
MIN_DISTANCE_PCT: Final = Decimal("0.01")
# A short's add-ons have no zero floor; this bound only keeps the ladder finite and sane.
MAX_DISTANCE_PCT: Final = Decimal(1000)
MAX_TAKE_PROFIT_PCT: Final = Decimal(1000)
MAX_MONEY: Final = Decimal(10) ** 12
MIN_MONEY: Final = Decimal(1).scaleb(-MONEY_PLACES)
MAX_ACTIVE_GROUPS: Final = 100
MIN_LEVERAGE: Final = 1
MAX_LEVERAGE: Final = 20

_HUNDRED: Final = Decimal(100)
_ONE: Final = Decimal(1)
_ZERO: Final = Decimal(0)

# Far more digits than any validated input needs (10^12 x 10^20 with 8 places is 40 digits), so
# intermediate results are exact enough that only the final, explicit rounding shows.
_CONTEXT: Final = Context(
    prec=80,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _in_context(func: Callable[_P, _R]) -> Callable[_P, _R]:
    @wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(_CONTEXT):
            return func(*args, **kwargs)

    return wrapper


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"
    BOTH = "both"


class RiskLevel(StrEnum):
    CONSERVATIVE = "conservative"
    BALANCED = "balanced"
    AGGRESSIVE = "aggressive"


class ErrorCode(StrEnum):
    """Stable codes for `PlanningError`; the caller maps them to translated messages."""

    NOT_A_NUMBER = "not_a_number"
    MUST_BE_POSITIVE = "must_be_positive"
    TOO_SMALL = "too_small"  # params: min, value
    TOO_LARGE = "too_large"  # params: max, value
    LADDER_REACHES_ZERO = "ladder_reaches_zero"  # params: distance (last add-on, %)
    LADDER_TOO_WIDE = "ladder_too_wide"  # params: distance, max
    TAKE_PROFIT_UNREACHABLE = "take_profit_unreachable"  # params: max, value
    CAPITAL_TOO_LARGE = "capital_too_large"  # params: capital, max
    MARGIN_LIMIT_EXCEEDED = "margin_limit_exceeded"  # params: shortfall, required, margin_limit
    RECOVERY_WITHOUT_TRIGGER = "recovery_without_trigger"


class Reason(StrEnum):
    """Why `addon_decision` allowed or blocked an add-on (shown in the LIVE status)."""

    OK = "ok"
    LIMIT_REACHED = "limit_reached"
    # Also used when the price equals the average: an add-on that does not improve it is
    # pointless risk in Recovery Mode.
    WORSENS_AVERAGE = "worsens_average"
    OUTSIDE_ZONE = "outside_zone"


class Trigger(StrEnum):
    DRAWDOWN = "drawdown"
    CAUTIOUS_AFTER_DRAWDOWN = "cautious_after_drawdown"
    ADDONS_USED = "addons_used"
    MARGIN_USED = "margin_used"


class PlanningError(ValueError):
    """An impossible or unsafe setting.

    Carries a stable `code`, the `field` it belongs to (None for a cross-field problem) and the
    `params` a translated message needs, never English prose, so the form can show it in any
    language.
    """

    def __init__(
        self,
        code: ErrorCode,
        *,
        field: str | None = None,
        params: Mapping[str, Decimal | int] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.params: dict[str, Decimal | int] = dict(params or {})

    def __repr__(self) -> str:
        return f"PlanningError({self.code!r}, field={self.field!r}, params={self.params!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PlanningError):
            return NotImplemented
        return (self.code, self.field, self.params) == (other.code, other.field, other.params)

    __hash__ = None  # type: ignore[assignment]


def _decimal(value: object, name: str) -> Decimal:
    # A binary float cannot hold 0.1 exactly and would make "exact" plans depend on float noise,
    # so a float is a caller bug, not something to round quietly.
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"{name} is not a number: {value!r}") from exc
    raise TypeError(f"{name} must be a Decimal, int or str, not {type(value).__name__}")


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def _positive_decimal(value: object, name: str) -> Decimal:
    number = _decimal(value, name)
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {number}")
    return number


def _quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(_ONE.scaleb(-places), rounding=ROUND_HALF_UP)


def _money(value: Decimal) -> Decimal:
    return _quantize(value, MONEY_PLACES)


def _price(value: Decimal) -> Decimal:
    return _quantize(value, PRICE_PLACES)


def _pct(value: Decimal) -> Decimal:
    return _quantize(value, PCT_PLACES)


def _side(direction: Direction | str) -> Direction:
    """The side whose ladder we plan; BOTH plans like LONG (same shape, the floor at zero)."""
    side = Direction(direction)
    return Direction.LONG if side is Direction.BOTH else side


def _group_side(direction: Direction | str) -> Direction:
    # A group is one position, so it is long or short; BOTH is a strategy permission only.
    side = Direction(direction)
    if side is Direction.BOTH:
        raise ValueError("a group's direction is long or short, not both")
    return side


@dataclass(frozen=True)
class AddOnSettings:
    base_order: Decimal
    max_addons: int
    first_distance_pct: Decimal
    step_scale: Decimal
    volume_scale: Decimal
    take_profit_pct: Decimal

    def __post_init__(self) -> None:
        # Accept int/str for convenience (forms and fixtures), store Decimal only.
        for name in (
            "base_order",
            "first_distance_pct",
            "step_scale",
            "volume_scale",
            "take_profit_pct",
        ):
            object.__setattr__(self, name, _decimal(getattr(self, name), name))
        _integer(self.max_addons, "max_addons")


@dataclass(frozen=True)
class RecoverySettings:
    """Recovery Mode switch and triggers; a trigger set to None is off."""

    enabled: bool = False
    drawdown_pct: Decimal | None = None
    addons_used: int | None = None
    margin_used_pct: Decimal | None = None
    cautious_after_drawdown: bool = False

    def __post_init__(self) -> None:
        for name in ("drawdown_pct", "margin_used_pct"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _decimal(value, name))
        if self.addons_used is not None:
            _integer(self.addons_used, "addons_used")


@dataclass(frozen=True)
class Fill:
    """One filled order of a group (partial fills of one order summed into one Fill)."""

    price: Decimal
    quote: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "price", _positive_decimal(self.price, "price"))
        object.__setattr__(self, "quote", _positive_decimal(self.quote, "quote"))


@dataclass(frozen=True)
class Rung:
    """One planned add-on. Percentages are relative to the group's entry price.

    ``zone_low_pct <= zone_high_pct`` are distances from the entry (nearer, farther), like
    ``distance_pct``; ``zone_low_price <= zone_high_price`` are absolute prices, so for a long
    ``zone_low_price`` is the price at ``zone_high_pct``.
    """

    index: int
    distance_pct: Decimal
    zone_low_pct: Decimal
    zone_high_pct: Decimal
    size: Decimal
    cumulative_size: Decimal
    # The group's average price after this add-on fills, as % of the entry price.
    average_pct: Decimal
    price: Decimal | None = None
    average_price: Decimal | None = None
    zone_low_price: Decimal | None = None
    zone_high_price: Decimal | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: Reason
    # Numbers for the LIVE status message, e.g. the average the candidate was compared with.
    params: Mapping[str, Decimal | int] = field(default_factory=dict, hash=False)


# Our own defaults: the product pages name the risk levels but give no numbers. Conservative
# keeps the worst case small (4x the base order) with few, widely spaced, equal add-ons;
# aggressive buys more and bigger add-ons closer together (about 50x the base order) and needs
# a smaller take profit because its average follows the price more closely.
PRESETS: Final[dict[RiskLevel, Mapping[str, Decimal | int]]] = {
    # Add-ons at 3, 7.5, 14.25 % from the entry; worst case 4x the base order.
    RiskLevel.CONSERVATIVE: MappingProxyType(
        {
            "max_addons": 3,
            "first_distance_pct": Decimal("3"),
            "step_scale": Decimal("1.5"),
            "volume_scale": Decimal("1"),
            "take_profit_pct": Decimal("1.5"),
        }
    ),
    # Add-ons at 2, 4.6, 7.98, 12.374, 18.0862 %; worst case 10.0431x the base order.
    RiskLevel.BALANCED: MappingProxyType(
        {
            "max_addons": 5,
            "first_distance_pct": Decimal("2"),
            "step_scale": Decimal("1.3"),
            "volume_scale": Decimal("1.3"),
            "take_profit_pct": Decimal("1.2"),
        }
    ),
    # Add-ons at 1.5, 3.3, 5.46, 8.052, 11.1624, 14.89488, 19.373856 %; worst case 18.5828x the
    # base order. More, closer and growing add-ons than Balanced, yet the form's default base
    # order (50) and margin limit (1,000) still fit: a preset must never start out invalid.
    RiskLevel.AGGRESSIVE: MappingProxyType(
        {
            "max_addons": 7,
            "first_distance_pct": Decimal("1.5"),
            "step_scale": Decimal("1.2"),
            "volume_scale": Decimal("1.3"),
            "take_profit_pct": Decimal("1"),
        }
    ),
}


def preset_for(risk_level: RiskLevel | str) -> dict[str, Decimal | int]:
    """The add-on fields of a risk level, as a fresh dict the form may use as initial data."""
    return dict(PRESETS[RiskLevel(risk_level)])


def preset_settings(risk_level: RiskLevel | str, base_order: Decimal) -> AddOnSettings:
    """The settings a risk level gives before the user adjusts anything."""
    preset = PRESETS[RiskLevel(risk_level)]
    return AddOnSettings(
        base_order=base_order,
        max_addons=int(preset["max_addons"]),
        first_distance_pct=Decimal(preset["first_distance_pct"]),
        step_scale=Decimal(preset["step_scale"]),
        volume_scale=Decimal(preset["volume_scale"]),
        take_profit_pct=Decimal(preset["take_profit_pct"]),
    )


# --- validation -------------------------------------------------------------------------------


def _range_issues(
    name: str,
    value: Decimal | int,
    *,
    positive: bool = False,
    minimum: Decimal | int | None = None,
    maximum: Decimal | int | None = None,
) -> list[PlanningError]:
    if isinstance(value, Decimal) and not value.is_finite():
        return [PlanningError(ErrorCode.NOT_A_NUMBER, field=name)]
    if positive and value <= 0:
        return [PlanningError(ErrorCode.MUST_BE_POSITIVE, field=name, params={"value": value})]
    if minimum is not None and value < minimum:
        return [
            PlanningError(ErrorCode.TOO_SMALL, field=name, params={"min": minimum, "value": value})
        ]
    if maximum is not None and value > maximum:
        return [
            PlanningError(ErrorCode.TOO_LARGE, field=name, params={"max": maximum, "value": value})
        ]
    return []


_SETTINGS_FIELDS: Final = frozenset(
    (
        "base_order",
        "max_addons",
        "first_distance_pct",
        "step_scale",
        "volume_scale",
        "take_profit_pct",
    )
)


def _input_issues(settings: AddOnSettings) -> list[PlanningError]:
    """Each field on its own; what the ladder maths needs before it can run safely."""
    return [
        *_range_issues(
            "base_order", settings.base_order, positive=True, minimum=MIN_MONEY, maximum=MAX_MONEY
        ),
        *_int_issues("max_addons", settings.max_addons, 0, MAX_ADDONS),
        *_range_issues(
            "first_distance_pct",
            settings.first_distance_pct,
            positive=True,
            minimum=MIN_DISTANCE_PCT,
            maximum=MAX_DISTANCE_PCT,
        ),
        # Scales below 1 would shrink the gaps or sizes, i.e. a ladder that thins out where the
        # risk grows; above 10 the numbers explode within a few add-ons.
        *_range_issues("step_scale", settings.step_scale, minimum=_ONE, maximum=MAX_SCALE),
        *_range_issues("volume_scale", settings.volume_scale, minimum=_ONE, maximum=MAX_SCALE),
        *_range_issues(
            "take_profit_pct",
            settings.take_profit_pct,
            positive=True,
            maximum=MAX_TAKE_PROFIT_PCT,
        ),
    ]


def _raise_for_inputs(settings: AddOnSettings) -> None:
    issues = _input_issues(settings)
    if issues:
        raise issues[0]


def _int_issues(name: str, value: int, minimum: int, maximum: int) -> list[PlanningError]:
    return _range_issues(name, _integer(value, name), minimum=minimum, maximum=maximum)


def _recovery_issues(recovery: RecoverySettings, settings: AddOnSettings) -> list[PlanningError]:
    if not recovery.enabled:
        return []
    issues: list[PlanningError] = []
    if recovery.drawdown_pct is not None:
        issues += _range_issues(
            "drawdown_pct", recovery.drawdown_pct, positive=True, maximum=_HUNDRED
        )
    if recovery.addons_used is not None:
        issues += _int_issues("addons_used", recovery.addons_used, 1, settings.max_addons)
    if recovery.margin_used_pct is not None:
        issues += _range_issues(
            "margin_used_pct", recovery.margin_used_pct, positive=True, maximum=_HUNDRED
        )
    if (
        recovery.drawdown_pct is None
        and recovery.addons_used is None
        and recovery.margin_used_pct is None
        and not recovery.cautious_after_drawdown
    ):
        issues.append(PlanningError(ErrorCode.RECOVERY_WITHOUT_TRIGGER))
    return issues


@_in_context
def validate_settings(
    settings: AddOnSettings,
    direction: Direction | str = Direction.LONG,
    *,
    max_active_groups: int | None = None,
    margin_limit: Decimal | None = None,
    leverage: int | None = None,
    recovery: RecoverySettings | None = None,
) -> list[PlanningError]:
    """Every problem with the settings, as `PlanningError`s (returned, not raised).

    An empty list means the plan is safe to run. The optional arguments are checked only when
    given; the margin check needs both `max_active_groups` and `margin_limit`. BOTH is checked
    as LONG and SHORT at once: the long ladder's zero floor and the short take-profit floor.
    """
    strategy_direction = Direction(direction)
    issues = _input_issues(settings)
    groups_ok = True
    if max_active_groups is not None:
        group_issues = _int_issues("max_active_groups", max_active_groups, 1, MAX_ACTIVE_GROUPS)
        groups_ok = not group_issues
        issues += group_issues
    limit_ok = True
    if margin_limit is not None:
        margin_limit = _decimal(margin_limit, "margin_limit")
        limit_issues = _range_issues("margin_limit", margin_limit, positive=True, maximum=MAX_MONEY)
        limit_ok = not limit_issues
        issues += limit_issues
    if leverage is not None:
        issues += _int_issues("leverage", leverage, MIN_LEVERAGE, MAX_LEVERAGE)
    if recovery is not None:
        issues += _recovery_issues(recovery, settings)

    if any(issue.field in _SETTINGS_FIELDS for issue in issues):
        # The ladder maths below assumes sane inputs.
        return issues

    # Selling short with a take profit of 100 % or more would need a price of zero or below.
    if strategy_direction is not Direction.LONG and settings.take_profit_pct >= _HUNDRED:
        issues.append(
            PlanningError(
                ErrorCode.TAKE_PROFIT_UNREACHABLE,
                field="take_profit_pct",
                params={"max": _HUNDRED, "value": settings.take_profit_pct},
            )
        )

    if settings.max_addons:
        last = _distances(settings)[settings.max_addons - 1]
        if strategy_direction is not Direction.SHORT and last >= _HUNDRED:
            issues.append(PlanningError(ErrorCode.LADDER_REACHES_ZERO, params={"distance": last}))
        elif last > MAX_DISTANCE_PCT:
            issues.append(
                PlanningError(
                    ErrorCode.LADDER_TOO_WIDE,
                    params={"distance": last, "max": MAX_DISTANCE_PCT},
                )
            )

    group_capital = _group_capital(settings)
    required = group_capital * (max_active_groups if max_active_groups and groups_ok else 1)
    if required > MAX_MONEY:
        issues.append(
            PlanningError(
                ErrorCode.CAPITAL_TOO_LARGE, params={"capital": required, "max": MAX_MONEY}
            )
        )
    elif max_active_groups is not None and margin_limit is not None and groups_ok and limit_ok:
        shortfall = max(required - margin_limit, _ZERO)
        if shortfall:
            issues.append(
                PlanningError(
                    ErrorCode.MARGIN_LIMIT_EXCEEDED,
                    field="margin_limit",
                    params={
                        "shortfall": shortfall,
                        "required": required,
                        "margin_limit": margin_limit,
                    },
                )
            )
    return issues


# --- ladder -----------------------------------------------------------------------------------


def _distances(settings: AddOnSettings) -> list[Decimal]:
    """Rounded cumulative trigger distances of add-ons 1..max_addons + 1.

    The extra one is where an add-on after the last would trigger; it closes the last zone.
    Rounding each cumulative distance (not each gap) keeps the error from adding up.
    """
    distances = []
    gap = settings.first_distance_pct
    total = _ZERO
    for _ in range(settings.max_addons + 1):
        total += gap
        distances.append(_pct(total))
        gap *= settings.step_scale
    return distances


def _sizes(settings: AddOnSettings) -> list[Decimal]:
    return [
        _money(settings.base_order * settings.volume_scale**k) for k in range(settings.max_addons)
    ]


def _group_capital(settings: AddOnSettings) -> Decimal:
    return _money(settings.base_order) + sum(_sizes(settings), _ZERO)


def _price_ratio(side: Direction, distance_pct: Decimal) -> Decimal:
    """Price at `distance_pct` from the entry, as a fraction of the entry price."""
    offset = distance_pct / _HUNDRED
    return _ONE - offset if side is Direction.LONG else _ONE + offset


@_in_context
def ladder(
    settings: AddOnSettings,
    direction: Direction | str = Direction.LONG,
    entry_price: Decimal | None = None,
) -> list[Rung]:
    """The planned add-ons of one group, nearest first. Raises `PlanningError` if invalid.

    Without `entry_price` everything is relative to the entry; with it, absolute prices are
    filled in as well. BOTH gives the LONG ladder.
    """
    side = _side(direction)
    issues = validate_settings(settings, side)
    if issues:
        raise issues[0]
    entry = None if entry_price is None else _positive_decimal(entry_price, "entry_price")

    distances = _distances(settings)
    base = _money(settings.base_order)
    total_quote = base
    # Units bought, with the entry price taken as 1; the ratio total_quote / total_units is
    # then the average price as a fraction of the entry.
    total_units = base
    rungs = []
    for number, size in enumerate(_sizes(settings), start=1):
        distance = distances[number - 1]
        total_quote += size
        total_units += size / _price_ratio(side, distance)
        average_ratio = total_quote / total_units
        zone_high = distances[number]
        if side is Direction.LONG:
            zone_high = min(zone_high, _HUNDRED)
        prices: dict[str, Decimal] = {}
        if entry is not None:
            near = entry * _price_ratio(side, distance)
            far = entry * _price_ratio(side, zone_high)
            prices = {
                "price": _price(near),
                "average_price": _price(entry * average_ratio),
                "zone_low_price": _price(min(near, far)),
                "zone_high_price": _price(max(near, far)),
            }
        rungs.append(
            Rung(
                index=number,
                distance_pct=distance,
                zone_low_pct=distance,
                zone_high_pct=zone_high,
                size=size,
                cumulative_size=total_quote,
                average_pct=_pct(average_ratio * _HUNDRED),
                **prices,
            )
        )
    return rungs


@_in_context
def worst_case_group_capital(settings: AddOnSettings) -> Decimal:
    """Base order plus every add-on: what one group commits if all add-ons fill."""
    _raise_for_inputs(settings)
    return _group_capital(settings)


@_in_context
def worst_case_capital(settings: AddOnSettings, max_active_groups: int) -> Decimal:
    """What the strategy commits if every allowed group fills every add-on."""
    _raise_for_inputs(settings)
    issues = _int_issues("max_active_groups", max_active_groups, 1, MAX_ACTIVE_GROUPS)
    if issues:
        raise issues[0]
    return _group_capital(settings) * max_active_groups


@_in_context
def margin_shortfall(
    settings: AddOnSettings, max_active_groups: int, margin_limit: Decimal
) -> Decimal:
    """0 if the worst case fits the margin limit, else by how much it exceeds it."""
    limit = _decimal(margin_limit, "margin_limit")
    issues = _range_issues("margin_limit", limit, positive=True)
    if issues:
        raise issues[0]
    return max(worst_case_capital(settings, max_active_groups) - limit, _ZERO)


# --- groups -----------------------------------------------------------------------------------


def _exact_average(fills: Sequence[Fill]) -> Decimal:
    # Unrounded, so that comparisons with a candidate price are not decided by rounding.
    if not fills:
        raise ValueError("a group has at least one fill")
    total_quote = sum((fill.quote for fill in fills), _ZERO)
    total_units = sum((fill.quote / fill.price for fill in fills), _ZERO)
    return total_quote / total_units


@_in_context
def group_average(fills: Sequence[Fill]) -> Decimal:
    """The group's average price: total quote / total units, rounded to 8 places."""
    return _price(_exact_average(fills))


@_in_context
def improves_average(
    direction: Direction | str, fills: Sequence[Fill], candidate_price: Decimal
) -> bool:
    """Long: strictly below the current average; short: strictly above."""
    side = _group_side(direction)
    candidate = _positive_decimal(candidate_price, "candidate_price")
    average = _exact_average(fills)
    return candidate < average if side is Direction.LONG else candidate > average


@_in_context
def take_profit_price(
    direction: Direction | str, average_price: Decimal, take_profit_pct: Decimal
) -> Decimal:
    """The exit price of a group: `take_profit_pct` beyond its average in its favour."""
    side = _group_side(direction)
    average = _positive_decimal(average_price, "average_price")
    offset = _decimal(take_profit_pct, "take_profit_pct") / _HUNDRED
    return _price(average * (_ONE + offset if side is Direction.LONG else _ONE - offset))


@_in_context
def addon_decision(
    direction: Direction | str,
    settings: AddOnSettings,
    fills: Sequence[Fill],
    candidate_price: Decimal,
    *,
    recovery_mode: bool,
    entry_price: Decimal | None = None,
) -> Decision:
    """May the group add at `candidate_price`?

    `fills` are the group's orders so far, the entry first, so len(fills) - 1 add-ons are used.
    The add-on limit always applies. In Recovery Mode the candidate must also improve the
    average and lie inside the next add-on's zone, measured from `entry_price` (default: the
    first fill's price). Outside Recovery Mode the signal's own logic decides the price.
    Raises `PlanningError` for invalid settings.
    """
    side = _group_side(direction)
    _raise_for_inputs(settings)
    candidate = _positive_decimal(candidate_price, "candidate_price")
    if not fills:
        raise ValueError("an add-on needs an open group with at least one fill")
    used = len(fills) - 1
    if used >= settings.max_addons:
        return Decision(False, Reason.LIMIT_REACHED, {"max_addons": settings.max_addons})
    if not recovery_mode:
        return Decision(True, Reason.OK)

    average = _exact_average(fills)
    if not improves_average(side, fills, candidate):
        return Decision(False, Reason.WORSENS_AVERAGE, {"average": _price(average)})

    entry = fills[0].price if entry_price is None else entry_price
    rung = ladder(settings, side, entry)[used]
    assert rung.zone_low_price is not None and rung.zone_high_price is not None
    zone = {"zone_low": rung.zone_low_price, "zone_high": rung.zone_high_price}
    if not rung.zone_low_price <= candidate <= rung.zone_high_price:
        return Decision(False, Reason.OUTSIDE_ZONE, zone)
    return Decision(True, Reason.OK, zone)


# --- Recovery Mode ----------------------------------------------------------------------------


@_in_context
def group_drawdown_pct(
    direction: Direction | str, fills: Sequence[Fill], current_price: Decimal
) -> Decimal:
    """How far the price has moved against the group, in % of its average (0 if in profit)."""
    side = _group_side(direction)
    price = _positive_decimal(current_price, "current_price")
    average = _exact_average(fills)
    adverse = average - price if side is Direction.LONG else price - average
    return _pct(max(adverse, _ZERO) / average * _HUNDRED)


@_in_context
def recovery_triggered(
    recovery: RecoverySettings,
    *,
    direction: Direction | str,
    fills: Sequence[Fill],
    current_price: Decimal,
    margin_limit: Decimal,
    margin_used: Decimal,
) -> list[Trigger]:
    """Which Recovery Mode triggers have fired for this group; empty when none (or disabled).

    * drawdown: the price is at least `drawdown_pct` % against the group's average.
    * cautious_after_drawdown: the user chose to turn cautious after a drawdown, so any adverse
      move from the average (the group is under water) is enough, without waiting for the
      drawdown threshold.
    * addons_used: at least `addons_used` add-ons have filled.
    * margin_used: `margin_used` (quote, what the strategy has committed) is at least
      `margin_used_pct` % of `margin_limit`.
    """
    if not recovery.enabled:
        return []
    side = _group_side(direction)
    limit = _positive_decimal(margin_limit, "margin_limit")
    used_margin = _decimal(margin_used, "margin_used")
    if not used_margin.is_finite() or used_margin < 0:
        raise ValueError(f"margin_used must be zero or positive, got {used_margin}")
    price = _positive_decimal(current_price, "current_price")
    # Compare unrounded values so a threshold is never crossed by rounding alone.
    average = _exact_average(fills)
    adverse = average - price if side is Direction.LONG else price - average

    fired: list[Trigger] = []
    if recovery.drawdown_pct is not None and adverse / average * _HUNDRED >= recovery.drawdown_pct:
        fired.append(Trigger.DRAWDOWN)
    if recovery.cautious_after_drawdown and adverse > 0:
        fired.append(Trigger.CAUTIOUS_AFTER_DRAWDOWN)
    if recovery.addons_used is not None and len(fills) - 1 >= recovery.addons_used:
        fired.append(Trigger.ADDONS_USED)
    if (
        recovery.margin_used_pct is not None
        and used_margin / limit * _HUNDRED >= recovery.margin_used_pct
    ):
        fired.append(Trigger.MARGIN_USED)
    return fired


__all__ = [
    "MAX_ACTIVE_GROUPS",
    "MAX_ADDONS",
    "MAX_DISTANCE_PCT",
    "MAX_LEVERAGE",
    "MAX_MONEY",
    "MAX_SCALE",
    "MAX_TAKE_PROFIT_PCT",
    "MIN_DISTANCE_PCT",
    "MIN_LEVERAGE",
    "MIN_MONEY",
    "MONEY_PLACES",
    "PCT_PLACES",
    "PRESETS",
    "PRICE_PLACES",
    "AddOnSettings",
    "Decision",
    "Direction",
    "ErrorCode",
    "Fill",
    "PlanningError",
    "Reason",
    "RecoverySettings",
    "RiskLevel",
    "Rung",
    "Trigger",
    "addon_decision",
    "group_average",
    "group_drawdown_pct",
    "improves_average",
    "ladder",
    "margin_shortfall",
    "preset_for",
    "preset_settings",
    "recovery_triggered",
    "take_profit_price",
    "validate_settings",
    "worst_case_capital",
    "worst_case_group_capital",
]
