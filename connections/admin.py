"""Support-staff views of connections. Secrets and fingerprints are never shown or editable."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from backfuture.admin_lookups import ShownLookupsOnlyMixin
from backfuture.display import when
from connections import hooks, presenters, services
from connections.models import (
    AuditEvent,
    Connection,
    ConnectionCheck,
    ExchangeIncident,
    IncidentEvent,
)

# Columns that hold key material. Listed once so every admin below excludes them.
SECRET_FIELDS = ("api_key", "api_secret", "passphrase", "key_fingerprint")


class ReadOnlyAdminMixin:
    """Support reads; nobody adds or edits these rows through the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ConnectionCheckInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ConnectionCheck
    fields = ("created_at", "trigger", "requested_by", "state", "verdict", "category", "message")
    readonly_fields = fields
    ordering = ("-created_at",)
    extra = 0
    max_num = 0
    show_change_link = True
    can_delete = False


@admin.register(Connection)
class ConnectionAdmin(ShownLookupsOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "owner_email",
        "exchange",
        "demo",
        "market",
        "status",
        "problem_category",
        "last_tested_at",
    )
    list_filter = ("exchange", "demo", "market", "status", "problem_category")
    search_fields = ("owner__email", "name")
    list_select_related = ("owner",)
    exclude = SECRET_FIELDS
    readonly_fields = (
        "owner",
        "name",
        "exchange",
        "demo",
        "market",
        "key_hint",
        "key_verified",
        "withdrawal_off_confirmed",
        "status",
        "problem_category",
        "problem_message",
        "reported_ip",
        "permissions",
        "ip_restricted",
        "key_expires_at",
        "clock_skew_ms",
        "last_tested_at",
        "last_online_at",
        "failing_since",
        "testing_since",
        "key_replaced_at",
        "created_at",
        "updated_at",
        "latest_report",
        "recent_events",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "owner",
                    "name",
                    "exchange",
                    "market",
                    "key_hint",
                    "key_verified",
                    "status",
                )
            },
        ),
        (
            _("Latest test"),
            {
                "fields": (
                    "latest_report",
                    "problem_category",
                    "problem_message",
                    "reported_ip",
                    "permissions",
                    "ip_restricted",
                    "withdrawal_off_confirmed",
                    "key_expires_at",
                    "clock_skew_ms",
                    "last_tested_at",
                    "last_online_at",
                    "failing_since",
                    "testing_since",
                )
            },
        ),
        (
            _("History"),
            {"fields": ("recent_events", "key_replaced_at", "created_at", "updated_at")},
        ),
    )
    inlines = [ConnectionCheckInline]
    actions = ["run_connection_test", "pause_strategies"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*SECRET_FIELDS)

    @admin.display(description=_("owner"), ordering="owner__email")
    def owner_email(self, obj: Connection) -> str:
        return obj.owner.email

    @admin.display(description=_("checks"))
    def latest_report(self, obj: Connection) -> str:
        rows = presenters.report_rows(obj.last_report)
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} <strong>{}</strong>: {}</li>",
                ((row.mark, row.label, row.detail) for row in rows),
            ),
        )

    @admin.display(description=_("audit log"))
    def recent_events(self, obj: Connection) -> str:
        events = AuditEvent.objects.filter(connection_id_ref=obj.pk).select_related("actor")[:20]
        return (
            format_html(
                "<ul>{}</ul>",
                format_html_join(
                    "",
                    "<li>{} · {} · {}</li>",
                    (
                        (
                            when(e.created_at),
                            e.get_action_display(),
                            e.actor.email if e.actor else e.get_actor_kind_display(),
                        )
                        for e in events
                    ),
                ),
            )
            if events
            else "—"
        )

    @admin.action(description=_("Run connection test"), permissions=["run_test"])
    def run_connection_test(self, request, queryset) -> None:
        started = refused = 0
        for connection in queryset:
            try:
                services.connection_request_check(
                    connection=connection, trigger="support", requested_by=request.user
                )
                started += 1
            except services.CheckNotStarted:
                refused += 1
        self.message_user(
            request,
            ngettext("%(n)s test started.", "%(n)s tests started.", started) % {"n": started},
            messages.SUCCESS,
        )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(n)s test not started (already testing, just tested, or queue unavailable).",
                    "%(n)s tests not started (already testing, just tested, or queue unavailable).",
                    refused,
                )
                % {"n": refused},
                messages.WARNING,
            )

    @admin.action(description=_("Pause strategies"), permissions=["pause"])
    def pause_strategies(self, request, queryset) -> None:
        paused = sum(
            hooks.announce(
                hooks.ConnectionEvent(
                    c, hooks.PAUSE_REQUESTED, reason="support", actor=request.user
                )
            )
            for c in queryset
        )
        self.message_user(
            request,
            ngettext("%(n)s strategy paused.", "%(n)s strategies paused.", paused) % {"n": paused},
            messages.SUCCESS,
        )

    def has_run_test_permission(self, request) -> bool:
        return request.user.has_perm("connections.run_connection_test")

    def has_pause_permission(self, request) -> bool:
        return request.user.has_perm("connections.pause_strategies")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting wipes the user's key; only the user does that, from their own pages.
        return False


@admin.register(ConnectionCheck)
class ConnectionCheckAdmin(ShownLookupsOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "connection", "trigger", "state", "verdict", "category", "created_at")
    list_filter = ("state", "verdict", "category", "trigger")
    search_fields = ("connection__name", "connection__owner__email")
    list_select_related = ("connection",)
    readonly_fields = (
        "connection",
        "requested_by",
        "trigger",
        "state",
        "verdict",
        "category",
        "message",
        "report",
        "attempts",
        "created_at",
        "started_at",
        "finished_at",
    )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ShownLookupsOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "action",
        "object_type",
        "object_label",
        "actor_kind",
        "actor",
        "owner",
    )
    list_filter = ("action", "actor_kind", "object_type")
    search_fields = ("object_label", "owner__email", "actor__email")
    list_select_related = ("actor", "owner")
    readonly_fields = (
        "created_at",
        "owner",
        "actor_kind",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_label",
        "connection_id_ref",
        "data",
    )
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class IncidentEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The incident's timeline: opened, lasted past the grace period, ended."""

    model = IncidentEvent
    fields = ("at", "kind", "detail")
    readonly_fields = fields
    ordering = ("at", "id")
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(ExchangeIncident)
class ExchangeIncidentAdmin(ShownLookupsOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Exchange-wide outages (docs/architecture.md, "Outages and key expiry"): when each began,
    was noticed, outlasted the grace period and ended, with what it did."""

    list_display = (
        "exchange",
        "started_at",
        "ended_at",
        "duration",
        "probes",
        "connections_failed",
        "users_notified",
    )
    list_filter = ("exchange",)
    readonly_fields = (
        "exchange",
        "started_at",
        "detected_at",
        "escalated_at",
        "ended_at",
        "duration",
        "probes",
        "connections_failed",
        "users_notified",
    )
    inlines = [IncidentEventInline]
    date_hierarchy = "started_at"

    @admin.display(description=_("duration"))
    def duration(self, obj: ExchangeIncident) -> str:
        from django.utils import timezone

        end = obj.ended_at or timezone.now()
        minutes = int((end - obj.started_at).total_seconds() // 60)
        text = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
        return text if obj.ended_at else f"{text} (ongoing)"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
