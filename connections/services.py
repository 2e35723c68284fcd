"""Writes and state transitions of connections. The only place that changes them."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from backfuture.cache import CacheUnavailable
from backfuture.fields import fingerprint, fingerprints, reveal
from backfuture.mail import mail_send
from connections import hooks
from connections.exchanges import registry
from connections.exchanges.base import (
    VERDICT_FAILED,
    Category,
    CheckReport,
    Credentials,
    ExchangeError,
    failed_report,
    scrub_report,
    truncate,
)
from connections.exchanges.base import Market as ExchangeMarket
from connections.models import (
    AuditEvent,
    CheckState,
    CheckTrigger,
    Connection,
    ConnectionCheck,
    ConnectionStatus,
)

logger = logging.getLogger(__name__)


def mask_key(api_key: str) -> str:
    """First 4 and last 4 characters; shorter keys show less so most of the key stays hidden."""
    if len(api_key) >= 12:
        return f"{api_key[:4]}…{api_key[-4:]}"
    return f"{api_key[:2]}…"


def _refuse_own_duplicate_key(*, owner, api_key: str, exclude_pk=None) -> None:
    """One key, one connection: the owner hears which of THEIR connections holds the key.

    Another user's connection with the same key is not mentioned here at all: saying so would
    tell anyone who knows a key (not its secret) that it is registered. Their duplicate is
    accepted untested, and a passing test decides who keeps the key (`_claim_key`).
    """
    mine = Connection.objects.filter(owner=owner, key_fingerprint__in=fingerprints(api_key))
    if exclude_pk is not None:
        mine = mine.exclude(pk=exclude_pk)
    holder = mine.only("name").first()
    if holder is not None:
        raise ValidationError(
            _(
                "This API key is already used by your connection “%(name)s”. Create a separate "
                "key on the exchange for each connection."
            ),
            params={"name": holder.name},
            code="duplicate_key",
        )


@sensitive_variables("api_key", "api_secret", "passphrase")
def connection_create(
    *,
    owner,
    name: str,
    exchange: str,
    market: str,
    api_key: str,
    api_secret: str,
    passphrase: str = "",
    withdrawal_off_confirmed: bool = False,
    demo: bool = False,
) -> Connection:
    key_fingerprint = fingerprint(api_key)
    _refuse_own_duplicate_key(owner=owner, api_key=api_key)
    connection = Connection(
        owner=owner,
        name=name,
        exchange=exchange,
        market=market,
        api_key=api_key,
        api_secret=api_secret,
        passphrase=passphrase or None,
        key_hint=mask_key(api_key),
        key_fingerprint=key_fingerprint,
        withdrawal_off_confirmed=withdrawal_off_confirmed,
        demo=demo,
    )
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError as exc:
        # A new connection is unverified, so only the name can clash.
        raise ValidationError(
            _("You already have a connection with this name."), code="duplicate_name"
        ) from exc
    from connections import audit

    audit.record(connection, "connection_created", actor=owner)
    logger.info("connection %s created (%s/%s)", connection.pk, exchange, market)
    return connection


def connection_rename(*, connection: Connection, name: str, actor) -> Connection:
    old_name = connection.name
    if old_name == name:
        return connection
    connection.name = name
    try:
        with transaction.atomic():
            connection.save(update_fields=["name", "updated_at"])
    except IntegrityError:
        connection.name = old_name
        raise ValidationError(
            _("You already have a connection with this name."), code="duplicate_name"
        ) from None
    from connections import audit

    audit.record(connection, "connection_renamed", actor=actor, data={"from": old_name, "to": name})
    return connection


@sensitive_variables("api_key", "api_secret", "passphrase")
def connection_replace_key(
    *,
    connection: Connection,
    api_key: str,
    api_secret: str,
    passphrase: str = "",
    withdrawal_off_confirmed: bool = False,
    actor,
) -> Connection:
    """Swap the key in place: name and strategies stay, every earlier test result is void."""
    key_fingerprint = fingerprint(api_key)
    _refuse_own_duplicate_key(owner=connection.owner, api_key=api_key, exclude_pk=connection.pk)
    now = timezone.now()
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        locked.api_key = api_key
        locked.api_secret = api_secret
        locked.passphrase = passphrase or None
        locked.key_hint = mask_key(api_key)
        locked.key_fingerprint = key_fingerprint
        # The new key has passed no test here: it claims nothing until one passes.
        locked.key_verified = False
        locked.withdrawal_off_confirmed = withdrawal_off_confirmed
        # A test in flight was of the old key: clearing current_check makes its result stale.
        locked.status = ConnectionStatus.UNTESTED
        locked.current_check = None
        locked.testing_since = None
        locked.problem_category = ""
        locked.problem_message = ""
        locked.reported_ip = None
        locked.permissions = []
        locked.ip_restricted = None
        locked.key_expires_at = None
        locked.clock_skew_ms = None
        locked.failing_since = None
        locked.unreachable_since = None
        locked.unreachable_checks = 0
        locked.next_recheck_at = None
        locked.key_replaced_at = now
        locked.save()
        from connections import audit

        hooks.announce(
            hooks.ConnectionEvent(locked, hooks.KEY_REPLACED, reason="key_replaced", actor=actor)
        )
        audit.record(locked, "key_replaced", actor=actor)
    return locked


def connection_delete(*, connection: Connection, actor) -> None:
    """Delete the connection and its strategies; the encrypted values are overwritten first."""
    from connections import audit

    with transaction.atomic():
        audit.record(connection, "connection_deleted", actor=actor, data={"name": connection.name})
        # Overwrite before deleting so no code path between here and the DELETE (signals,
        # cascades, a failing constraint) can still read the secrets.
        Connection.objects.filter(pk=connection.pk).update(
            api_key="",
            api_secret="",
            passphrase=None,
            # A test may be in flight: its result will find no row and be discarded.
            status=ConnectionStatus.UNTESTED,
            current_check=None,
            testing_since=None,
        )
        Connection.objects.filter(pk=connection.pk).delete()


# --- Connection tests ------------------------------------------------------------------------


def max_test_duration() -> float:
    """The longest a test can legitimately take, in seconds: every attempt at the task's hard
    time limit, with the longest backoff between them (full jitter draws at most
    base × 2^n). A retry that would end later fails the test instead (connection_schedule_retry).
    """
    retries = settings.CONNECTION_TEST_RETRIES
    backoff = sum(settings.CONNECTION_TEST_RETRY_BASE * 2**n for n in range(retries))
    return (retries + 1) * settings.CONNECTION_TEST_TIME_LIMIT + backoff


def check_deadline(now, *, waiting_for: float | None = None):
    """When the reaper may take a check's worker for dead and fail the check.

    A running attempt cannot outlive the task's hard time limit, so it gets that plus a grace.
    A check that waits (queued, or a retry due in `waiting_for` seconds) gets its wait, the
    time it may then sit in the queue for a free worker, and the same.
    """
    seconds = settings.CONNECTION_TEST_TIME_LIMIT + settings.CONNECTION_TEST_REAP_GRACE
    if waiting_for is not None:
        seconds += waiting_for + settings.CONNECTION_TEST_QUEUE_WAIT
    return now + timedelta(seconds=seconds)


class CheckNotStarted(Exception):
    """A test was not started; `reason` says why ("in_flight", "cooldown" or "queue_down")."""

    def __init__(self, reason: str, *, retry_in: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_in = retry_in


def check_queue(trigger: str) -> str:
    """The queue of a test: a person's own, consumed first, unless the scheduler started it."""
    from backfuture.celery import DEFAULT_QUEUE, TESTS_QUEUE

    return DEFAULT_QUEUE if trigger == CheckTrigger.SCHEDULE else TESTS_QUEUE


