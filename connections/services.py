"""Writes and state transitions of connections. The only place that changes them."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

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


def _enqueue_check(check_id: int, *, countdown: float | None = None) -> None:
    from connections.tasks import connection_check

    # Bounded publish retries: with the broker down the user hears about it in seconds
    # instead of the request hanging on kombu's default retry policy.
    options: dict = {
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
) -> ConnectionCheck:
    """Start a test: lock the row, mark it `testing`, record the check, enqueue on commit.

    Only the check id goes through the broker. A test already in flight is not started twice;
    tests a person asks for have a short per-connection cooldown so nobody hammers the
    exchange.
    """
    from connections import audit

    now = timezone.now()
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        if locked.status == ConnectionStatus.TESTING:
            raise CheckNotStarted("in_flight")
        if trigger != CheckTrigger.SCHEDULE:
            last = locked.checks.order_by("-created_at").values_list("created_at", flat=True)
            last_at = last.first()
            cooldown = timedelta(seconds=settings.CONNECTION_TEST_COOLDOWN)
            if last_at and now - last_at < cooldown:
                wait = int((cooldown - (now - last_at)).total_seconds()) + 1
                raise CheckNotStarted("cooldown", retry_in=wait)
        previous_status = locked.status
        check = ConnectionCheck.objects.create(
            connection=locked,
            trigger=trigger,
            requested_by=requested_by,
            deadline=check_deadline(now, waiting_for=countdown or 0.0),
        )
        locked.status = ConnectionStatus.TESTING
        locked.current_check = check
        locked.testing_since = now
        locked.save(update_fields=["status", "current_check", "testing_since", "updated_at"])
        audit.record(
            locked,
            "test_requested",
            actor=requested_by,
            data={"trigger": trigger, "check": check.pk},
        )

        def enqueue_on_commit() -> None:
            try:
                _enqueue_check(check.pk, countdown=countdown)
            except SoftTimeLimitExceeded:
                # The calling task (the re-check scheduler) ran out of time, the queue is
                # fine: undo this one request (it may not have been published) and let the
                # task stop, instead of carrying on as if the queue were down.
                _undo_check_request(check_id=check.pk, previous_status=previous_status)
                raise
            except Exception:
                logger.exception("could not enqueue connection test %s", check.pk)
                _undo_check_request(check_id=check.pk, previous_status=previous_status)
                raise CheckNotStarted("queue_down") from None

        if enqueue:
            transaction.on_commit(enqueue_on_commit)
    return check


def _undo_check_request(*, check_id: int, previous_status: str) -> None:
    """The broker refused the task: put the connection back as it was, keep the check row."""
    with transaction.atomic():
        Connection.objects.filter(
            current_check_id=check_id, status=ConnectionStatus.TESTING
        ).update(status=previous_status, testing_since=None, updated_at=timezone.now())
        ConnectionCheck.objects.filter(pk=check_id).update(
            state=CheckState.FINISHED, message="queue_unavailable", finished_at=timezone.now()
        )


def connection_start_check(*, check_id: int) -> Credentials | None:
    """Worker side: mark the check running and hand back decrypted credentials.

    Returns None when the check is stale (superseded by a newer test or a key replacement,
    or already finished): the worker then does nothing.
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
    connection = (
        Connection.objects.only("api_key", "api_secret", "passphrase")
        .filter(current_check_id=check_id)
        .first()
    )
    if connection is None:  # the key was replaced between the two statements
        ConnectionCheck.objects.filter(pk=check_id).update(
            state=CheckState.SUPERSEDED, finished_at=now
        )
        return None
    return Credentials(
        api_key=reveal(connection.api_key) or "",
        api_secret=reveal(connection.api_secret) or "",
        passphrase=reveal(connection.passphrase) or "",
    )


