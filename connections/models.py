from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backfuture.fields import EncryptedTextField

# Key hygiene (the product's security principles: delete keys that are no longer used).
UNUSED_AFTER_DAYS = 90
FAILING_UNUSED_DAYS = 30


class Market(models.TextChoices):
    SPOT = "spot", "Spot"  # "Spot" and "Futures" stay in English in every language (product).
    FUTURES = "futures", "Futures"


class ConnectionStatus(models.TextChoices):
    UNTESTED = "untested", _("Not tested")
    TESTING = "testing", _("Testing")
    ONLINE = "online", _("Online")
    FAILED = "failed", _("Failed")


class ProblemCategory(models.TextChoices):
    INVALID_KEY = "invalid_key", _("Invalid key")
    NO_TRADE_PERMISSION = "no_trade_permission", _("No trading permission")
    FUTURES_NOT_PERMITTED = "futures_not_permitted", _("Futures permission missing")
    IP_NOT_ALLOWED = "ip_not_allowed", _("IP not allowed")
    WITHDRAWAL_ENABLED = "withdrawal_enabled", _("Withdrawal enabled")
    CLOCK_SKEW = "clock_skew", _("Clock out of sync")
    ACCOUNT_RESTRICTED = "account_restricted", _("Account restricted")
    EXCHANGE_UNAVAILABLE = "exchange_unavailable", _("Exchange unavailable")
    KEY_IN_USE = "key_in_use", _("Key already connected")

    EXCHANGE_UNREACHABLE = "exchange_unreachable", _("Exchange not reachable from our server")