def _enqueue_check(check_id: int, *, queue: str, countdown: float | None = None) -> None:
    from connections.tasks import connection_check

    # Bounded publish retries: with the broker down the user hears about it in seconds
    # instead of the request hanging on kombu's default retry policy.
    options: dict = {
        "queue": queue,
        "retry": True,
        "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
    }
    # `is not None`: a re-check due right now has a countdown of 0.0, which is still one.
    if countdown is not None:
        options["countdown"] = countdown
    connection_check.apply_async(args=[check_id], **options)


def connection_request_check(
    *,
    connection: Connection,
    trigger: str,
    requested_by=None,
    countdown: float | None = None,
    enqueue: bool = True,
    locked: bool = False,
) -> ConnectionCheck:
    """Start a test: lock the row, mark it `testing`, record the check, enqueue on commit.

    Only the check id goes through the broker. A test already in flight is not started twice;
    tests a person asks for have a short per-connection cooldown so nobody hammers the
    exchange. The rest is `_start_checks`, for a batch of one: a refusing broker undoes the
    request and raises CheckNotStarted("queue_down").

    `locked`: the caller read `connection` with its row locked, in the transaction it holds
    around this call (the test view, through its scoped selector), so the row is not read
    again; it is published when that transaction commits.
    """
    if locked and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a connection locked by the caller needs the caller's transaction")
    now = timezone.now()

    def lock() -> list[Connection]:
        row = connection if locked else Connection.objects.select_for_update().get(pk=connection.pk)
        if row.status == ConnectionStatus.TESTING:
            raise CheckNotStarted("in_flight")
        if trigger != CheckTrigger.SCHEDULE:
            last = row.checks.order_by("-created_at").values_list("created_at", flat=True)
            last_at = last.first()
            cooldown = timedelta(seconds=settings.CONNECTION_TEST_COOLDOWN)
            if last_at and now - last_at < cooldown:
                wait = int((cooldown - (now - last_at)).total_seconds()) + 1
                raise CheckNotStarted("cooldown", retry_in=wait)
        return [row]

    (check,) = _start_checks(
        lock,
        trigger=trigger,
        now=now,
        start_in=lambda _connection: countdown,
        requested_by=requested_by,
        raise_if_refused=True,
        enqueue=enqueue,
        # In the caller's transaction: a savepoint would add two statements for nothing, since
        # whatever is raised inside leaves that transaction too.
        savepoint=not locked,
    )
    return check


def _start_checks(
    lock: Callable[[], list[Connection]],
    *,
    trigger: str,
    now,
    start_in: Callable[[Connection], float | None],
    requested_by=None,
    raise_if_refused: bool = False,
    enqueue: bool = True,
    savepoint: bool = True,
) -> list[ConnectionCheck]:
    """The one way tests start, for one connection (`connection_request_check`) or a batch of
    re-checks (`_request_rechecks`), in one transaction.

    `lock()` locks the connections to test and returns them in the order to publish (or
    raises to refuse). Each gets a check whose deadline allows for its wait, is marked
    `testing` and gets a `test_requested` audit event: one INSERT of checks, one UPDATE, one
    INSERT of events, whatever their number (docs/performance.md, section 3). On commit each
    check is published on its trigger's queue with the countdown `start_in(connection)` gives
    then (None: at once); its deadline used what it gave at creation.

    If the broker refuses one, the rest would fail too (each after its retries): that one and
    the ones after it are undone (`_undo_check_request`), then CheckNotStarted("queue_down")
    is raised if `raise_if_refused`, else the checks published are returned. A
    SoftTimeLimitExceeded (the calling task ran out of time, the queue is fine) undoes the same
    and is re-raised, so the task stops instead of carrying on as if the queue were down.
    While the caller holds a transaction of its own, publishing waits for its commit and
    every check is returned.
    """
    from connections import audit

    with transaction.atomic(savepoint=savepoint):
        locked = lock()
        if not locked:
            return []
        checks = ConnectionCheck.objects.bulk_create(
            [
                ConnectionCheck(
                    connection=c,
                    trigger=trigger,
                    requested_by=requested_by,
                    deadline=check_deadline(now, waiting_for=start_in(c) or 0.0),
                )
                for c in locked
            ]
        )
        previous = {c.pk: c.status for c in locked}
        # One statement (bulk_update's CASE over hundreds of rows costs more than the rest).
        Connection.objects.filter(pk__in=previous).update(
            status=ConnectionStatus.TESTING,
            current_check=Subquery(
                ConnectionCheck.objects.filter(
                    connection_id=OuterRef("pk"), pk__in=[k.pk for k in checks]
                ).values("pk")[:1]
            ),
            testing_since=now,
            updated_at=now,
        )
        for c, k in zip(locked, checks, strict=True):  # as a save() would leave them
            c.status = ConnectionStatus.TESTING
            c.current_check = k
            c.testing_since = c.updated_at = now
        AuditEvent.objects.bulk_create(
            [
                audit.build(
                    c,
                    "test_requested",
                    actor=requested_by,
                    data={"trigger": trigger, "check": k.pk},
                )
                for c, k in zip(locked, checks, strict=True)
            ]
        )

        undone: set[int] = set()
        queue = check_queue(trigger)

        def undo_from(index: int) -> None:
            for left in checks[index:]:
                _undo_check_request(check_id=left.pk, previous_status=previous[left.connection_id])
                undone.add(left.pk)

        def publish_on_commit() -> None:
            for index, (connection, check) in enumerate(zip(locked, checks, strict=True)):
                try:
                    _enqueue_check(check.pk, queue=queue, countdown=start_in(connection))
                except SoftTimeLimitExceeded:
                    undo_from(index)
                    raise
                except Exception:
                    logger.exception("could not enqueue connection test %s", check.pk)
                    undo_from(index)
                    if raise_if_refused:
                        raise CheckNotStarted("queue_down") from None
                    return

        if enqueue:
            transaction.on_commit(publish_on_commit)
    # Publishing ran already unless the caller holds a transaction of its own.
    return [check for check in checks if check.pk not in undone]


