from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from backfuture import numbers
from connections.exchanges import registry
from connections.models import Market
from strategies import gate, planning, selectors
from strategies.models import Direction, RiskLevel

# "BTC/USDT", also accepted as "btc-usdt" or "BTC_USDT" (how the exchanges write them).
_PAIR = re.compile(r"([A-Z0-9]{1,20})[/\-_]([A-Z0-9]{1,20})")


def parse_pairs(text: str) -> list[str]:
    """Comma/space separated pairs -> unique `BASE/QUOTE` in the order given."""
    pairs: list[str] = []
    for token in re.split(r"[\s,;]+", text.strip().upper()):
        if not token:
            continue
        match = _PAIR.fullmatch(token)
        if not match:
            raise forms.ValidationError(
                _("“%(pair)s” is not a pair. Write pairs as BASE/QUOTE, for example BTC/USDT."),
                params={"pair": token},
                code="bad_pair",
            )
        pair = f"{match[1]}/{match[2]}"
        if pair not in pairs:
            pairs.append(pair)
    return pairs


class ConnectionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({gate.market_label(obj)}, {obj.get_status_display()})"


class DecimalInput(forms.TextInput):
    """Shows a stored number the way the app displays numbers: "1,000", "1.000,5", "1 000,5"."""

    def format_value(self, value):
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            return numbers.input_value(value)
        return super().format_value(value)


class LocalizedDecimalField(forms.DecimalField):
    """A decimal typed in the active language, grouping included; ambiguous input is refused.

    Django's own localized parsing silently reads a German "1.5" as 15; `numbers.parse_decimal`
    refuses it with a message showing how to write the number instead.
    """

    widget = DecimalInput

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "widget", DecimalInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value)
        if len(text) > self.max_length_of_input:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return numbers.parse_decimal(text)
        except numbers.AmbiguousNumber:
            raise forms.ValidationError(
                _(
                    "“%(value)s” could mean two different numbers. Write it like %(example)s, "
                    "with “%(decimal)s” before the decimals."
                ),
                code="ambiguous",
                params={
                    "value": text.strip(),
                    "example": numbers.example(),
                    "decimal": formats.get_format("DECIMAL_SEPARATOR"),
                },
            ) from None
        except ValueError:
            raise forms.ValidationError(
                _("Enter a number, written like %(example)s."),
                code="invalid",
                params={"example": numbers.example()},
            ) from None

    @property
    def max_length_of_input(self) -> int:
        # Digits, one separator per three digits, a sign and the decimal separator.
        return 2 * (self.max_digits or 40) + 2


def _decimal(label, *, places: int = 4, digits: int = 8, required: bool = True, **kwargs):
    return LocalizedDecimalField(
        label=label,
        max_digits=digits,
        decimal_places=places,
        required=required,
        **kwargs,
    )