class Connection(models.Model):
    """One user's API key on one exchange account and market."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections"
    )
    name = models.CharField(_("name"), max_length=80)
    exchange = models.CharField(_("exchange"), max_length=20)
    market = models.CharField(_("market"), max_length=10, choices=Market.choices)

    api_key = EncryptedTextField()
    api_secret = EncryptedTextField()
    passphrase = EncryptedTextField(null=True, blank=True)
    key_hint = models.CharField(_("API key"), max_length=16)
    # HMAC of the API key: finds a key already in use without decrypting any row. Unique only
    # among verified connections: one key, one connection, claimed by a passing test
    # (docs/security.md, "One key, one connection").
    key_fingerprint = models.CharField(max_length=64, db_index=True)
    # A test of this key passed on this connection. Cleared when the key is replaced.
    key_verified = models.BooleanField(_("key verified by a test"), default=False)
    # For exchanges whose API cannot tell whether withdrawal is enabled (MEXC), the user's
    # explicit confirmation that it is off on this key.
    withdrawal_off_confirmed = models.BooleanField(default=False)
    # A key of the exchange's demo (paper trading) environment, tested against its demo hosts.
    demo = models.BooleanField(_("demo environment"), default=False)

    status = models.CharField(
        _("status"), max_length=10, choices=ConnectionStatus.choices, default="untested"
    )
    problem_category = models.CharField(
        _("problem"), max_length=32, choices=ProblemCategory.choices, blank=True
    )
    problem_message = models.TextField(_("problem details"), blank=True)
    reported_ip = models.GenericIPAddressField(null=True, blank=True)
    permissions = models.JSONField(default=list, blank=True)
    ip_restricted = models.BooleanField(null=True)
    key_expires_at = models.DateTimeField(null=True, blank=True)
    clock_skew_ms = models.IntegerField(null=True, blank=True)
    # The latest finished test (a CheckReport as JSON): what the detail page shows.
    last_report = models.JSONField(null=True, blank=True)
    last_tested_at = models.DateTimeField(_("last tested"), null=True, blank=True)
    last_online_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    # The test whose result may be written; a result from any other check id is stale.
    current_check = models.ForeignKey(
        "ConnectionCheck", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    testing_since = models.DateTimeField(null=True, blank=True)
    key_replaced_at = models.DateTimeField(null=True, blank=True)
    # Outages (docs/architecture.md, "Outages and key expiry"): since when re-checks of this
    # Online connection could not reach its exchange (a temporary category, still inside the
    # grace period), how many in a row, and when the next re-check is due (the backoff; also set
    # on a connection that failed for a temporary reason, so it comes back by itself).
    unreachable_since = models.DateTimeField(null=True, blank=True)
    unreachable_checks = models.PositiveSmallIntegerField(default=0)
    next_recheck_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        permissions = [
            ("run_connection_test", "Can run a connection test"),
            ("pause_strategies", "Can pause strategies"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "owner", name="connection_name_unique_per_owner"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ConnectionStatus.values),
                name="connection_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(market__in=Market.values), name="connection_market_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="testing") | models.Q(current_check__isnull=False),
                name="connection_testing_has_check",
            ),
            models.UniqueConstraint(
                fields=["key_fingerprint"],
                condition=models.Q(key_verified=True),
                name="connection_verified_key_unique",
            ),
        ]
        indexes = [models.Index(fields=["status", "last_tested_at"])]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Connection {self.pk} {self.exchange}/{self.market} {self.status}>"

    @property
    def is_final(self) -> bool:
        return self.status != ConnectionStatus.TESTING

    @property
    def is_unused(self) -> bool:
        """Not tested for 90 days, or failing for 30: the key should probably be deleted."""
        now = timezone.now()
        last_tested = self.last_tested_at or self.created_at
        if last_tested and now - last_tested > timedelta(days=UNUSED_AFTER_DAYS):
            return True
        return bool(
            self.failing_since and now - self.failing_since > timedelta(days=FAILING_UNUSED_DAYS)
        )


class CheckTrigger(models.TextChoices):
    USER = "user", _("you")
    SCHEDULE = "schedule", _("scheduled re-check")
    SUPPORT = "support", _("support staff")
    COMMAND = "command", _("operations")


class CheckState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    SUPERSEDED = "superseded", _("Superseded")


class ConnectionCheck(models.Model):
    """One connection test: who asked for it, and what it found."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="checks")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trigger = models.CharField(max_length=10, choices=CheckTrigger.choices)
    state = models.CharField(max_length=12, choices=CheckState.choices, default="queued")
    verdict = models.CharField(max_length=10, blank=True)  # "online" or "failed" once finished
    category = models.CharField(max_length=32, choices=ProblemCategory.choices, blank=True)
    message = models.TextField(blank=True)
    report = models.JSONField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # While retries run: the temporary problem they are about, and when the next attempt is
    # due (None while an attempt runs). The live status shows "retrying (2 of 4)".
    retry_category = models.CharField(max_length=32, choices=ProblemCategory.choices, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Unfinished by then, its worker is gone: the reaper fails it. Set from the task's time
    # limits whenever the test is queued, starts an attempt or waits for a retry.
    deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("connection test")
        verbose_name_plural = _("connection tests")
        indexes = [models.Index(fields=["connection", "-created_at"])]

    def __str__(self) -> str:
        return f"Test {self.pk} of connection {self.connection_id}"

    @property
    def current_attempt(self) -> int:
        """The attempt that runs now, or the next one while a retry waits."""
        return self.attempts + 1 if self.next_attempt_at else self.attempts

    @property
    def is_retrying(self) -> bool:
        return (
            self.state in (CheckState.QUEUED, CheckState.RUNNING)
            and bool(self.retry_category)
            and self.current_attempt > 1
        )


class AuditAction(models.TextChoices):
    CONNECTION_CREATED = "connection_created", _("Connection created")
    CONNECTION_RENAMED = "connection_renamed", _("Connection renamed")
    KEY_REPLACED = "key_replaced", _("API key replaced")
    CONNECTION_DELETED = "connection_deleted", _("Connection deleted")
    TEST_REQUESTED = "test_requested", _("Test requested")
    TEST_FINISHED = "test_finished", _("Test finished")
    STRATEGY_CREATED = "strategy_created", _("Strategy created")
    STRATEGY_SETTINGS_CHANGED = "strategy_settings_changed", _("Strategy settings changed")
    STRATEGY_ENABLED = "strategy_enabled", _("Strategy enabled")
    STRATEGY_PAUSED = "strategy_paused", _("Strategy paused")
    STRATEGY_RESUMED = "strategy_resumed", _("Strategy resumed")
    KEY_EXPIRY_REMINDER = "key_expiry_reminder", _("Key expiry reminder sent")
    EXCHANGE_OUTAGE = "exchange_outage", _("Exchange not answering")
    STRATEGY_DELETED = "strategy_deleted", _("Strategy deleted")
    ADMIN_ACTION = "admin_action", _("Support action")


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    STAFF = "staff", _("Support staff")
    SYSTEM = "system", _("System")


class AuditEvent(models.Model):
    """Who did what to which connection or strategy, and when. Never holds a secret."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The user whose object this is: they see their own events on their pages.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="audit_events",
        null=True,
    )
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(max_length=16)  # "connection" or "strategy"
    object_id = models.BigIntegerField()
    object_label = models.CharField(max_length=200)
    # Kept after a delete so the history of a deleted object can still be found.
    connection_id_ref = models.BigIntegerField(null=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.object_label}"


class ExchangeIncident(models.Model):
    """An exchange-wide outage: most recent checks of one exchange could not reach it.

    Opened and closed by `connections_update_incidents` (the re-check scheduler's beat); while
    open, re-checks of the exchange slow to probes and per-connection failure emails are held.
    """

    exchange = models.CharField(max_length=20)
    # The first temporary failure that counted towards it: "not answering since 14:02".
    started_at = models.DateTimeField()
    detected_at = models.DateTimeField()
    # When it lasted past the grace period: its connections failed, their owners were told.
    escalated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    probes = models.PositiveIntegerField(default=0)
    connections_failed = models.PositiveIntegerField(default=0)
    users_notified = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("exchange incident")
        verbose_name_plural = _("exchange incidents")
        constraints = [
            models.UniqueConstraint(
                fields=["exchange"],
                condition=models.Q(ended_at__isnull=True),
                name="exchange_incident_one_open_per_exchange",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exchange} since {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class IncidentEventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    PROBES = "probes", "Probes sent"
    ESCALATED = "escalated", "Lasted past the grace period"
    ENDED = "ended", "Ended"


class IncidentEvent(models.Model):
    """One line of an incident's timeline (the admin shows them; staff-only, English)."""

    incident = models.ForeignKey(ExchangeIncident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=IncidentEventKind.choices)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%H:%M:%S}"


class IncidentNotice(models.Model):
    """The one email a user gets about one incident (the unique constraint makes it one)."""

    incident = models.ForeignKey(ExchangeIncident, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="incident_notice_once"),
        ]

    def __str__(self) -> str:
        return f"Incident {self.incident_id} notice to user {self.user_id}"


class KeyExpiryReminder(models.Model):
    """A reminder sent about one key's expiry; `days_before` 0 is the expiry day itself.

    Keyed by the expiry it was about: a replaced key (another expiry) gets its own reminders,
    and the unique constraint means never two reminders of the same kind.
    """

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="expiry_reminders"
    )
    expires_at = models.DateTimeField()
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "expires_at", "days_before"], name="key_expiry_reminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.days_before} days before, connection {self.connection_id}"