def _undo_check_request(*, check_id: int, previous_status: str) -> None:
    """The broker refused the task: put the connection back as it was, keep the check row."""
    with transaction.atomic():
        Connection.objects.filter(
            current_check_id=check_id, status=ConnectionStatus.TESTING
        ).update(status=previous_status, testing_since=None, updated_at=timezone.now())
        ConnectionCheck.objects.filter(pk=check_id).update(
            state=CheckState.FINISHED, message="queue_unavailable", finished_at=timezone.now()
        )


def connection_start_check(*, check_id: int, connection: Connection) -> Credentials | None:
    """Worker side: mark the check running and hand back decrypted credentials.

    Returns None when the check is stale (superseded by a newer test or a key replacement,
    or already finished): the worker then does nothing.

    `connection` is the check's connection as the caller read it before (its secrets still
    sealed), not read again: the update below matches only while the connection's current
    check is this one, and a key replacement (or a deletion) ends that for good, so the key
    read before is still the connection's key when the update matched.
    """
    now = timezone.now()
    updated = (
        ConnectionCheck.objects.filter(
            pk=check_id,
            state__in=[CheckState.QUEUED, CheckState.RUNNING],
            connection__current_check_id=check_id,
        )
        # Past its deadline the reaper owns it, even if it has not run yet.
        .filter(Q(deadline__isnull=True) | Q(deadline__gt=now))
        .update(
            state=CheckState.RUNNING,
            started_at=Coalesce("started_at", now),
            attempts=F("attempts") + 1,
            next_attempt_at=None,
            deadline=check_deadline(now),
        )
    )
    if not updated:
        return None
    return Credentials(
        api_key=reveal(connection.api_key) or "",
        api_secret=reveal(connection.api_secret) or "",
        passphrase=reveal(connection.passphrase) or "",
    )


def connection_run_check(*, check_id: int, max_wait: float | None = None) -> str:
    """Run the exchange client for a check and record its report.

    Returns "stale" or the verdict. Temporary exchange errors propagate so the task can retry.
    The test takes a slot in its exchange's shared request budget (connections/throttle): a
    re-check before it is marked running, a person's test after. `throttle.Throttled`
    propagates when that is more than `max_wait` seconds away (None: wait for it), so a
    worker can put the test back in the queue instead of blocking.
    """
    from connections import throttle

    check = ConnectionCheck.objects.select_related("connection").filter(pk=check_id).first()
    # A stale check must not spend the budget; connection_start_check still decides below.
    if (
        check is None
        or check.state not in (CheckState.QUEUED, CheckState.RUNNING)
        or check.connection.current_check_id != check.pk
    ):
        return "stale"
    if check.deadline is not None and check.deadline <= timezone.now():
        # Redelivered after its worker died (the broker's visibility timeout), or held in a
        # queue past its deadline: it is failed as the reaper would, and never run late.
        _reap(connection_id=check.connection_id, now=timezone.now())
        return "stale"
    connection = check.connection
    recheck = check.trigger == CheckTrigger.SCHEDULE
    slot = throttle.Slot(connection.exchange, recheck=recheck, max_wait=max_wait)
    if recheck:
        # A re-check takes a free slot before anything else: with none free it goes back to
        # the queue untouched, no statement written (most of its turns under a fleet's load).
        slot.take()
    # The connection read above (secrets sealed): no second read of the same row.
    credentials = connection_start_check(check_id=check_id, connection=connection)
    if credentials is None:  # superseded, finished, or the connection was deleted
        return "stale"
    client = None
    try:
        if not recheck:
            # A person's test books its slot once it is marked running: the statement is
            # then not between the slot and the calls, where each millisecond counts against
            # the slot's lateness (throttle.max_lateness) and could cost another slot.
            slot.take()
        client = registry.build_client(
            connection.exchange,
            settings.EXCHANGE_URLS,
            connect_timeout=settings.EXCHANGE_CONNECT_TIMEOUT,
            read_timeout=settings.EXCHANGE_READ_TIMEOUT,
            budget=settings.EXCHANGE_TEST_BUDGET,
            demo=connection.demo,
            # The calls the slot paces leave within its allowed lateness, or take another
            # slot first (throttle.Slot.call): building the client, the calls' threads and a
            # busy machine come between the slot and the send. A test that must send its
            # signed calls again (signed with a skew its server-time call proved wrong:
            # connections/exchanges/flow.py) takes another slot for them (Slot.resend), as a
            # person's test does (booked ahead: it is under way). `Throttled` puts it back in
            # the queue, where it runs again with the skew remembered.
            pacing=slot,
        )
        # The clients scrub what exchanges echo; this holds for every client, present or
        # future: no credential reaches a stored report or a retried error.
        report = scrub_report(
            client.run_checks(credentials, ExchangeMarket(connection.market)), credentials
        )
    except ExchangeError as error:
        raise error.scrub(credentials) from None
    except throttle.Throttled:
        # Our own pacing after the check was marked running (no slot within the wait, a
        # resend without one, a call that could not leave on time): back to the queue as not
        # started, so this turn is not counted as an attempt ("Retrying (2 of 4)" counts the
        # exchange's errors).
        ConnectionCheck.objects.filter(
            pk=check_id, state=CheckState.RUNNING, attempts__gt=0
        ).update(state=CheckState.QUEUED, attempts=F("attempts") - 1)
        raise
    finally:
        del credentials
        # Its sockets now, not whenever the garbage collector gets to the session.
        session = getattr(client, "session", None)
        if session is not None:
            session.close()
    recorded = connection_record_report(check_id=check_id, report=report)
    return report.verdict if recorded else "stale"


def connection_record_error(*, check_id: int, error: ExchangeError) -> bool:
    """A test ended in an error after its retries: record it as a failed report."""
    if error.category == Category.EXCHANGE_UNREACHABLE:
        # Our network, not the user's key: tell the operator where to look.
        logger.warning(
            "connection test %s: our server could not reach the exchange (%s). From a worker "
            "host, check DNS resolution, outbound firewall or egress rules, the HTTP(S) proxy "
            "settings and TLS (CA certificates, an intercepting proxy).",
            check_id,
            error.message,
        )
    check = ConnectionCheck.objects.select_related("connection").filter(pk=check_id).first()
    if check is None:  # the connection was deleted meanwhile
        return False
    report = failed_report(
        check.connection.exchange, ExchangeMarket(check.connection.market), error
    )
    return connection_record_report(check_id=check_id, report=report)


