from __future__ import annotations

from dataclasses import fields
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from strategies.planning import (
    PRESETS,
    AddOnSettings,
    Decision,
    Direction,
    ErrorCode,
    Fill,
    PlanningError,
    Reason,
    RecoverySettings,
    RiskLevel,
    Trigger,
    addon_decision,
    group_average,
    group_drawdown_pct,
    improves_average,
    ladder,
    margin_shortfall,
    preset_for,
    preset_settings,
    recovery_triggered,
    take_profit_price,
    validate_settings,
    worst_case_capital,
    worst_case_group_capital,
)

D = Decimal

# The autouse fixtures of tests/conftest.py (HTTP mock, cache clear) are harmless to share
# between the examples of one property.
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def exact_average(fills: list[tuple[int | Fraction, int | Fraction]]) -> Fraction:
    """Independent oracle: quote-weighted harmonic mean of (price, quote) pairs, in fractions."""
    total_quote = sum(Fraction(quote) for _, quote in fills)
    total_units = sum(Fraction(quote) / Fraction(price) for price, quote in fills)
    return total_quote / total_units


def rounded(value: Fraction, places: int = 8) -> Decimal:
    with localcontext(prec=60):
        exact = D(value.numerator) / D(value.denominator)
        return exact.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)


def make(**overrides: object) -> AddOnSettings:
    values: dict[str, object] = {
        "base_order": D(100),
        "max_addons": 3,
        "first_distance_pct": D(2),
        "step_scale": D(1),
        "volume_scale": D(1),
        "take_profit_pct": D("1.5"),
    }
    values.update(overrides)
    return AddOnSettings(**values)  # type: ignore[arg-type]


def fills(*prices: int | str, quote: int = 100) -> list[Fill]:
    return [Fill(D(price), D(quote)) for price in prices]


def codes(issues: list[PlanningError]) -> list[tuple[str, str | None]]:
    return [(issue.code, issue.field) for issue in issues]


# Settings whose ladder reproduces the product's ETH example: entry 3,000, add-ons at -5 % and
# -10 % (2,850 and 2,700), equal quote amounts.
ETH_LADDER = make(max_addons=5, first_distance_pct=D(5))
ETH_FILLS = fills(3000, 2850, 2700)
# 3 / (1/3000 + 1/2850 + 1/2700) = 3 / (541 / 513000) = 1,539,000 / 541
ETH_AVERAGE = D("2844.73197782")


# --- enums and presets ------------------------------------------------------------------------


def test_enum_values_are_the_lowercase_names():
    assert [d.value for d in Direction] == ["long", "short", "both"]
    assert [r.value for r in RiskLevel] == ["conservative", "balanced", "aggressive"]
    assert Direction("short") is Direction.SHORT


def test_presets_cover_every_add_on_field_except_the_base_order():
    expected = {f.name for f in fields(AddOnSettings)} - {"base_order"}
    for level in RiskLevel:
        assert set(PRESETS[level]) == expected


@pytest.mark.parametrize("level", list(RiskLevel))
@pytest.mark.parametrize("direction", list(Direction))
def test_presets_are_valid_for_every_direction(level, direction):
    settings_ = preset_settings(level, D(100))
    assert validate_settings(settings_, direction, max_active_groups=3, leverage=5) == []
    assert len(ladder(settings_, direction)) == PRESETS[level]["max_addons"]


def test_preset_worst_cases_grow_with_the_risk_level():
    # conservative: 100 x 4 equal orders; balanced: 100 x (1 + 1 + 1.3 + 1.69 + 2.197 + 2.8561);
    # aggressive: 100 x (1 + (1.3^7 - 1) / 0.3) = 100 x 18.582839
    worst = [worst_case_group_capital(preset_settings(level, D(100))) for level in RiskLevel]
    assert worst == [D(400), D("1004.31"), D("1858.2839")]


def test_conservative_preset_has_fewer_wider_and_flatter_add_ons_than_aggressive():
    conservative = PRESETS[RiskLevel.CONSERVATIVE]
    aggressive = PRESETS[RiskLevel.AGGRESSIVE]
    assert conservative["max_addons"] < aggressive["max_addons"]
    assert conservative["first_distance_pct"] > aggressive["first_distance_pct"]
    assert D(1) <= conservative["volume_scale"] <= D("1.2") < aggressive["volume_scale"]


def test_preset_for_returns_a_copy_the_form_may_change():
    initial = preset_for("balanced")
    initial["max_addons"] = 20
    assert PRESETS[RiskLevel.BALANCED]["max_addons"] == 5
    with pytest.raises(TypeError):
        PRESETS[RiskLevel.BALANCED]["max_addons"] = 20  # type: ignore[index]


