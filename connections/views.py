from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from connections import guides, presenters, selectors, services
from connections.exchanges import registry
from connections.forms import ConnectionCreateForm, RenameForm, ReplaceKeyForm

SECRET_FIELDS = ("api_key", "api_secret", "passphrase")
# An invalid form answers 422 with the form re-rendered; base.html configures htmx to swap it.
INVALID = 422


def _available_specs() -> list[registry.ExchangeSpec]:
    return registry.all_specs(include_demo=settings.DEMO_EXCHANGE_ENABLED)


def _spec_or_none(slug: str | None) -> registry.ExchangeSpec | None:
    return next((spec for spec in _available_specs() if spec.slug == slug), None)


def _guide_context(spec: registry.ExchangeSpec | None) -> dict:
    # A paper account has no exchange website, permissions or IP list: its guide says only
    # what applies to it.
    if spec is not None and spec.is_demo:
        return {
            "steps": guides.DEMO_STEPS,
            "name_suggestions": guides.name_suggestions(spec.slug, spec.label),
        }
    guide = guides.guide_for(spec.slug) if spec else None
    return {
        "steps": guides.GENERAL_STEPS,
        "permissions": guides.PERMISSIONS,
        "hints": guide.hints if guide else [],
        "api_management_url": guide.api_management_url if guide else "",
        "name_suggestions": guides.name_suggestions(spec.slug, spec.label) if spec else [],
        "egress_ips": settings.EXCHANGE_EGRESS_IPS,
    }


def _redirect(request: HttpRequest, name: str, **kwargs) -> HttpResponse:
    """Where a successful submission lands, once. htmx would follow a plain redirect inside the
    XHR and swap the next page into the form's target (a page inside the page), so an htmx
    request gets HX-Redirect and the browser loads the page itself; otherwise a 303 See Other,
    so reloading the result never re-submits."""
    url = reverse(name, kwargs=kwargs)
    if request.htmx:
        return HttpResponseClientRedirect(url)
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _apply_service_error(form, error: ValidationError) -> None:
    field = "name" if error.code == "duplicate_name" and "name" in form.fields else "api_key"
    form.add_error(field, error)


@login_required
@require_GET
def connection_list(request: HttpRequest) -> HttpResponse:
    context = {"connections": selectors.connection_list(user=request.user)}
    template = "connections/list.html"
    if request.htmx:
        template += "#connection-table"
    return render(request, template, context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters(*SECRET_FIELDS)
@sensitive_variables("data", "form")
def connection_new(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("exchange") or request.GET.get("exchange")
    spec = _spec_or_none(slug)
    if spec is None:
        if request.method == "POST":
            messages.error(request, _("Choose an exchange first."))
        context = {
            "cards": presenters.exchange_cards(_available_specs()),
            **_guide_context(None),
        }
        return render(request, "connections/new_pick.html", context, status=400 if slug else 200)

    form = ConnectionCreateForm(request.POST or None, spec=spec)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            connection = services.connection_create(
                owner=request.user,
                name=data["name"],
                exchange=spec.slug,
                market=data["market"],
                api_key=data["api_key"],
                api_secret=data["api_secret"],
                passphrase=data.get("passphrase", ""),
                withdrawal_off_confirmed=data.get("withdrawal_off_confirmed", False),
                demo=data.get("demo", False),
            )
        except ValidationError as error:
            _apply_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Connection saved. Its secrets are encrypted and will not be shown again. "
                    "Run the connection test next."
                ),
            )
            return _redirect(request, "connections:detail", pk=connection.pk)
    context = {
        "form": form,
        "spec": spec,
        "exchange_label": presenters.exchange_label(spec.slug),
        **_guide_context(spec),
    }
    template = "connections/new.html"
    if request.htmx and not request.htmx.boosted:
        template += "#connection-form"
    status = INVALID if request.method == "POST" else 200
    return render(request, template, context, status=status)


def _live_status_context(connection) -> dict:
    """What the status badge shows while a test runs: its attempt, when it retries."""
    return {
        "current_check": selectors.connection_current_check(connection=connection),
        "test_attempts": settings.CONNECTION_TEST_RETRIES + 1,
    }


def _detail_context(request: HttpRequest, connection) -> dict:
    return {
        **_live_status_context(connection),
        "connection": connection,
        "exchange_label": presenters.exchange_label(connection.exchange, demo=connection.demo),
        "rows": presenters.report_rows(connection.last_report),
        "problem": presenters.problem(connection.problem_category),
        "egress_ips": settings.EXCHANGE_EGRESS_IPS,
        "unbound_key_expiry": presenters.unbound_key_expiry(connection),
        "checks": selectors.connection_checks(connection=connection),
        "events": selectors.audit_events_for(user=request.user, connection_id=connection.pk),
        "strategies": connection.strategies.all(),
        "rename_form": RenameForm(initial={"name": connection.name}),
        "report_is_previous_key": presenters.report_is_for_previous_key(connection),
    }