def connection_schedule_retry(*, check_id: int, delay: float, category: str) -> str:
    """Note on the check that a temporary error will be retried in `delay` seconds.

    Returns "retry"; "too_late" when the retry would end after the test's time window
    (`max_test_duration`, e.g. for a long Retry-After): the caller fails the test now instead of
    waiting past it; or "stale" when the check is no longer the connection's current test.
    """
    now = timezone.now()
    check = ConnectionCheck.objects.filter(pk=check_id).only("created_at", "started_at").first()
    if check is None:
        return "stale"
    began = check.started_at or check.created_at
    latest_end = began + timedelta(seconds=max_test_duration())
    if now + timedelta(seconds=delay + settings.CONNECTION_TEST_TIME_LIMIT) > latest_end:
        return "too_late"
    updated = ConnectionCheck.objects.filter(
        pk=check_id,
        state__in=[CheckState.QUEUED, CheckState.RUNNING],
        connection__current_check_id=check_id,
    ).update(
        retry_category=category,
        next_attempt_at=now + timedelta(seconds=delay),
        deadline=check_deadline(now, waiting_for=delay),
    )
    return "retry" if updated else "stale"


def connection_check_postponed(*, check_id: int, countdown: float) -> None:
    """The test went back to the queue for `countdown` seconds (our own throttle): its
    deadline moves with it, so the reaper does not fail a test that is only waiting."""
    now = timezone.now()
    ConnectionCheck.objects.filter(
        pk=check_id, state__in=[CheckState.QUEUED, CheckState.RUNNING]
    ).update(deadline=check_deadline(now, waiting_for=countdown))


def _notify_if_unwatched(
    *, connection_id: int, trigger: str, newly_failed: bool, held: bool = False
) -> None:
    """Email the owner, once per transition to failed, unless they started this test
    themselves: they are watching it on the page (issue 19). Re-checks, and tests started by
    support or operations, are emailed, also when the reaper fails them. A temporary failure
    while its exchange is in an incident is `held`: the incident sends one email per user."""
    if newly_failed and trigger != CheckTrigger.USER and not held:
        transaction.on_commit(lambda: notify_connection_failed(connection_id=connection_id))


TEMPORARY_CATEGORIES = frozenset(str(c) for c in Category if c.is_temporary)


def is_temporary(category: str) -> bool:
    return category in TEMPORARY_CATEGORIES


# The backoff reaches its maximum long before this; the count stops here, within its column.
UNREACHABLE_COUNT_MAX = 1000


def unreachable_backoff(checks: int) -> timedelta:
    """The wait before the next re-check after `checks` in a row could not reach the exchange."""
    base = settings.CONNECTION_UNREACHABLE_BACKOFF * 2 ** max(0, checks - 1)
    return timedelta(seconds=min(base, settings.CONNECTION_UNREACHABLE_BACKOFF_MAX))


def open_incident(exchange: str):
    from connections.models import ExchangeIncident

    return ExchangeIncident.objects.filter(exchange=exchange, ended_at__isnull=True).first()


def _record_unreachable(*, connection: Connection, check: ConnectionCheck, now) -> None:
    """A re-check of an Online connection could not reach its exchange, within the grace period:
    the connection stays Online (and usable), keeps its last passing report, and is re-checked
    with backoff; the grace period's end is itself a re-check, so it fails on time."""
    from connections import audit

    connection.unreachable_since = connection.unreachable_since or now
    connection.unreachable_checks = min(connection.unreachable_checks + 1, UNREACHABLE_COUNT_MAX)
    grace_ends = connection.unreachable_since + timedelta(seconds=settings.CONNECTION_OUTAGE_GRACE)
    connection.next_recheck_at = min(
        now + unreachable_backoff(connection.unreachable_checks), grace_ends
    )
    connection.status = ConnectionStatus.ONLINE
    connection.testing_since = None
    connection.save(
        update_fields=[
            "status",
            "testing_since",
            "unreachable_since",
            "unreachable_checks",
            "next_recheck_at",
            "updated_at",
        ]
    )
    audit.record(
        connection,
        "test_finished",
        data={
            "check": check.pk,
            "verdict": "failed",
            "category": check.category,
            "within_grace": True,
        },
    )
    hooks.announce(
        hooks.ConnectionEvent(connection, hooks.UNREACHABLE, reason=hooks.REASON_UNAVAILABLE)
    )


# What connection_record_report sets on the connection (key_verified: _claim_key writes it).
_RESULT_FIELDS = (
    "status",
    "problem_category",
    "problem_message",
    "reported_ip",
    "permissions",
    "ip_restricted",
    "key_expires_at",
    "clock_skew_ms",
    "last_report",
    "last_tested_at",
    "testing_since",
    "failing_since",
    "last_online_at",
    "unreachable_checks",
    "next_recheck_at",
    "unreachable_since",
    "updated_at",
)


