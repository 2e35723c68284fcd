from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backfuture.forms import focus_first_error
from connections import selectors as connection_selectors
from strategies import gate, selectors, services
from strategies.forms import StrategyForm
from strategies.models import StrategyStatus


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def _apply_service_error(form: StrategyForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _quoted(names: list[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


def _form_context(
    request: HttpRequest, form: StrategyForm, *, strategy=None, show_errors: bool = True
) -> dict:
    preview_url = reverse("strategies:preview")
    if strategy is not None:
        preview_url += f"?strategy={strategy.pk}"
        save_url = reverse("strategies:edit", args=[strategy.pk])
    else:
        save_url = reverse("strategies:new")
    connection = form.connection_obj
    if connection is not None:
        services.symbol_list_request_refresh(exchange=connection.exchange, market=connection.market)
    shared_with = selectors.strategies_sharing_connection(
        user=request.user,
        connection=connection,
        exclude_pk=strategy.pk if strategy is not None else None,
    )
    return {
        "connection": connection,
        "shared_with": shared_with,
        "shared_names": _quoted(shared_with),
        "form": form,
        "strategy": strategy,
        "plan": form.plan,
        "save_url": save_url,
        "preview_url": preview_url,
        "show_errors": show_errors,
        "has_connections": form.fields["connection"].queryset.exists(),
        "symbols_pending": form.symbols_pending,
    }


def _render_form(request, form, *, strategy=None, status: int = 200, show_errors=True):
    # An invalid form is re-rendered with status 422, which base.html's htmx-config swaps in
    # place (htmx 2 swaps no other 4xx).
    if show_errors and form.is_bound:
        # Only when the errors are shown: a live preview must not move the cursor.
        focus_first_error(form)
    context = _form_context(request, form, strategy=strategy, show_errors=show_errors)
    template = "strategies/form.html"
    # Without any connection the page shows its call to action instead of the form.
    if _is_partial(request) and context["has_connections"]:
        template += "#strategy-form-card"
    return render(request, template, context, status=status)


@login_required
@require_GET
def strategy_list(request: HttpRequest) -> HttpResponse:
    context = {"strategies": selectors.strategy_list(user=request.user)}
    template = "strategies/list.html"
    if request.htmx:
        template += "#strategy-table"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def strategy_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = StrategyForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                strategy = services.strategy_create(owner=request.user, values=form.cleaned_data)
            except ValidationError as error:
                _apply_service_error(form, error)
            else:
                messages.success(
                    request,
                    _("Strategy saved as a draft. Enable it once every condition below is met."),
                )
                return redirect("strategies:detail", pk=strategy.pk)
        return _render_form(request, form, status=422)
    connection = selectors.connection_for_new_strategy(
        user=request.user, pk=request.GET.get("connection")
    )
    initial = StrategyForm.initial_for(connection=connection)
    form = StrategyForm(initial=initial, user=request.user)
    form.plan = gate.build_plan(initial)
    return _render_form(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def strategy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = selectors.strategy_get(user=request.user, pk=pk)
    if request.method == "POST":
        form = StrategyForm(request.POST, user=request.user, strategy=strategy)
        if form.is_valid():
            was_enabled = strategy.status == StrategyStatus.ENABLED
            try:
                strategy = services.strategy_update(
                    strategy=strategy, values=form.cleaned_data, actor=request.user
                )
            except ValidationError as error:
                _apply_service_error(form, error)
            else:
                if was_enabled and strategy.status == StrategyStatus.PAUSED:
                    messages.warning(
                        request,
                        _(
                            "Settings saved. The strategy is paused because its settings "
                            "changed; enable it again when you have checked them."
                        ),
                    )
                else:
                    messages.success(request, _("Settings saved."))
                return redirect("strategies:detail", pk=strategy.pk)
        return _render_form(request, form, strategy=strategy, status=422)
    form = StrategyForm(
        initial=StrategyForm.initial_from(strategy), user=request.user, strategy=strategy
    )
    form.plan = gate.build_plan(gate.strategy_values(strategy))
    return _render_form(request, form, strategy=strategy)


@login_required
@require_POST
def strategy_preview(request: HttpRequest) -> HttpResponse:
    """The live plan while the form is edited: ladder, worst case, margin error.

    htmx posts the form here on input and gets the plan partial; without JavaScript the
    "Preview" button posts here and gets the whole page back. "Apply preset" fills the add-on
    fields from the chosen risk level. Nothing is saved.
    """
    strategy = None
    if "strategy" in request.GET:
        try:
            strategy_pk = int(request.GET["strategy"])
        except ValueError:
            raise Http404 from None
        strategy = selectors.strategy_get(user=request.user, pk=strategy_pk)
    data = request.POST
    apply_preset = "apply_preset" in data
    if apply_preset:
        data = StrategyForm.with_preset(data, data.get("risk_level", ""))
    form = StrategyForm(data, user=request.user, strategy=strategy)
    form.is_valid()
    context = _form_context(request, form, strategy=strategy, show_errors=False)
    template = "strategies/form.html"
    if _is_partial(request):
        # The plan, plus the shared-connection notice beside the connection field (out of band).
        template = (
            "strategies/form.html#strategy-form-card"
            if apply_preset
            else "strategies/_preview.html"
        )
    return render(request, template, context)


def _detail_context(strategy, *, notice: str = "", notice_kind: str = "") -> dict:
    result = selectors.strategy_gate(strategy=strategy)
    connection = strategy.connection
    if gate.Code.PAIRS_TRADABLE in result and not result[gate.Code.PAIRS_TRADABLE].passed:
        services.symbol_list_request_refresh(exchange=connection.exchange, market=connection.market)
    shared_with = selectors.strategies_sharing_connection(
        user=strategy.owner, connection=connection, exclude_pk=strategy.pk
    )
    return {
        "shared_with": shared_with,
        "shared_names": _quoted(shared_with),
        "strategy": strategy,
        "connection": connection,
        "where": gate.market_label(connection),
        "gate": result,
        "plan": gate.build_plan(gate.strategy_values(strategy)),
        "notice": notice,
        "notice_kind": notice_kind,
        # The strategy was loaded through the owner-scoped selector, so its owner is the viewer.
        "events": connection_selectors.audit_events_for_strategy(
            user=strategy.owner, strategy_id=strategy.pk
        ),
    }


def _detail_response(request, strategy, *, status: int = 200, notice="", notice_kind=""):
    template = "strategies/detail.html"
    if _is_partial(request):
        template += "#strategy-body"
    context = _detail_context(strategy, notice=notice, notice_kind=notice_kind)
    return render(request, template, context, status=status)


@login_required
@require_GET
def strategy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = selectors.strategy_get(user=request.user, pk=pk)
    return _detail_response(request, strategy)


@login_required
@require_POST
def strategy_enable(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = selectors.strategy_get(user=request.user, pk=pk)
    try:
        services.strategy_enable(strategy=strategy, actor=request.user)
    except services.GateRefused as refused:
        status, kind = 409, "error"
        count = len(refused.result.failed)
        text = ngettext(
            "Not enabled: %(count)s condition is not met. See what to do about it below.",
            "Not enabled: %(count)s conditions are not met. See what to do about each below.",
            count,
        ) % {"count": count}
    else:
        status, kind, text = 200, "success", _("Strategy enabled.")
    if request.htmx:
        strategy = selectors.strategy_get(user=request.user, pk=pk)
        return _detail_response(request, strategy, status=status, notice=text, notice_kind=kind)
    messages.add_message(request, messages.ERROR if status == 409 else messages.SUCCESS, text)
    return redirect("strategies:detail", pk=pk)


@login_required
@require_POST
def strategy_pause(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = selectors.strategy_get(user=request.user, pk=pk)
    services.strategy_pause(strategy=strategy, actor=request.user)
    text = _("Strategy paused. It opens nothing new until you enable it again.")
    if request.htmx:
        strategy = selectors.strategy_get(user=request.user, pk=pk)
        return _detail_response(request, strategy, notice=text, notice_kind="success")
    messages.success(request, text)
    return redirect("strategies:detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def strategy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = selectors.strategy_get(user=request.user, pk=pk)
    if request.method == "POST":
        name = strategy.name
        services.strategy_delete(strategy=strategy, actor=request.user)
        messages.success(request, _("Strategy “%(name)s” deleted.") % {"name": name})
        response = redirect("strategies:list")
        if request.htmx:
            response["HX-Redirect"] = response["Location"]
        return response
    template = "strategies/delete.html"
    if _is_partial(request):
        template += "#delete-confirm"
    return render(request, template, {"strategy": strategy})