class StrategyForm(forms.Form):
    """A strategy's settings. Validation is shared with the services (`gate.settings_problems`)."""

    # True when the chosen connection's exchange list of API pairs has not been fetched yet.
    symbols_pending = False

    name = forms.CharField(label=_("Strategy name"), max_length=80)
    connection = ConnectionChoiceField(label=_("Connection"), queryset=None, empty_label=None)
    pairs = forms.CharField(
        label=_("Pairs"),
        max_length=600,
        help_text=_("One or more pairs separated by commas, for example BTC/USDT, ETH/USDT."),
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=Direction.choices,
        widget=forms.RadioSelect,
        help_text=_("Short positions, alone or with long, need a Futures connection."),
    )
    leverage = forms.IntegerField(
        label=_("Leverage"),
        min_value=planning.MIN_LEVERAGE,
        max_value=planning.MAX_LEVERAGE,
        initial=1,
        help_text=_("1 to 20, Futures only; on Spot it stays 1."),
    )
    risk_level = forms.ChoiceField(
        label=_("Risk level"),
        choices=RiskLevel.choices,
        help_text=_("Each level is a preset for the add-on fields below; adjust them afterwards."),
    )
    margin_limit = _decimal(
        _("Margin limit"),
        places=8,
        digits=24,
        help_text=_("The most capital this strategy may ever commit, in the quote currency."),
    )
    base_order = _decimal(_("Base order size"), places=8, digits=24)
    max_active_groups = forms.IntegerField(
        label=_("Maximum active groups"), min_value=1, max_value=planning.MAX_ACTIVE_GROUPS
    )
    max_addons = forms.IntegerField(
        label=_("Maximum add-ons per group"), min_value=0, max_value=planning.MAX_ADDONS
    )
    first_distance_pct = _decimal(
        _("First add-on distance (%)"), help_text=_("How far from the entry the first add-on sits.")
    )
    step_scale = _decimal(
        _("Step scale"),
        help_text=_("Each next gap between add-ons is the previous one times this."),
    )
    volume_scale = _decimal(
        _("Volume scale"), help_text=_("Each next add-on is the previous one's size times this.")
    )
    take_profit_pct = _decimal(_("Take profit (%)"), help_text=_("From the group's average price."))
    recovery_enabled = forms.BooleanField(label="Recovery Mode", required=False)
    recovery_drawdown_pct = _decimal(
        _("Drawdown trigger (%)"),
        required=False,
        help_text=_("Price this far against the group's average. Empty: off."),
    )
    recovery_addons_used = forms.IntegerField(
        label=_("Add-ons used trigger"),
        required=False,
        min_value=1,
        max_value=planning.MAX_ADDONS,
        help_text=_("This many add-ons have filled. Empty: off."),
    )
    recovery_margin_used_pct = _decimal(
        _("Margin used trigger (%)"),
        required=False,
        help_text=_("This share of the margin limit is in use. Empty: off."),
    )
    cautious_after_drawdown = forms.BooleanField(
        label=_("Cautious after drawdown"),
        required=False,
        help_text=_("Any move against the group's average switches it to Recovery Mode."),
    )
    new_groups_connection = ConnectionChoiceField(
        label=_("Separate connection for new groups (PRO logic)"),
        queryset=None,
        required=False,
        help_text=_(
            "Optional: another Online connection of yours that opens new groups while a group "
            "is in Recovery Mode."
        ),
    )

    auto_resume = forms.BooleanField(
        label=_("Resume by itself after an exchange outage"),
        required=False,
        help_text=_(
            "When its exchange does not answer for longer than a short grace period, the "
            "strategy is paused; with this on it resumes once its connection passes a test "
            "again. Pauses for any other reason always wait for you."
        ),
    )

    def __init__(self, *args, user, strategy=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.strategy = strategy
        choices = selectors.connection_choices(user=user)
        # Scoped by owner: another user's connection id is "not a valid choice".
        self.fields["connection"].queryset = choices
        self.fields["new_groups_connection"].queryset = choices
        self.plan = gate.Plan()

    @classmethod
    def initial_for(cls, *, connection=None, risk_level: str = RiskLevel.CONSERVATIVE) -> dict:
        initial = {
            "direction": Direction.LONG,
            "leverage": 1,
            "risk_level": risk_level,
            "max_active_groups": 1,
            "margin_limit": Decimal(1000),
            "base_order": Decimal(50),
            "recovery_enabled": True,
            "recovery_drawdown_pct": Decimal(10),
            "recovery_addons_used": 3,
            "recovery_margin_used_pct": Decimal(60),
            "cautious_after_drawdown": True,
            "auto_resume": True,
            **planning.preset_for(risk_level),
        }
        if connection is not None:
            initial["connection"] = connection.pk
        return initial

    @classmethod
    def initial_from(cls, strategy) -> dict:
        initial = gate.strategy_values(strategy)
        initial["connection"] = strategy.connection_id
        initial["new_groups_connection"] = strategy.new_groups_connection_id
        initial["pairs"] = ", ".join(strategy.pairs or [])
        return initial

    @staticmethod
    def with_preset(data, risk_level: str):
        """A copy of submitted `data` with the add-on fields set from a risk level's preset."""
        data = data.copy()
        try:
            preset = planning.preset_for(risk_level)
        except ValueError:
            return data
        for name, value in preset.items():
            # As the user would type it in their language ("1,5" in German).
            data[name] = numbers.input_value(value)
        return data

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in name):
            raise forms.ValidationError(_("The name cannot contain control characters."))
        if not name:
            raise forms.ValidationError(_("Give the strategy a name."))
        taken = selectors.strategy_list(user=self.user).filter(name__iexact=name)
        if self.strategy is not None:
            taken = taken.exclude(pk=self.strategy.pk)
        if taken.exists():
            raise forms.ValidationError(
                _("You already have a strategy with this name."), code="duplicate_name"
            )
        return name

    def clean_pairs(self) -> list[str]:
        return parse_pairs(self.cleaned_data["pairs"])

    def clean(self):
        data = super().clean()
        values = {name: data.get(name) for name in gate.SETTINGS_FIELDS}
        self.plan = gate.build_plan(values)
        connection = data.get("connection")
        tradable = None
        if connection is not None:
            tradable = selectors.tradable_pairs(
                exchange=connection.exchange, market=connection.market
            )
            if tradable is None:
                self.symbols_pending = True
        for problem in gate.settings_problems(
            owner_id=self.user.pk, values=values, plan=self.plan, tradable=tradable
        ):
            field = problem.field if problem.field in self.fields else None
            if field is None or not self.has_error(field):
                self.add_error(field, forms.ValidationError(problem.message, code=problem.code))
        return data

    @property
    def connection_obj(self):
        """The chosen connection (validated or initial), for page hints."""
        connection = (getattr(self, "cleaned_data", None) or {}).get("connection")
        if connection is None:
            pk = self.data.get("connection") if self.is_bound else self.initial.get("connection")
            connection = selectors.connection_for_new_strategy(user=self.user, pk=pk)
        return connection

    def market_is_futures(self) -> bool:
        connection = self.connection_obj
        return connection is not None and connection.market == Market.FUTURES

    def exchange_label(self) -> str:
        connection = self.connection_obj
        if connection is None:
            return ""
        try:
            return registry.get(connection.exchange).label
        except registry.UnknownExchange:
            return connection.exchange