def connection_record_report(*, check_id: int, report: CheckReport) -> bool:
    """Write a test's result, guarded by the check id. Returns False for a stale result.

    A stale or duplicate run (a newer test started, the key was replaced, the reaper already
    closed it, or the same task ran twice) can never overwrite a newer result.

    Outages (docs/architecture.md, "Outages and key expiry"): a re-check of an Online
    connection that ends in a temporary category keeps it Online for the grace period; past it,
    or for a test a person started, it fails with the pause reason `exchange_unavailable`
    (strategies that allow it resume when a test passes again). Permanent categories fail at
    once. A passing test after either announces `back_online`.
    """
    from connections import audit, expiry

    now = timezone.now()
    with transaction.atomic():
        # One statement locks the check, then its connection (the order _reap takes them in:
        # PostgreSQL locks a join's rows in the order of its tables).
        check = (
            ConnectionCheck.objects.select_for_update()
            .select_related("connection")
            .filter(pk=check_id)
            .first()
        )
        if check is None:  # the connection (and its checks) was deleted meanwhile
            return False
        connection = check.connection
        if check.state == CheckState.FINISHED or connection.current_check_id != check.pk:
            if check.state != CheckState.FINISHED:
                check.state = CheckState.SUPERSEDED
                check.finished_at = now
                check.save(update_fields=["state", "finished_at"])
            return False

        if report.verdict == "online" and not _claim_key(connection=connection):
            report = _key_in_use(report)
        # Already scrubbed and cut on the exchange call path; the bound holds for any caller.
        report.message = truncate(report.message)
        data = report.to_dict()
        failed = report.verdict != "online"
        category = str(report.category) if failed and report.category else ""
        check.state = CheckState.FINISHED
        check.verdict = "failed" if failed else "online"
        check.category = category
        check.message = report.message
        check.report = data
        check.finished_at = now
        check.save(
            update_fields=["state", "verdict", "category", "message", "report", "finished_at"]
        )

        temporary = failed and is_temporary(category)
        grace = timedelta(seconds=settings.CONNECTION_OUTAGE_GRACE)
        if (
            temporary
            and check.trigger == CheckTrigger.SCHEDULE
            and connection.failing_since is None
            and now - (connection.unreachable_since or now) < grace
        ):
            _record_unreachable(connection=connection, check=check, now=now)
            return True

        was_down = connection.failing_since is not None or connection.unreachable_since is not None
        newly_failed = failed and connection.failing_since is None
        connection.status = ConnectionStatus.FAILED if failed else ConnectionStatus.ONLINE
        connection.problem_category = category
        connection.problem_message = report.message if failed else ""
        connection.reported_ip = report.reported_ip if failed else None
        connection.permissions = list(report.permissions)
        connection.ip_restricted = report.ip_restricted
        connection.key_expires_at = report.key_expires_at or expiry.implied_expiry(
            connection, report
        )
        connection.clock_skew_ms = report.clock_skew_ms
        connection.last_report = data
        connection.last_tested_at = now
        connection.testing_since = None
        if failed:
            # An outage that outlasted the grace period began when the first check failed.
            connection.failing_since = (
                connection.failing_since or connection.unreachable_since or now
            )
        else:
            connection.failing_since = None
            connection.last_online_at = now
        if temporary:
            # Keeps being re-checked (with backoff) so it comes back by itself.
            connection.unreachable_checks = min(
                connection.unreachable_checks + 1, UNREACHABLE_COUNT_MAX
            )
            connection.next_recheck_at = now + unreachable_backoff(connection.unreachable_checks)
        else:
            connection.unreachable_checks = 0
            connection.next_recheck_at = None
        connection.unreachable_since = None
        # Only what a result changes (the row is locked): not the key's ciphertexts and the
        # rest of the row written back as they were read.
        connection.save(update_fields=_RESULT_FIELDS)
        audit.record(
            connection,
            "test_finished",
            actor=None,
            data={"check": check.pk, "verdict": check.verdict, "category": category},
        )
        if failed:
            reason = hooks.REASON_UNAVAILABLE if temporary else hooks.REASON_FAILED
            hooks.announce(hooks.ConnectionEvent(connection, hooks.FAILED, reason=reason))
        elif was_down:
            hooks.announce(hooks.ConnectionEvent(connection, hooks.BACK_ONLINE, reason="online"))
        _notify_if_unwatched(
            connection_id=connection.pk,
            trigger=check.trigger,
            newly_failed=newly_failed,
            held=temporary and open_incident(connection.exchange) is not None,
        )
    return True


def _claim_key(*, connection: Connection) -> bool:
    """A passing test claims the connection's key; False when another connection holds it.

    One key, one connection (docs/security.md): among connections whose key passed a test a
    fingerprint is unique (constraint `connection_verified_key_unique`). The first to pass
    keeps the key. Other connections with the key that never passed a test are left as they
    are: telling them would tell whoever registered a key string alone (without its secret)
    that its owner connected it here. They find out at their own passing test, which fails
    with "Key already connected" (reached only with the key's secret). Called with
    `connection` locked, inside the result's transaction.
    """
    if connection.key_verified:
        return True
    held_elsewhere = Exists(
        Connection.objects.filter(
            key_fingerprint=connection.key_fingerprint, key_verified=True
        ).exclude(pk=connection.pk)
    )
    try:
        with transaction.atomic():
            # One statement: claimed unless another connection holds the key already.
            claimed = (
                Connection.objects.filter(pk=connection.pk)
                .filter(~held_elsewhere)
                .update(key_verified=True)
            )
    except IntegrityError:
        # Another connection's test passed at the same moment and committed first: the unique
        # index made this update wait for it, then refused.
        return False
    if not claimed:
        return False
    connection.key_verified = True
    return True


def _key_in_use(report: CheckReport) -> CheckReport:
    """The exchange accepted the key, but it belongs to another connection here."""
    report.verdict = VERDICT_FAILED
    report.category = Category.KEY_IN_USE
    report.message = ""
    return report


def notify_connection_failed(*, connection_id: int) -> None:
    """Email the owner once per transition to failed, in their language."""
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation

    from connections import presenters

    connection = Connection.objects.select_related("owner").get(pk=connection_id)
    owner = connection.owner
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        context = {
            "connection": connection,
            "problem": presenters.problem(connection.problem_category),
            "interrupted": connection.problem_message == "interrupted",
            "url": settings.SITE_URL.rstrip("/")
            + reverse("connections:detail", args=[connection.pk]),
            "paused": connection.strategies.filter(
                pause_reason__in=[hooks.REASON_FAILED, hooks.REASON_UNAVAILABLE], status="paused"
            ).count(),
            "temporary": is_temporary(connection.problem_category),
        }
        subject = _("Connection “%(name)s” failed its test") % {"name": connection.name}
        body = render_to_string("connections/email/connection_failed.txt", context)
    # Sent by a worker with retries (backfuture/mail.py): a mail outage cannot undo the result.
    mail_send(subject=subject, body=body, to=[owner.email])


def connections_reap_stale_tests(*, now=None) -> int:
    """Fail tests whose worker died: nothing stays `testing` past its check's deadline.

    Such a test fails as every failure does (strategies paused, the owner emailed when they did
    not start it), and its task, should the broker redeliver it later, finds the check
    finished and does nothing.
    """
    now = now or timezone.now()
    # Checks from before deadlines were stored get the longest a test may take.
    legacy_cutoff = now - timedelta(
        seconds=max_test_duration()
        + settings.CONNECTION_TEST_QUEUE_WAIT
        + settings.CONNECTION_TEST_REAP_GRACE
    )
    stuck = Connection.objects.filter(status=ConnectionStatus.TESTING).filter(
        Q(current_check__deadline__lte=now)
        | Q(current_check__deadline__isnull=True, testing_since__lt=legacy_cutoff)
    )
    reaped = sum(_reap(connection_id=pk, now=now) for pk in stuck.values_list("pk", flat=True))
    if reaped:
        logger.warning("reaped %s connection tests whose worker died", reaped)
    return reaped