# --- ladder -----------------------------------------------------------------------------------


def test_ladder_with_equal_gaps_and_sizes():
    rungs = ladder(make())

    assert [r.index for r in rungs] == [1, 2, 3]
    assert [r.distance_pct for r in rungs] == [D(2), D(4), D(6)]
    assert [r.size for r in rungs] == [D(100)] * 3
    assert [r.cumulative_size for r in rungs] == [D(200), D(300), D(400)]
    # Averages as fractions of the entry: 2 / (1 + 1/0.98) = 98/99, then 3528/3601, then
    # 221088/228047.
    assert [r.average_pct for r in rungs] == [D("98.9899"), D("97.9728"), D("96.9484")]
    for rung, expected in zip(
        rungs, [Fraction(98, 99), Fraction(3528, 3601), Fraction(221088, 228047)], strict=True
    ):
        assert rung.average_pct == rounded(expected * 100, 4)
    # The last zone extends by its own gap (2) x step scale (1).
    assert [(r.zone_low_pct, r.zone_high_pct) for r in rungs] == [
        (D(2), D(4)),
        (D(4), D(6)),
        (D(6), D(8)),
    ]
    assert all(r.price is None and r.average_price is None for r in rungs)


def test_ladder_with_growing_gaps_and_sizes():
    rungs = ladder(make(step_scale=D(2), volume_scale=D(2)))

    # Gaps 2, 4, 8 -> cumulative 2, 6, 14; the virtual next gap is 16, so the last zone ends at 30.
    assert [r.distance_pct for r in rungs] == [D(2), D(6), D(14)]
    assert [(r.zone_low_pct, r.zone_high_pct) for r in rungs] == [
        (D(2), D(6)),
        (D(6), D(14)),
        (D(14), D(30)),
    ]
    assert [r.size for r in rungs] == [D(100), D(200), D(400)]
    assert [r.cumulative_size for r in rungs] == [D(200), D(400), D(800)]
    # 400 / (100 + 100/0.98 + 200/0.94) = 9212/9553
    assert rungs[1].average_pct == D("96.4304") == rounded(Fraction(9212, 9553) * 100, 4)
    expected = exact_average(
        [(1, 100), (Fraction(98, 100), 100), (Fraction(94, 100), 200), (Fraction(86, 100), 400)]
    )
    assert rungs[2].average_pct == D("90.9170") == rounded(expected * 100, 4)


def test_ladder_with_entry_price_reproduces_the_product_example():
    rungs = ladder(make(max_addons=2, first_distance_pct=D(5)), Direction.LONG, D(3000))

    assert [r.price for r in rungs] == [D(2850), D(2700)]
    # 2 / (1/3000 + 1/2850) = 114000/39
    assert rungs[0].average_price == D("2923.07692308") == rounded(Fraction(114000, 39))
    assert rungs[0].average_pct == D("97.4359")
    assert rungs[1].average_price == ETH_AVERAGE == rounded(Fraction(1539000, 541))
    assert rungs[1].average_pct == D("94.8244")  # 513/541
    assert [(r.zone_low_price, r.zone_high_price) for r in rungs] == [
        (D(2700), D(2850)),
        (D(2550), D(2700)),
    ]


def test_short_ladder_mirrors_the_long_one_above_the_entry():
    settings_ = make(max_addons=2, first_distance_pct=D(5))
    long = ladder(settings_, Direction.LONG, D(3000))
    short = ladder(settings_, Direction.SHORT, D(3000))

    for lo, sh in zip(long, short, strict=True):
        assert (sh.distance_pct, sh.zone_low_pct, sh.zone_high_pct) == (
            lo.distance_pct,
            lo.zone_low_pct,
            lo.zone_high_pct,
        )
        assert (sh.size, sh.cumulative_size) == (lo.size, lo.cumulative_size)
        assert sh.price - 3000 == 3000 - lo.price
        assert sh.zone_low_price - 3000 == 3000 - lo.zone_high_price
        assert sh.zone_high_price - 3000 == 3000 - lo.zone_low_price
    assert [r.price for r in short] == [D(3150), D(3300)]
    assert [(r.zone_low_price, r.zone_high_price) for r in short] == [
        (D(3150), D(3300)),
        (D(3300), D(3450)),
    ]
    # The average is a harmonic mean, so it is not the mirror image of the long one:
    # 2 / (1/3000 + 1/3150) = 126000/41 and 3 / (1/3000 + 1/3150 + 1/3300) = 2079000/661.
    assert [r.average_price for r in short] == [D("3073.17073171"), D("3145.23449319")]
    assert short[1].average_price == rounded(exact_average([(3000, 1), (3150, 1), (3300, 1)]))
    assert [r.average_pct for r in short] == [D("102.4390"), D("104.8411")]


