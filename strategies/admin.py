from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from backfuture.admin_lookups import ShownLookupsOnlyMixin
from connections import audit
from strategies.models import Strategy, StrategyStatus, SymbolList


@admin.register(Strategy)
class StrategyAdmin(ShownLookupsOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "owner", "connection", "status", "pause_reason", "updated_at")
    list_filter = ("status", "pause_reason", "risk_level", "direction")
    search_fields = ("name", "owner__email", "connection__name")
    list_select_related = ("owner", "connection")
    actions = ["pause"]

    def get_readonly_fields(self, request, obj=None):
        # Settings are the user's; support sees them, never edits them.
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_pause_permission(self, request) -> bool:
        return request.user.has_perm("connections.pause_strategies")

    @admin.action(description=_("Pause"), permissions=["pause"])
    def pause(self, request, queryset) -> None:
        now = timezone.now()
        count = 0
        with transaction.atomic():
            for strategy in queryset.select_for_update().filter(status=StrategyStatus.ENABLED):
                strategy.status = StrategyStatus.PAUSED
                strategy.pause_reason = "support"
                strategy.paused_at = now
                strategy.save(update_fields=["status", "pause_reason", "paused_at", "updated_at"])
                audit.record(
                    strategy, "strategy_paused", actor=request.user, data={"reason": "support"}
                )
                count += 1
        self.message_user(
            request,
            ngettext("%(n)s strategy paused.", "%(n)s strategies paused.", count) % {"n": count},
            messages.SUCCESS,
        )


@admin.register(SymbolList)
class SymbolListAdmin(ShownLookupsOnlyMixin, admin.ModelAdmin):
    """The cached lists of pairs each exchange allows over its API; refreshed by beat."""

    list_display = ("exchange", "market", "fetched_at")
    list_filter = ("exchange", "market")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
