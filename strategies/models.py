from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class StrategyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ENABLED = "enabled", _("Enabled")
    PAUSED = "paused", _("Paused")


class PauseReason(models.TextChoices):
    USER = "user", _("Paused by you")
    CONNECTION_FAILED = "connection_failed", _("Its connection failed its test")
    KEY_REPLACED = "key_replaced", _("The connection's API key was replaced")
    SETTINGS_CHANGED = "settings_changed", _("Its settings were changed")
    SUPPORT = "support", _("Paused by support staff")
    # Temporary: the exchange did not answer past the grace period. Resumes by itself (if the
    # strategy allows it) once its connection passes a test again.
    EXCHANGE_UNAVAILABLE = "exchange_unavailable", _("Its exchange did not answer")
    KEY_EXPIRED = "key_expired", _("Its API key expired")


class Direction(models.TextChoices):
    LONG = "long", "Long"
    SHORT = "short", "Short"
    BOTH = "both", _("Long and short")


class RiskLevel(models.TextChoices):
    CONSERVATIVE = "conservative", _("Conservative")
    BALANCED = "balanced", _("Balanced")
    AGGRESSIVE = "aggressive", _("Aggressive")


def _pct(max_digits: int = 8) -> dict:
    return {"max_digits": max_digits, "decimal_places": 4}


MONEY = {"max_digits": 24, "decimal_places": 8}


class Strategy(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="strategies"
    )
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.CASCADE, related_name="strategies"
    )
    name = models.CharField(_("name"), max_length=80)
    pairs = models.JSONField(_("pairs"), default=list)
    direction = models.CharField(
        _("direction"), max_length=5, choices=Direction.choices, default="long"
    )
    leverage = models.PositiveSmallIntegerField(
        _("leverage"), default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    risk_level = models.CharField(
        _("risk level"), max_length=12, choices=RiskLevel.choices, default="conservative"
    )
    margin_limit = models.DecimalField(_("margin limit"), **MONEY)
    base_order = models.DecimalField(_("base order size"), **MONEY)
    max_active_groups = models.PositiveSmallIntegerField(_("maximum active groups"), default=1)
    max_addons = models.PositiveSmallIntegerField(_("maximum add-ons per group"), default=3)
    first_distance_pct = models.DecimalField(_("first add-on distance (%)"), **_pct())
    step_scale = models.DecimalField(_("step scale"), max_digits=8, decimal_places=4)
    volume_scale = models.DecimalField(_("volume scale"), max_digits=8, decimal_places=4)
    take_profit_pct = models.DecimalField(_("take profit (%)"), **_pct())
    recovery_enabled = models.BooleanField(_("Recovery Mode"), default=True)
    # Each trigger may be switched off (empty); Recovery Mode then needs at least one other.
    recovery_drawdown_pct = models.DecimalField(
        _("drawdown trigger (%)"), default=Decimal("10"), null=True, blank=True, **_pct()
    )
    recovery_addons_used = models.PositiveSmallIntegerField(
        _("add-ons used trigger"), default=3, null=True, blank=True
    )
    recovery_margin_used_pct = models.DecimalField(
        _("margin used trigger (%)"), default=Decimal("60"), null=True, blank=True, **_pct()
    )
    cautious_after_drawdown = models.BooleanField(_("cautious after drawdown"), default=True)
    # Paused by the system because its exchange did not answer: resume by itself once the
    # connection passes a test again. Pauses for any other reason always wait for the person.
    auto_resume = models.BooleanField(_("resume by itself after an exchange outage"), default=True)
    new_groups_connection = models.ForeignKey(
        "connections.Connection",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("separate connection for new groups"),
    )

    status = models.CharField(
        _("status"), max_length=8, choices=StrategyStatus.choices, default="draft"
    )
    pause_reason = models.CharField(max_length=20, choices=PauseReason.choices, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    enabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("strategy")
        verbose_name_plural = _("strategies")
        constraints = [
            models.UniqueConstraint(Lower("name"), "owner", name="strategy_name_unique_per_owner"),
            models.CheckConstraint(
                condition=models.Q(status__in=StrategyStatus.values), name="strategy_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(leverage__gte=1, leverage__lte=20),
                name="strategy_leverage_range",
            ),
            models.CheckConstraint(
                condition=models.Q(max_addons__lte=20), name="strategy_max_addons_range"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="paused") | ~models.Q(pause_reason=""),
                name="strategy_paused_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SymbolList(models.Model):
    """The pairs an exchange lets us trade over its API on one market (`BASE/QUOTE`).

    Refreshed from the exchange's public endpoints by `strategies.tasks.refresh_symbol_lists`;
    a failed refresh keeps the previous list and records why.
    """

    exchange = models.CharField(max_length=20)
    market = models.CharField(max_length=10)
    pairs = models.JSONField(default=list, blank=True)
    # When `pairs` was last fetched successfully; None while no fetch has succeeded yet.
    fetched_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("symbol list")
        verbose_name_plural = _("symbol lists")
        constraints = [
            models.UniqueConstraint(fields=["exchange", "market"], name="symbol_list_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.exchange}/{self.market}"