def test_both_directions_plan_the_long_ladder():
    assert ladder(make(), Direction.BOTH, D(3000)) == ladder(make(), Direction.LONG, D(3000))


def test_last_long_zone_stops_at_a_price_of_zero():
    # Gaps 30 and 60: add-ons at 30 % and 90 %; the next gap (120) would pass zero.
    rungs = ladder(make(max_addons=2, first_distance_pct=D(30), step_scale=D(2)), "long", D(3000))

    assert (rungs[1].zone_low_pct, rungs[1].zone_high_pct) == (D(90), D(100))
    assert (rungs[1].zone_low_price, rungs[1].zone_high_price) == (D(0), D(300))


def test_zero_add_ons_give_an_empty_ladder_and_the_base_order_as_worst_case():
    settings_ = make(max_addons=0)
    assert ladder(settings_) == []
    assert worst_case_group_capital(settings_) == D(100)
    assert worst_case_capital(settings_, 4) == D(400)


def test_sizes_are_rounded_to_8_places_and_summed_as_rounded():
    rungs = ladder(
        make(base_order=D(1), max_addons=20, first_distance_pct=D(1), volume_scale=D("1.1"))
    )

    assert rungs[1].size == D("1.1")
    # 1.1^19 = 6.1159090448414546291
    assert rungs[-1].size == D("6.11590904")
    assert rungs[-1].cumulative_size == D(1) + sum(r.size for r in rungs)
    assert rungs[-1].cumulative_size == D("58.27499949")
    assert worst_case_group_capital(
        make(base_order=D(1), max_addons=20, first_distance_pct=D(1), volume_scale=D("1.1"))
    ) == D("58.27499949")


def test_distances_are_rounded_to_4_places_without_drift():
    rungs = ladder(make(max_addons=3, first_distance_pct=D(1), step_scale=D("1.33333")))

    # Cumulative 1, 2.33333, 4.1110988889 -> 4.1111
    assert [r.distance_pct for r in rungs] == [D(1), D("2.3333"), D("4.1111")]
    assert rungs[0].zone_high_pct == rungs[1].zone_low_pct


def test_ladder_rejects_invalid_settings():
    with pytest.raises(PlanningError) as raised:
        ladder(make(volume_scale=D("0.9")))
    assert (raised.value.code, raised.value.field) == (ErrorCode.TOO_SMALL, "volume_scale")
    assert raised.value.params == {"min": D(1), "value": D("0.9")}


def test_ladder_rejects_a_non_positive_entry_price():
    with pytest.raises(ValueError, match="entry_price"):
        ladder(make(), Direction.LONG, D(0))


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code", "field", "params"),
    [
        ({"base_order": D(0)}, ErrorCode.MUST_BE_POSITIVE, "base_order", {"value": D(0)}),
        ({"base_order": D(-5)}, ErrorCode.MUST_BE_POSITIVE, "base_order", {"value": D(-5)}),
        (
            {"base_order": D("0.000000001")},
            ErrorCode.TOO_SMALL,
            "base_order",
            {"min": D("1E-8"), "value": D("0.000000001")},
        ),
        (
            {"base_order": D(10) ** 13},
            ErrorCode.TOO_LARGE,
            "base_order",
            {"max": D(10) ** 12, "value": D(10) ** 13},
        ),
        ({"max_addons": -1}, ErrorCode.TOO_SMALL, "max_addons", {"min": 0, "value": -1}),
        ({"max_addons": 21}, ErrorCode.TOO_LARGE, "max_addons", {"max": 20, "value": 21}),
        (
            {"first_distance_pct": D(0)},
            ErrorCode.MUST_BE_POSITIVE,
            "first_distance_pct",
            {"value": D(0)},
        ),
        (
            {"first_distance_pct": D("0.001")},
            ErrorCode.TOO_SMALL,
            "first_distance_pct",
            {"min": D("0.01"), "value": D("0.001")},
        ),
        (
            {"step_scale": D("0.99")},
            ErrorCode.TOO_SMALL,
            "step_scale",
            {"min": D(1), "value": D("0.99")},
        ),
        (
            {"step_scale": D("10.01")},
            ErrorCode.TOO_LARGE,
            "step_scale",
            {"max": D(10), "value": D("10.01")},
        ),
        (
            {"volume_scale": D(11)},
            ErrorCode.TOO_LARGE,
            "volume_scale",
            {"max": D(10), "value": D(11)},
        ),
        (
            {"take_profit_pct": D(0)},
            ErrorCode.MUST_BE_POSITIVE,
            "take_profit_pct",
            {"value": D(0)},
        ),
        (
            {"take_profit_pct": D("1000.01")},
            ErrorCode.TOO_LARGE,
            "take_profit_pct",
            {"max": D(1000), "value": D("1000.01")},
        ),
        ({"base_order": D("NaN")}, ErrorCode.NOT_A_NUMBER, "base_order", {}),
        ({"volume_scale": D("Infinity")}, ErrorCode.NOT_A_NUMBER, "volume_scale", {}),
    ],
)
def test_validate_settings_reports_each_bad_field_with_a_code_and_params(
    overrides, code, field, params
):
    issues = validate_settings(make(**overrides))
    assert issues == [PlanningError(code, field=field, params=params)]