def _reap(*, connection_id: int, now) -> bool:
    """Fail one connection's test in flight as interrupted, if it is still past its deadline."""
    from connections import audit

    check_id = (
        Connection.objects.filter(pk=connection_id)
        .values_list("current_check_id", flat=True)
        .first()
    )
    with transaction.atomic():
        # Check, then connection: the order connection_record_report locks them in.
        check = ConnectionCheck.objects.select_for_update().filter(pk=check_id).first()
        connection = Connection.objects.select_for_update().filter(pk=connection_id).first()
        if (
            check is None
            or connection is None
            or connection.status != ConnectionStatus.TESTING
            or connection.current_check_id != check.pk
            or (check.deadline is not None and check.deadline > now)
        ):
            return False
        finished_at = timezone.now()
        check.state = CheckState.FINISHED
        check.verdict = "failed"
        check.message = "interrupted"
        check.next_attempt_at = None
        check.finished_at = finished_at
        check.save(update_fields=["state", "verdict", "message", "next_attempt_at", "finished_at"])
        newly_failed = connection.failing_since is None
        connection.status = ConnectionStatus.FAILED
        connection.problem_category = ""
        connection.problem_message = "interrupted"
        connection.testing_since = None
        connection.last_tested_at = finished_at
        connection.failing_since = connection.failing_since or finished_at
        connection.save()
        audit.record(
            connection,
            "test_finished",
            data={"check": check.pk, "verdict": "failed", "interrupted": True},
        )
        hooks.announce(hooks.ConnectionEvent(connection, hooks.FAILED, reason="connection_failed"))
        _notify_if_unwatched(
            connection_id=connection.pk, trigger=check.trigger, newly_failed=newly_failed
        )
    return True


# A key replaced after the scheduler listed its connection is untested: its owner runs the
# first test of the new key.
_RECHECKED_STATUSES = frozenset({ConnectionStatus.ONLINE, ConnectionStatus.FAILED})


def connections_schedule_rechecks(*, now=None) -> int:
    """Re-test online connections whose last test is older than the re-check interval.

    Each exchange gets at most its re-check rate (connections/throttle.recheck_rate) over one
    scheduling period (the rest wait for the next run), and start times are spread at that
    rate with jitter so a fleet never hits an exchange at once.
    """
    import time

    from connections import throttle

    started = time.monotonic()
    now = now or timezone.now()
    period = settings.CONNECTION_RECHECK_SCHEDULE_PERIOD
    due_before = now - timedelta(seconds=settings.CONNECTION_RECHECK_INTERVAL)
    incidents = connections_update_incidents(now=now)
    planned: list[tuple[float, int]] = []
    probing: dict[int, int] = {}  # connection id → the incident its re-check probes
    probes: dict[int, int] = {}
    # Tests still queued or running per exchange (an earlier run's, or people's): they take
    # this period's slots too, so a worker that fell behind is not handed another period's
    # worth on top. The tasks waiting (ETA/countdown tasks, which the worker holds in memory
    # and Redis in its unacked set) thus stay at most rate x period per exchange, whatever
    # the size of the fleet (docs/performance.md, "ETA tasks").
    in_flight = dict(
        Connection.objects.filter(status=ConnectionStatus.TESTING)
        .values_list("exchange")
        .annotate(n=Count("pk"))
        .values_list("exchange", "n")
    )
    for spec in registry.all_specs(include_demo=True):
        # The re-checks' share of what the IP-scoped limits allow all our workers together
        # (UID-scoped limits are per account, and a test calls each endpoint once).
        per_second = throttle.recheck_rate(spec)
        budget = max(1, int(per_second * period)) - in_flight.get(spec.slug, 0)
        # Online and due, or waiting out a backoff after the exchange did not answer (Online
        # within the grace period, or failed for a temporary reason).
        due = (
            Connection.objects.filter(exchange=spec.slug)
            .filter(
                Q(
                    status=ConnectionStatus.ONLINE,
                    next_recheck_at__isnull=True,
                    last_tested_at__lt=due_before,
                )
                | Q(
                    status__in=[ConnectionStatus.ONLINE, ConnectionStatus.FAILED],
                    next_recheck_at__lte=now,
                )
            )
            .order_by(Coalesce("next_recheck_at", "last_tested_at"), "pk")
        )
        incident = incidents.get(spec.slug)
        if incident is not None:
            # The exchange is not answering: a few probes every run instead of the fleet,
            # whatever each connection's backoff (a probe asks about the exchange, not the
            # key), the longest unchecked first. The others are re-checked at the normal pace
            # once it has ended.
            budget = min(budget, settings.EXCHANGE_INCIDENT_PROBES)
            due = (
                Connection.objects.filter(exchange=spec.slug, demo=False)
                .filter(
                    Q(status=ConnectionStatus.ONLINE)
                    | Q(status=ConnectionStatus.FAILED, next_recheck_at__isnull=False)
                )
                .order_by(Coalesce("next_recheck_at", "last_tested_at"), "pk")
            )
        # One slot per test at the allowed rate, with jitter within the slot: a short list is
        # done sooner instead of being stretched over the period.
        slot = 1 / per_second
        pks = list(due.values_list("pk", flat=True)[: max(0, budget)])
        planned += [(index * slot + random.uniform(0, slot), pk) for index, pk in enumerate(pks)]
        if incident is not None:
            probing.update(dict.fromkeys(pks, incident.pk))
    # Created in the order they start, every exchange's first tests at once, a batch per
    # transaction; slots count from the start of this run, so the time spent creating
    # thousands of checks does not slow the pace. The throttle enforces the rate; this only
    # keeps tasks from queueing at it.
    planned.sort()
    scheduled = 0
    batch = settings.CONNECTION_RECHECK_BATCH
    for first in range(0, len(planned), batch):
        checks = _request_rechecks(planned[first : first + batch], started=started)
        scheduled += len(checks)
        for check in checks:
            incident_id = probing.get(check.connection_id)
            if incident_id is not None:
                probes[incident_id] = probes.get(incident_id, 0) + 1
    from connections.models import ExchangeIncident

    for incident_id, count in probes.items():
        ExchangeIncident.objects.filter(pk=incident_id).update(probes=F("probes") + count)
    return scheduled


def _request_rechecks(planned: list[tuple[float, int]], *, started: float) -> list[ConnectionCheck]:
    """`_start_checks` for a batch of scheduled re-checks in one transaction: (seconds after
    `started` the test may start, connection id) in, the checks published out.

    One test per connection and per transaction costs a commit and a dozen round trips each,
    which caps the scheduler at a few dozen tests a second, below what all exchanges together
    allow (docs/performance.md, fleet benchmark). Connections no longer in a status that is
    re-checked (read again under the lock: a key replaced, a test started since) are left out.
    Each countdown is what is left of its slot when it is published.
    """
    import time

    now = timezone.now()
    planned_at = dict((pk, at) for at, pk in planned)

    def lock() -> list[Connection]:
        locked = list(
            Connection.objects.select_for_update()
            .filter(pk__in=planned_at, status__in=_RECHECKED_STATUSES)
            .only("pk", "owner_id", "name", "status")
            .order_by("pk")
        )
        locked.sort(key=lambda c: planned_at[c.pk])
        return locked

    return _start_checks(
        lock,
        trigger=CheckTrigger.SCHEDULE,
        now=now,
        start_in=lambda c: max(0.0, planned_at[c.pk] - (time.monotonic() - started)),
    )