def connection_run_check(*, check_id: int, max_wait: float | None = None) -> str:
    """Run the exchange client for a check and record its report.

    Returns "stale" or the verdict. Temporary exchange errors propagate so the task can retry.
    The test first takes a slot in its exchange's shared request budget (connections/throttle):
    `throttle.Throttled` propagates when that is more than `max_wait` seconds away (None:
    wait for it), so a worker can put the test back in the queue instead of blocking.
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
    throttle.acquire(
        connection.exchange, recheck=check.trigger == CheckTrigger.SCHEDULE, max_wait=max_wait
    )
    credentials = connection_start_check(check_id=check_id)
    if credentials is None:  # superseded, finished, or the connection was deleted
        return "stale"
    client = registry.build_client(
        connection.exchange,
        settings.EXCHANGE_URLS,
        connect_timeout=settings.EXCHANGE_CONNECT_TIMEOUT,
        read_timeout=settings.EXCHANGE_READ_TIMEOUT,
        budget=settings.EXCHANGE_TEST_BUDGET,
        demo=connection.demo,
    )
    try:
        # The clients scrub what exchanges echo; this holds for every client, present or
        # future: no credential reaches a stored report or a retried error.
        report = scrub_report(
            client.run_checks(credentials, ExchangeMarket(connection.market)), credentials
        )
    except ExchangeError as error:
        raise error.scrub(credentials) from None
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


def _notify_if_unwatched(*, connection_id: int, trigger: str, newly_failed: bool) -> None:
    """Email the owner, once per transition to failed, unless they started this test
    themselves: they are watching it on the page (issue 19). Re-checks, and tests started by
    support or operations, are emailed, also when the reaper fails them."""
    if newly_failed and trigger != CheckTrigger.USER:
        transaction.on_commit(lambda: notify_connection_failed(connection_id=connection_id))


def connection_record_report(*, check_id: int, report: CheckReport) -> bool:
    """Write a test's result, guarded by the check id. Returns False for a stale result.

    A stale or duplicate run (a newer test started, the key was replaced, the reaper already
    closed it, or the same task ran twice) can never overwrite a newer result.
    """
    from connections import audit

    now = timezone.now()
    with transaction.atomic():
        check = ConnectionCheck.objects.select_for_update().filter(pk=check_id).first()
        if check is None:  # the connection (and its checks) was deleted meanwhile
            return False
        connection = Connection.objects.select_for_update().get(pk=check.connection_id)
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

        newly_failed = failed and connection.failing_since is None
        connection.status = ConnectionStatus.FAILED if failed else ConnectionStatus.ONLINE
        connection.problem_category = category
        connection.problem_message = report.message if failed else ""
        connection.reported_ip = report.reported_ip if failed else None
        connection.permissions = list(report.permissions)
        connection.ip_restricted = report.ip_restricted
        connection.key_expires_at = report.key_expires_at
        connection.clock_skew_ms = report.clock_skew_ms
        connection.last_report = data
        connection.last_tested_at = now
        connection.testing_since = None
        if failed:
            connection.failing_since = connection.failing_since or now
        else:
            connection.failing_since = None
            connection.last_online_at = now
        connection.save()
        audit.record(
            connection,
            "test_finished",
            actor=None,
            data={"check": check.pk, "verdict": check.verdict, "category": category},
        )
        if failed:
            hooks.announce(
                hooks.ConnectionEvent(connection, hooks.FAILED, reason="connection_failed")
            )
        _notify_if_unwatched(
            connection_id=connection.pk, trigger=check.trigger, newly_failed=newly_failed
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
    held_elsewhere = (
        Connection.objects.filter(key_fingerprint=connection.key_fingerprint, key_verified=True)
        .exclude(pk=connection.pk)
        .exists()
    )
    if held_elsewhere:
        return False
    try:
        with transaction.atomic():
            Connection.objects.filter(pk=connection.pk).update(key_verified=True)
    except IntegrityError:
        # Another connection's test passed at the same moment and committed first: the unique
        # index made this update wait for it, then refused.
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
            "paused": connection.strategies.filter(pause_reason="connection_failed").count(),
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
    planned: list[tuple[float, int]] = []
    for spec in registry.all_specs(include_demo=True):
        # The re-checks' share of what the IP-scoped limits allow all our workers together
        # (UID-scoped limits are per account, and a test calls each endpoint once).
        per_second = throttle.recheck_rate(spec)
        budget = max(1, int(per_second * period))
        due = Connection.objects.filter(
            exchange=spec.slug, status=ConnectionStatus.ONLINE, last_tested_at__lt=due_before
        ).order_by("last_tested_at")
        # One slot per test at the allowed rate, with jitter within the slot: a short list is
        # done sooner instead of being stretched over the period.
        slot = 1 / per_second
        planned += [
            (index * slot + random.uniform(0, slot), pk)
            for index, pk in enumerate(due.values_list("pk", flat=True)[:budget])
        ]
    # Created in the order they start, every exchange's first tests at once; slots count
    # from the start of this run, so the time spent creating thousands of checks does not
    # slow the pace. The throttle enforces the rate; this only keeps tasks from queueing at it.
    planned.sort()
    scheduled = 0
    for at, pk in planned:
        countdown = max(0.0, at - (time.monotonic() - started))
        try:
            connection_request_check(
                connection=Connection(pk=pk), trigger=CheckTrigger.SCHEDULE, countdown=countdown
            )
        except CheckNotStarted:
            continue
        scheduled += 1
    return scheduled