def test_validate_settings_reports_every_bad_field_at_once():
    bad = make(base_order=D(0), max_addons=21, step_scale=D("0.5"), take_profit_pct=D(-1))
    assert codes(validate_settings(bad)) == [
        (ErrorCode.MUST_BE_POSITIVE, "base_order"),
        (ErrorCode.TOO_LARGE, "max_addons"),
        (ErrorCode.TOO_SMALL, "step_scale"),
        (ErrorCode.MUST_BE_POSITIVE, "take_profit_pct"),
    ]


def test_long_ladder_reaching_a_price_of_zero_is_rejected():
    # Gaps of 25: the fourth add-on would buy at 100 % below the entry, a price of zero.
    reaching_zero = make(max_addons=4, first_distance_pct=D(25))
    for direction in (Direction.LONG, Direction.BOTH):
        assert validate_settings(reaching_zero, direction) == [
            PlanningError(ErrorCode.LADDER_REACHES_ZERO, params={"distance": D(100)})
        ]
    with pytest.raises(PlanningError, match="ladder_reaches_zero"):
        ladder(reaching_zero)
    # Above the entry nothing stops a short's ladder at 100 %.
    assert validate_settings(reaching_zero, Direction.SHORT) == []
    assert validate_settings(make(max_addons=3, first_distance_pct=D(25))) == []
    assert codes(validate_settings(make(max_addons=1, first_distance_pct=D(150)))) == [
        (ErrorCode.LADDER_REACHES_ZERO, None)
    ]


def test_huge_values_are_rejected():
    # A short ladder has no zero floor but must stay within 1000 %: 50 x (10^4 - 1) / 9.
    wide = make(max_addons=4, first_distance_pct=D(50), step_scale=D(10))
    assert validate_settings(wide, Direction.SHORT) == [
        PlanningError(ErrorCode.LADDER_TOO_WIDE, params={"distance": D(55550), "max": D(1000)})
    ]
    # Every field in range, but 10^11 x (1 + 1 + 10 + ... + 10^19) quote is beyond any account.
    rich = make(base_order=D(10) ** 11, max_addons=20, first_distance_pct=D(1), volume_scale=D(10))
    assert codes(validate_settings(rich)) == [(ErrorCode.CAPITAL_TOO_LARGE, None)]
    assert validate_settings(rich)[0].params["capital"] == D("1111111111111111111200000000000")
    # The bound also applies to all groups together: 4 x 10^10 per group x 100 groups.
    many = preset_settings(RiskLevel.CONSERVATIVE, D(10) ** 10)
    assert validate_settings(many, max_active_groups=24) == []
    assert validate_settings(many, max_active_groups=100) == [
        PlanningError(
            ErrorCode.CAPITAL_TOO_LARGE, params={"capital": D(4) * 10**12, "max": D(10) ** 12}
        )
    ]


def test_short_take_profit_of_100_percent_or_more_is_rejected():
    # A short exits below its average; 100 % below is a price of zero.
    settings_ = make(take_profit_pct=D(100))
    expected = [
        PlanningError(
            ErrorCode.TAKE_PROFIT_UNREACHABLE,
            field="take_profit_pct",
            params={"max": D(100), "value": D(100)},
        )
    ]
    assert validate_settings(settings_, Direction.SHORT) == expected
    assert validate_settings(settings_, Direction.BOTH) == expected
    assert validate_settings(settings_, Direction.LONG) == []