# --- Exchange-wide incidents (docs/architecture.md, "Outages and key expiry") ----------------


def connections_update_incidents(*, now=None) -> dict:
    """Open, escalate and end exchange incidents from the recent checks; the open ones by slug.

    Run by the re-check scheduler before it plans (so a new incident slows re-checks at once).
    An exchange is in an incident when, among its connections whose latest check finished in
    the last EXCHANGE_INCIDENT_WINDOW seconds, at least EXCHANGE_INCIDENT_MIN_CONNECTIONS and at
    least EXCHANGE_INCIDENT_FAILURE_SHARE of them could not reach it. It ends when its latest
    EXCHANGE_INCIDENT_END_PASSES checks were answered (a pass, or a permanent failure: the
    exchange answered). Demo connections (other hosts) never count.
    """
    from connections.models import ExchangeIncident

    now = now or timezone.now()
    open_ones = {i.exchange: i for i in ExchangeIncident.objects.filter(ended_at__isnull=True)}
    result = {}
    for spec in registry.all_specs(include_demo=False):
        incident = open_ones.get(spec.slug)
        if incident is None:
            incident = _incident_open_if_due(exchange=spec.slug, now=now)
            if incident is None:
                continue
        elif _incident_answered_again(incident=incident):
            _incident_end(incident=incident, now=now)
            continue
        if incident.escalated_at is None and now - incident.started_at >= timedelta(
            seconds=settings.CONNECTION_OUTAGE_GRACE
        ):
            incident_escalate(incident=incident, now=now)
        result[spec.slug] = incident
    incidents_publish()
    return result


def incidents_publish() -> None:
    """Put the open incidents where every page's banner reads them (the cache, for three
    scheduler periods: each run publishes again, so a lost key comes back within one)."""
    from connections import selectors
    from connections.models import ExchangeIncident

    rows = [
        [i.pk, i.exchange, i.started_at.isoformat(), i.escalated_at is not None]
        for i in ExchangeIncident.objects.filter(ended_at__isnull=True).order_by("pk")
    ]
    try:
        cache.set(
            selectors.INCIDENTS_CACHE_KEY, rows, 3 * settings.CONNECTION_RECHECK_SCHEDULE_PERIOD
        )
    except CacheUnavailable:
        logger.warning("exchange incident banner not published: the cache is unavailable")


def _finished_checks(exchange: str):
    return ConnectionCheck.objects.filter(
        connection__exchange=exchange,
        connection__demo=False,
        state=CheckState.FINISHED,
        verdict__in=["online", "failed"],
    )


def _incident_open_if_due(*, exchange: str, now):
    from connections.models import ExchangeIncident, IncidentEvent

    since = now - timedelta(seconds=settings.EXCHANGE_INCIDENT_WINDOW)
    rows = (
        _finished_checks(exchange)
        .filter(finished_at__gte=since)
        .order_by("finished_at", "pk")
        .values_list("connection_id", "finished_at", "category")
    )
    latest: dict[int, str] = {}
    first_failure = None
    for connection_id, finished_at, category in rows:
        latest[connection_id] = category
        if is_temporary(category) and first_failure is None:
            first_failure = finished_at
    failing = sum(1 for category in latest.values() if is_temporary(category))
    if (
        failing < settings.EXCHANGE_INCIDENT_MIN_CONNECTIONS
        or failing < settings.EXCHANGE_INCIDENT_FAILURE_SHARE * len(latest)
    ):
        return None
    try:
        with transaction.atomic():
            incident = ExchangeIncident.objects.create(
                exchange=exchange, started_at=first_failure, detected_at=now
            )
            IncidentEvent.objects.create(
                incident=incident,
                at=now,
                kind="opened",
                detail={"failing": failing, "checked": len(latest)},
            )
    except IntegrityError:  # another scheduler run opened it first
        return open_incident(exchange)
    incidents_publish()
    logger.warning(
        "exchange incident: %s of %s %s connections checked recently could not reach it",
        failing,
        len(latest),
        exchange,
    )
    return incident


def _incident_answered_again(*, incident) -> bool:
    needed = settings.EXCHANGE_INCIDENT_END_PASSES
    latest = list(
        _finished_checks(incident.exchange)
        .filter(finished_at__gte=incident.detected_at)
        .order_by("-finished_at", "-pk")
        .values_list("category", flat=True)[:needed]
    )
    return len(latest) == needed and not any(is_temporary(c) for c in latest)


def _incident_end(*, incident, now) -> None:
    from connections.models import ExchangeIncident, IncidentEvent

    with transaction.atomic():
        # Every connection still waiting for a re-check (held during the incident) is due now;
        # the scheduler takes them at the exchange's normal re-check pace.
        held = Connection.objects.filter(
            exchange=incident.exchange, demo=False, next_recheck_at__gt=now
        ).update(next_recheck_at=now)
        ended = ExchangeIncident.objects.filter(pk=incident.pk, ended_at__isnull=True).update(
            ended_at=now
        )
        if ended:
            IncidentEvent.objects.create(
                incident=incident, at=now, kind="ended", detail={"probes": incident.probes}
            )
    incident.ended_at = now
    incidents_publish()
    logger.warning("exchange incident on %s ended; %s connections due now", incident.exchange, held)