@login_required
@require_GET
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connection = selectors.connection_get(user=request.user, pk=pk)
    template = "connections/detail.html"
    if request.htmx and not request.htmx.boosted:
        template += "#connection-body"
    return render(request, template, _detail_context(request, connection))


@login_required
@require_POST
def connection_rename(request: HttpRequest, pk: int) -> HttpResponse:
    connection = selectors.connection_get(user=request.user, pk=pk)
    form = RenameForm(request.POST)
    if form.is_valid():
        try:
            services.connection_rename(
                connection=connection, name=form.cleaned_data["name"], actor=request.user
            )
        except ValidationError as error:
            form.add_error("name", error)
    if form.errors:
        context = {**_detail_context(request, connection), "rename_form": form}
        template = "connections/detail.html"
        if request.htmx:
            template += "#rename-form"
        return render(request, template, context, status=INVALID)
    messages.success(request, _("Connection renamed."))
    # The name is in the heading, the title, the dashboard and the lists: reload the page.
    return _redirect(request, "connections:detail", pk=connection.pk)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters(*SECRET_FIELDS)
@sensitive_variables("data", "form")
def connection_replace_key(request: HttpRequest, pk: int) -> HttpResponse:
    connection = selectors.connection_get(user=request.user, pk=pk)
    try:
        spec = registry.get(connection.exchange)
    except registry.UnknownExchange:
        raise Http404 from None
    form = ReplaceKeyForm(request.POST or None, spec=spec)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.connection_replace_key(
                connection=connection,
                api_key=data["api_key"],
                api_secret=data["api_secret"],
                passphrase=data.get("passphrase", ""),
                withdrawal_off_confirmed=data.get("withdrawal_off_confirmed", False),
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error("api_key", error)
        else:
            messages.success(
                request,
                _(
                    "Key replaced. The connection is untested and its strategies are paused until "
                    "a new test passes."
                ),
            )
            return _redirect(request, "connections:detail", pk=connection.pk)
    context = {
        "connection": connection,
        "form": form,
        "spec": spec,
        "exchange_label": presenters.exchange_label(spec.slug),
        **_guide_context(spec),
    }
    template = "connections/replace_key.html"
    if request.htmx and not request.htmx.boosted:
        template += "#replace-form"
    return render(request, template, context, status=INVALID if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def connection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    connection = selectors.connection_get(user=request.user, pk=pk)
    if request.method == "POST":
        name = connection.name
        services.connection_delete(connection=connection, actor=request.user)
        messages.success(
            request,
            _(
                "Connection “%(name)s” deleted and its secrets wiped. Delete the API key "
                "on the exchange too, so it can never be used again."
            )
            % {"name": name},
        )
        return _redirect(request, "connections:list")
    context = {
        "connection": connection,
        "exchange_label": presenters.exchange_label(connection.exchange, demo=connection.demo),
        "strategies": connection.strategies.all(),
    }
    template = "connections/delete.html"
    if request.htmx and not request.htmx.boosted:
        template += "#delete-confirm"
    return render(request, template, context)


@login_required
@require_POST
def connection_test(request: HttpRequest, pk: int) -> HttpResponse:
    status = 200
    try:
        # One read of the row: the user's connection, locked as the test starts (the test is
        # published when this transaction commits).
        with transaction.atomic():
            connection = selectors.connection_get(user=request.user, pk=pk, for_update=True)
            services.connection_request_check(
                connection=connection, trigger="user", requested_by=request.user, locked=True
            )
    except services.CheckNotStarted as refused:
        status = 503 if refused.reason == "queue_down" else 409
        if refused.reason == "in_flight":
            messages.info(request, _("A test of this connection is already running."))
        elif refused.reason == "cooldown":
            messages.warning(
                request,
                ngettext(
                    "Please wait %(seconds)s second before testing this connection again.",
                    "Please wait %(seconds)s seconds before testing this connection again.",
                    refused.retry_in,
                )
                % {"seconds": refused.retry_in},
            )
        else:
            messages.error(
                request,
                _(
                    "The test could not be started because our task queue is unavailable. "
                    "Nothing was changed; please try again in a minute."
                ),
            )
    if request.htmx:
        connection.refresh_from_db()
        return render(
            request,
            "connections/detail.html#connection-body",
            _detail_context(request, connection),
            status=status,
        )
    return redirect("connections:detail", pk=pk)


@login_required
@require_GET
def connection_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The status badge; polled while a test runs. A final status answers 286: stop polling."""
    connection = selectors.connection_get(user=request.user, pk=pk)
    context = {"connection": connection, **_live_status_context(connection)}
    response = render(request, "connections/_status.html", context)
    if connection.is_final:
        response.status_code = 286
        # Lets the detail page reload its report once the test is done.
        response["HX-Trigger"] = f"connection-tested-{connection.pk}"
    return response