def test_margin_limit_exceeded_gives_the_shortfall():
    balanced = preset_settings(RiskLevel.BALANCED, D(100))
    assert validate_settings(balanced, max_active_groups=3, margin_limit=D(3000)) == [
        PlanningError(
            ErrorCode.MARGIN_LIMIT_EXCEEDED,
            field="margin_limit",
            params={
                "shortfall": D("12.93"),
                "required": D("3012.93"),
                "margin_limit": D(3000),
            },
        )
    ]
    assert validate_settings(balanced, max_active_groups=3, margin_limit=D("3012.93")) == []


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"max_active_groups": 0}, ErrorCode.TOO_SMALL, "max_active_groups"),
        ({"max_active_groups": 101}, ErrorCode.TOO_LARGE, "max_active_groups"),
        ({"margin_limit": D(0)}, ErrorCode.MUST_BE_POSITIVE, "margin_limit"),
        ({"margin_limit": D(10) ** 13}, ErrorCode.TOO_LARGE, "margin_limit"),
        ({"leverage": 0}, ErrorCode.TOO_SMALL, "leverage"),
        ({"leverage": 21}, ErrorCode.TOO_LARGE, "leverage"),
    ],
)
def test_validate_settings_checks_the_strategy_fields(kwargs, code, field):
    assert codes(validate_settings(make(), **kwargs)) == [(code, field)]


def test_leverage_between_1_and_20_is_accepted():
    assert validate_settings(make(), leverage=1) == []
    assert validate_settings(make(), leverage=20) == []


@pytest.mark.parametrize(
    ("recovery", "expected"),
    [
        (RecoverySettings(enabled=True), [(ErrorCode.RECOVERY_WITHOUT_TRIGGER, None)]),
        (
            RecoverySettings(enabled=True, drawdown_pct=D(0)),
            [(ErrorCode.MUST_BE_POSITIVE, "drawdown_pct")],
        ),
        (
            RecoverySettings(enabled=True, addons_used=4),
            [(ErrorCode.TOO_LARGE, "addons_used")],
        ),
        (
            RecoverySettings(enabled=True, margin_used_pct=D(101)),
            [(ErrorCode.TOO_LARGE, "margin_used_pct")],
        ),
        (RecoverySettings(enabled=True, cautious_after_drawdown=True), []),
        (
            RecoverySettings(
                enabled=True, drawdown_pct=D(10), addons_used=3, margin_used_pct=D(80)
            ),
            [],
        ),
        # Switched off, its fields are not the user's concern.
        (RecoverySettings(enabled=False, drawdown_pct=D(-1)), []),
    ],
)
def test_validate_settings_checks_recovery_triggers(recovery, expected):
    assert codes(validate_settings(make(), recovery=recovery)) == expected


def test_planning_error_carries_code_field_and_params_not_prose():
    error = PlanningError(ErrorCode.TOO_LARGE, field="step_scale", params={"max": D(10)})
    assert str(error) == "too_large"
    assert isinstance(error, ValueError)
    assert error.params == {"max": D(10)}


def test_settings_accept_int_and_str_but_refuse_floats():
    assert make(base_order="12.5").base_order == D("12.5")
    assert make(base_order=7).base_order == D(7)
    with pytest.raises(TypeError, match="base_order"):
        make(base_order=0.1)
    with pytest.raises(TypeError, match="max_addons"):
        make(max_addons=D(3))


# --- worst case and margin --------------------------------------------------------------------


def test_worst_case_capital_and_margin_shortfall():
    balanced = preset_settings(RiskLevel.BALANCED, D(100))
    # 100 + 100 + 130 + 169 + 219.7 + 285.61
    assert worst_case_group_capital(balanced) == D("1004.31")
    assert worst_case_capital(balanced, 3) == D("3012.93")
    assert margin_shortfall(balanced, 3, D(3000)) == D("12.93")
    assert margin_shortfall(balanced, 3, D("3012.93")) == D(0)
    assert margin_shortfall(balanced, 3, D(5000)) == D(0)


def test_worst_case_with_volume_scale_two():
    assert worst_case_group_capital(make(volume_scale=D(2))) == D(800)  # 100 + 100 + 200 + 400
    assert worst_case_capital(make(volume_scale=D(2)), 5) == D(4000)


def test_worst_case_refuses_impossible_inputs():
    with pytest.raises(PlanningError, match="too_small"):
        worst_case_capital(make(), 0)
    with pytest.raises(PlanningError, match="must_be_positive"):
        worst_case_group_capital(make(base_order=D(-1)))
    with pytest.raises(PlanningError, match="must_be_positive"):
        margin_shortfall(make(), 1, D(0))