def incident_escalate(*, incident, now=None) -> int:
    """The incident lasted past the grace period: its Online connections fail (their strategies
    pause with the reason `exchange_unavailable`), and each owner of a connection failing for a
    temporary reason gets one email about it. Returns how many connections failed.

    Each connection is locked and re-read on its own, in id order, so a test result or a key
    replacement written meanwhile is never overwritten: a connection no longer Online is left
    as it is.
    """
    from connections import audit
    from connections.models import ExchangeIncident, IncidentEvent, IncidentNotice

    now = now or timezone.now()
    affected = Connection.objects.filter(
        exchange=incident.exchange, demo=False, status=ConnectionStatus.ONLINE
    ).order_by("pk")
    failed = 0
    for pk in list(affected.values_list("pk", flat=True)):
        with transaction.atomic():
            connection = Connection.objects.select_for_update().filter(pk=pk).first()
            if connection is None or connection.status != ConnectionStatus.ONLINE:
                continue
            connection.status = ConnectionStatus.FAILED
            connection.problem_category = Category.EXCHANGE_UNAVAILABLE
            connection.problem_message = ""
            connection.failing_since = connection.unreachable_since or incident.started_at
            connection.unreachable_since = None
            connection.unreachable_checks = min(
                connection.unreachable_checks + 1, UNREACHABLE_COUNT_MAX
            )
            # Due again as soon as the incident ends (probes decide when).
            connection.next_recheck_at = now
            connection.save(
                update_fields=[
                    "status",
                    "problem_category",
                    "problem_message",
                    "failing_since",
                    "unreachable_since",
                    "unreachable_checks",
                    "next_recheck_at",
                    "updated_at",
                ]
            )
            audit.record(connection, "exchange_outage", data={"incident": incident.pk})
            hooks.announce(
                hooks.ConnectionEvent(connection, hooks.FAILED, reason=hooks.REASON_UNAVAILABLE)
            )
            failed += 1
    owners = set(
        Connection.objects.filter(
            exchange=incident.exchange,
            demo=False,
            status=ConnectionStatus.FAILED,
            problem_category__in=TEMPORARY_CATEGORIES,
        ).values_list("owner_id", flat=True)
    )
    notified = 0
    for owner_id in sorted(owners):
        with transaction.atomic():
            _notice, created = IncidentNotice.objects.get_or_create(
                incident=incident, user_id=owner_id, defaults={"sent_at": now}
            )
            if created:
                notify_incident(incident=incident, user_id=owner_id)
                notified += 1
    with transaction.atomic():
        ExchangeIncident.objects.filter(pk=incident.pk).update(
            escalated_at=now,
            connections_failed=F("connections_failed") + failed,
            users_notified=F("users_notified") + notified,
        )
        IncidentEvent.objects.create(
            incident=incident,
            at=now,
            kind="escalated",
            detail={"connections_failed": failed, "users_notified": notified},
        )
    incident.escalated_at = now
    incidents_publish()
    return failed


def notify_incident(*, incident, user_id: int) -> None:
    """The one email a user gets about an incident, in their language: which of their
    connections and strategies it stopped, and that we resume what may resume by itself."""
    from django.contrib.auth import get_user_model
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation

    from backfuture.display import when
    from connections import presenters

    user = get_user_model().objects.get(pk=user_id)
    connections = list(
        Connection.objects.filter(
            owner_id=user_id,
            exchange=incident.exchange,
            demo=False,
            status=ConnectionStatus.FAILED,
            problem_category__in=TEMPORARY_CATEGORIES,
        ).order_by("name")
    )
    with translation.override(user.language or settings.LANGUAGE_CODE):
        exchange = presenters.exchange_label(incident.exchange)
        context = {
            "exchange": exchange,
            "since": when(incident.started_at),
            "connections": connections,
            "paused": sum(
                c.strategies.filter(pause_reason=hooks.REASON_UNAVAILABLE, status="paused").count()
                for c in connections
            ),
            "url": settings.SITE_URL.rstrip("/") + reverse("home"),
        }
        subject = _("%(exchange)s is not answering") % {"exchange": exchange}
        body = render_to_string("connections/email/exchange_incident.txt", context)
    mail_send(subject=subject, body=body, to=[user.email])


# --- Keys that expire -----------------------------------------------------------------------


def connections_key_expiry(*, now=None) -> int:
    """Remind owners of keys that expire soon (14, 3 and 1 days before) and, on the expiry day,
    pause the key's strategies with the reason "key expired". Returns the reminders sent.

    Idempotent: a reminder is recorded once per key expiry and kind (a unique constraint),
    each connection is locked and its expiry re-read before anything is sent, so a key
    replaced meanwhile (its expiry cleared or moved) is judged by its new value.
    """
    from connections import expiry

    now = now or timezone.now()
    horizon = now + timedelta(days=max(expiry.REMINDER_DAYS))
    candidates = (
        Connection.objects.filter(key_expires_at__isnull=False, key_expires_at__lte=horizon)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(connection_key_expiry(connection_id=pk, now=now) for pk in list(candidates))


def connection_key_expiry(*, connection_id: int, now=None) -> bool:
    """The one reminder due for one connection's key, if not sent yet. True if one was sent."""
    from connections import audit, expiry
    from connections.models import KeyExpiryReminder

    now = now or timezone.now()
    with transaction.atomic():
        connection = Connection.objects.select_for_update().filter(pk=connection_id).first()
        if connection is None or connection.key_expires_at is None:
            return False
        expires_at = connection.key_expires_at
        days_before = expiry.reminder_due(expires_at, now)
        if days_before is None:
            return False
        if KeyExpiryReminder.objects.filter(
            connection=connection, expires_at=expires_at, days_before=days_before
        ).exists():
            return False
        try:
            with transaction.atomic():
                KeyExpiryReminder.objects.create(
                    connection=connection,
                    expires_at=expires_at,
                    days_before=days_before,
                    sent_at=now,
                )
        except IntegrityError:
            return False
        paused = 0
        if days_before == expiry.EXPIRY_DAY:
            paused = hooks.announce(
                hooks.ConnectionEvent(
                    connection, hooks.KEY_EXPIRED, reason=hooks.REASON_KEY_EXPIRED
                )
            )
        else:
            hooks.announce(
                hooks.ConnectionEvent(connection, hooks.KEY_EXPIRING, reason="key_expiring")
            )
        audit.record(
            connection,
            "key_expiry_reminder",
            data={"days_before": days_before, "expires_at": expires_at.isoformat()},
        )
        notify_key_expiry(connection=connection, days_before=days_before, paused=paused)
    return True


def notify_key_expiry(*, connection: Connection, days_before: int, paused: int) -> None:
    """The reminder email, in the owner's language, with what to do."""
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import ngettext

    from backfuture.display import when
    from connections import expiry, presenters

    owner = connection.owner
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        context = {
            "connection": connection,
            "exchange": presenters.exchange_label(connection.exchange),
            "expires": when(connection.key_expires_at),
            "days": days_before,
            "paused": paused,
            # A key that expires only because it has no IP binding can be kept by binding it.
            "bind_ip": connection.exchange in expiry.UNBOUND_KEY_DAYS
            and connection.ip_restricted is not True,
            "egress_ips": ", ".join(settings.EXCHANGE_EGRESS_IPS),
            "replace_url": settings.SITE_URL.rstrip("/")
            + reverse("connections:replace_key", args=[connection.pk]),
        }
        if days_before == 0:
            subject = _("The API key of “%(name)s” expires today") % {"name": connection.name}
        else:
            subject = ngettext(
                "The API key of “%(name)s” expires in %(days)s day",
                "The API key of “%(name)s” expires in %(days)s days",
                days_before,
            ) % {"name": connection.name, "days": days_before}
        body = render_to_string("connections/email/key_expiry.txt", context)
    mail_send(subject=subject, body=body, to=[owner.email])