# --- group average ----------------------------------------------------------------------------


def test_average_of_the_eth_example_is_the_harmonic_mean():
    assert group_average(ETH_FILLS) == ETH_AVERAGE
    assert rounded(exact_average([(3000, 100), (2850, 100), (2700, 100)])) == ETH_AVERAGE


def test_average_of_the_btc_example_and_a_recovered_buy_raises_it():
    btc = fills(100000, 95000, 90000)
    # 3 / (1/100000 + 1/95000 + 1/90000) = 51,300,000 / 541
    assert group_average(btc) == D("94824.39926063")
    assert group_average(btc) == rounded(Fraction(51_300_000, 541))
    # The page's warning: buying again at 97,000 after the recovery makes the average worse.
    with_recovered_buy = btc + fills(97000)
    assert group_average(with_recovered_buy) == rounded(
        exact_average([(100000, 1), (95000, 1), (90000, 1), (97000, 1)])
    )
    assert group_average(with_recovered_buy) == D("95359.09855268")
    assert group_average(with_recovered_buy) > group_average(btc)


def test_average_weights_by_quote_amount():
    # 100 quote at 100 buys 1 unit, 300 quote at 50 buys 6: 400 / 7.
    assert group_average([Fill(D(100), D(100)), Fill(D(50), D(300))]) == D("57.14285714")


def test_average_ignores_the_callers_decimal_context():
    with localcontext(prec=4):
        assert group_average(ETH_FILLS) == ETH_AVERAGE


def test_average_needs_fills_with_positive_numbers():
    with pytest.raises(ValueError, match="at least one fill"):
        group_average([])
    with pytest.raises(ValueError, match="price"):
        Fill(D(0), D(100))
    with pytest.raises(ValueError, match="quote"):
        Fill(D(100), D(-1))


def test_improves_average_in_the_product_examples():
    assert not improves_average(Direction.LONG, ETH_FILLS, D(2900))
    assert improves_average(Direction.LONG, ETH_FILLS, D(2800))
    assert not improves_average(Direction.LONG, fills(100000, 95000, 90000), D(97000))


def test_a_price_equal_to_the_average_does_not_improve_it():
    assert not improves_average(Direction.LONG, fills(100), D(100))
    assert not improves_average(Direction.SHORT, fills(100), D(100))


def test_short_improves_only_above_the_average():
    short = fills(3000, 3150, 3300)  # average 3145.23...
    assert improves_average(Direction.SHORT, short, D(3200))
    assert not improves_average(Direction.SHORT, short, D(3100))


def test_a_group_is_long_or_short_not_both():
    with pytest.raises(ValueError, match="not both"):
        improves_average(Direction.BOTH, ETH_FILLS, D(2800))


def test_take_profit_price_is_beyond_the_average_in_the_groups_favour():
    assert take_profit_price(Direction.LONG, D(100), D("1.5")) == D("101.5")
    assert take_profit_price(Direction.SHORT, D(100), D("1.5")) == D("98.5")
    # 1,539,000/541 x 1.015, rounded once
    assert take_profit_price(Direction.LONG, ETH_AVERAGE, D("1.5")) == D("2887.40295749")


# --- add-on decisions -------------------------------------------------------------------------


def test_outside_recovery_only_the_add_on_limit_applies():
    assert addon_decision(
        Direction.LONG, ETH_LADDER, ETH_FILLS, D(2900), recovery_mode=False
    ) == Decision(True, Reason.OK)


@pytest.mark.parametrize("recovery_mode", [False, True])
def test_add_on_limit_always_applies(recovery_mode):
    two_addons = make(max_addons=2, first_distance_pct=D(5))
    decision = addon_decision(
        Direction.LONG, two_addons, ETH_FILLS, D(2500), recovery_mode=recovery_mode
    )
    assert decision == Decision(False, Reason.LIMIT_REACHED, {"max_addons": 2})
    assert not addon_decision(
        Direction.LONG, make(max_addons=0), fills(3000), D(2500), recovery_mode=recovery_mode
    ).allowed


def test_recovery_blocks_the_eth_signal_at_2900_that_worsens_the_average():
    decision = addon_decision(Direction.LONG, ETH_LADDER, ETH_FILLS, D(2900), recovery_mode=True)
    assert decision == Decision(False, Reason.WORSENS_AVERAGE, {"average": ETH_AVERAGE})


def test_recovery_blocks_the_btc_buy_at_97000():
    decision = addon_decision(
        Direction.LONG, ETH_LADDER, fills(100000, 95000, 90000), D(97000), recovery_mode=True
    )
    assert (decision.allowed, decision.reason) == (False, Reason.WORSENS_AVERAGE)


def test_recovery_blocks_an_improving_price_outside_the_next_zone():
    # Third add-on: 15 % to 20 % below 3,000, i.e. 2,400 to 2,550. 2,800 improves the average
    # but has not reached the zone.
    decision = addon_decision(Direction.LONG, ETH_LADDER, ETH_FILLS, D(2800), recovery_mode=True)
    assert decision == Decision(
        False, Reason.OUTSIDE_ZONE, {"zone_low": D(2400), "zone_high": D(2550)}
    )
    # Past the zone is outside too: Recovery Mode does not let one fill jump the ladder.
    assert addon_decision(
        Direction.LONG, ETH_LADDER, ETH_FILLS, D("2399.99"), recovery_mode=True
    ).reason == (Reason.OUTSIDE_ZONE)


@pytest.mark.parametrize("price", ["2550", "2500", "2400"])
def test_recovery_allows_an_improving_price_inside_the_zone_bounds_included(price):
    decision = addon_decision(Direction.LONG, ETH_LADDER, ETH_FILLS, D(price), recovery_mode=True)
    assert (decision.allowed, decision.reason) == (True, Reason.OK)


def test_recovery_zone_is_measured_from_the_given_entry_price():
    # With the entry at 2,950 the third zone is 2,360 to 2,507.5.
    decision = addon_decision(
        Direction.LONG, ETH_LADDER, ETH_FILLS, D(2540), recovery_mode=True, entry_price=D(2950)
    )
    assert decision == Decision(
        False, Reason.OUTSIDE_ZONE, {"zone_low": D(2360), "zone_high": D("2507.5")}
    )


def test_recovery_for_a_short_group_mirrors_the_long_rules():
    short = fills(3000, 3150, 3300)
    allowed = addon_decision(Direction.SHORT, ETH_LADDER, short, D(3500), recovery_mode=True)
    assert allowed == Decision(True, Reason.OK, {"zone_low": D(3450), "zone_high": D(3600)})
    worsening = addon_decision(Direction.SHORT, ETH_LADDER, short, D(3100), recovery_mode=True)
    assert worsening.reason == Reason.WORSENS_AVERAGE
    outside = addon_decision(Direction.SHORT, ETH_LADDER, short, D(3300), recovery_mode=True)
    assert outside.reason == Reason.OUTSIDE_ZONE


def test_add_on_decision_refuses_invalid_settings():
    with pytest.raises(PlanningError, match="too_large"):
        addon_decision(Direction.LONG, make(max_addons=21), ETH_FILLS, D(2500), recovery_mode=False)


def test_an_add_on_needs_an_open_group():
    with pytest.raises(ValueError, match="open group"):
        addon_decision(Direction.LONG, ETH_LADDER, [], D(2800), recovery_mode=True)


# --- Recovery Mode triggers -------------------------------------------------------------------

ALL_TRIGGERS = RecoverySettings(
    enabled=True, drawdown_pct=D(10), addons_used=2, margin_used_pct=D(80)
)


def triggered(
    recovery: RecoverySettings = ALL_TRIGGERS,
    *,
    direction: Direction = Direction.LONG,
    group: list[Fill] | None = None,
    price: str = "100",
    used: str = "0",
) -> list[Trigger]:
    return recovery_triggered(
        recovery,
        direction=direction,
        fills=fills(100) if group is None else group,
        current_price=D(price),
        margin_limit=D(1000),
        margin_used=D(used),
    )


def test_drawdown_fires_at_the_threshold_from_the_average():
    assert triggered(price="90") == [Trigger.DRAWDOWN]  # exactly 10 % below the average
    assert triggered(price="90.01") == []
    # Measured from the average (2,844.73...), not from the entry: 10 % below it is 2,560.26.
    assert triggered(group=ETH_FILLS, price="2560") == [Trigger.DRAWDOWN, Trigger.ADDONS_USED]
    assert triggered(group=ETH_FILLS, price="2561") == [Trigger.ADDONS_USED]


def test_drawdown_of_a_short_is_a_rise_above_the_average():
    assert triggered(direction=Direction.SHORT, price="110") == [Trigger.DRAWDOWN]
    assert triggered(direction=Direction.SHORT, price="90") == []


def test_cautious_after_drawdown_fires_on_any_adverse_move():
    cautious = RecoverySettings(enabled=True, drawdown_pct=D(10), cautious_after_drawdown=True)
    assert triggered(cautious, price="99.99") == [Trigger.CAUTIOUS_AFTER_DRAWDOWN]
    assert triggered(cautious, price="100") == []
    assert triggered(cautious, price="85") == [Trigger.DRAWDOWN, Trigger.CAUTIOUS_AFTER_DRAWDOWN]


def test_addons_used_fires_when_the_count_is_reached():
    assert triggered(group=fills(100, 95, 90)) == [Trigger.ADDONS_USED]  # 2 add-ons
    assert triggered(group=fills(100, 95), price="95") == []  # 1 add-on; 2.56 % drawdown


def test_margin_used_fires_at_its_share_of_the_limit():
    assert triggered(used="800") == [Trigger.MARGIN_USED]
    assert triggered(used="799.99") == []


def test_recovery_triggers_report_every_one_that_fired():
    assert triggered(group=fills(100, 95, 90), price="80", used="900") == [
        Trigger.DRAWDOWN,
        Trigger.ADDONS_USED,
        Trigger.MARGIN_USED,
    ]


def test_disabled_recovery_never_fires():
    off = RecoverySettings(enabled=False, drawdown_pct=D(1), addons_used=1, margin_used_pct=D(1))
    assert triggered(off, group=fills(100, 50), price="10", used="999") == []


def test_group_drawdown_pct():
    assert group_drawdown_pct(Direction.LONG, fills(100), D(90)) == D(10)
    assert group_drawdown_pct(Direction.LONG, fills(100), D(110)) == D(0)
    assert group_drawdown_pct(Direction.SHORT, fills(100), D("112.5")) == D("12.5")


# --- properties -------------------------------------------------------------------------------

prices = st.decimals(min_value=D(1), max_value=D(1_000_000), places=2)
quotes = st.decimals(min_value=D(1), max_value=D(10_000), places=2)
groups = st.lists(st.builds(Fill, prices, quotes), min_size=1, max_size=10)


@PROPERTY
@given(groups)
def test_average_lies_between_the_lowest_and_highest_fill(group):
    average = group_average(group)
    assert min(f.price for f in group) <= average <= max(f.price for f in group)


@PROPERTY
@given(groups, st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2), quotes)
def test_a_long_add_on_below_the_average_lowers_it(group, fraction, quote):
    before = group_average(group)
    # At least 0.01 below the average, so the change shows at 8 decimal places.
    candidate = (before * fraction).quantize(D("0.01"))
    assume(candidate > 0 and before - candidate >= D("0.01"))

    assert improves_average(Direction.LONG, group, candidate)
    assert group_average([*group, Fill(candidate, quote)]) < before


@PROPERTY
@given(groups, st.decimals(min_value=D("1.01"), max_value=D(10), places=2), quotes)
def test_a_short_add_on_above_the_average_raises_it(group, factor, quote):
    before = group_average(group)
    candidate = (before * factor).quantize(D("0.01"))

    assert improves_average(Direction.SHORT, group, candidate)
    assert group_average([*group, Fill(candidate, quote)]) > before


valid_settings = st.builds(
    AddOnSettings,
    base_order=st.decimals(min_value=D(1), max_value=D(10_000), places=2),
    max_addons=st.integers(min_value=0, max_value=10),
    first_distance_pct=st.decimals(min_value=D("0.1"), max_value=D(5), places=2),
    step_scale=st.decimals(min_value=D(1), max_value=D("1.5"), places=2),
    volume_scale=st.decimals(min_value=D(1), max_value=D(2), places=2),
    take_profit_pct=st.decimals(min_value=D("0.1"), max_value=D(5), places=2),
)


@PROPERTY
@given(valid_settings, st.sampled_from([Direction.LONG, Direction.SHORT]))
def test_every_valid_ladder_is_contiguous_and_adds_up(settings_, direction):
    assume(validate_settings(settings_, direction) == [])
    rungs = ladder(settings_, direction, D(1000))

    for rung, following in pairwise(rungs):
        assert rung.zone_high_pct == following.zone_low_pct
        assert rung.distance_pct < following.distance_pct
        # Each add-on pulls the average towards the price.
        if direction is Direction.LONG:
            assert following.average_pct <= rung.average_pct
        else:
            assert following.average_pct >= rung.average_pct
    for rung in rungs:
        assert rung.zone_low_price <= rung.price <= rung.zone_high_price
        assert min(rung.price, D(1000)) <= rung.average_price <= max(rung.price, D(1000))
    total = settings_.base_order + sum((r.size for r in rungs), D(0))
    assert worst_case_group_capital(settings_) == total
    if rungs:
        assert rungs[-1].cumulative_size == total
