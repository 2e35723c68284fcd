"""Issue 19, points 7, 8, 9 and 16 on the strategy pages: localized numbers, presets that start
out valid, unknown is not a tick, test actions that start the test, and the separate-key
recommendation."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from connections.models import Connection
from strategies import gate
from strategies.forms import StrategyForm
from strategies.models import RiskLevel, Strategy
from tests.connections.factories import make_connection
from tests.strategies.factories import form_data, make_strategy, online_connection

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
SPACES = "[\u00a0\u202f ]"


@pytest.fixture
def conn(alice):
    return online_connection(alice, name="Demo Spot")


def speak(user, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


# --- point 7: numbers ----------------------------------------------------------------------------


def test_edit_form_shows_stored_numbers_localized_without_padded_zeros(alice, alice_client, conn):
    strategy = make_strategy(alice, conn, margin_limit=Decimal("1000.5"))
    url = reverse("strategies:edit", args=[strategy.pk])
    html = alice_client.get(url).content.decode()
    assert 'name="margin_limit" value="1,000.5"' in html
    assert 'name="base_order" value="50"' in html
    assert "00000000" not in html
    speak(alice, "fr")
    html = alice_client.get(url).content.decode()
    assert re.search(f'name="margin_limit" value="1{SPACES}000,5"', html)
    assert 'name="step_scale" value="1,5"' in html


def test_french_input_in_the_format_the_app_displays_is_accepted(alice, alice_client, conn):
    speak(alice, "fr")
    data = form_data(
        conn, margin_limit="1\u202f000,50", base_order="50", step_scale="1,5", take_profit_pct="1.5"
    )
    response = alice_client.post(reverse("strategies:new"), data)
    assert response.status_code == 302, response.content.decode()
    strategy = Strategy.objects.get()
    assert strategy.margin_limit == Decimal("1000.50") and strategy.step_scale == Decimal("1.5")


def test_german_thousands_are_read_as_thousands(alice, alice_client, conn):
    speak(alice, "de")
    data = form_data(conn, margin_limit="1.000,50", step_scale="1,5", take_profit_pct="1,5")
    assert alice_client.post(reverse("strategies:new"), data).status_code == 302
    assert Strategy.objects.get().margin_limit == Decimal("1000.50")


@pytest.mark.parametrize(
    ("language", "text", "message"),
    [
        ("en", "abc", "Enter a number, written like 1,234.5."),
        ("en", "1,5", "Enter a number, written like 1,234.5."),
        ("de", "1.5", "Geben Sie eine Zahl ein, geschrieben wie 1.234,5."),
        ("fr", "1.000", "peut désigner deux nombres différents"),
    ],
)
def test_unreadable_or_ambiguous_amount_is_refused_beside_its_field(
    alice, alice_client, conn, language, text, message
):
    speak(alice, language)
    with_local_decimals = (
        {"step_scale": "1,5", "take_profit_pct": "1,5"} if language != "en" else {}
    )
    data = form_data(conn, margin_limit=text, **with_local_decimals)
    response = alice_client.post(reverse("strategies:new"), data)
    html = response.content.decode()
    assert response.status_code == 422
    field = re.search(
        r'<div class="field has-error">\s*<label for="id_margin_limit".*?</div>', html, re.S
    )
    assert field is not None and message in field.group(0)
    # A summary at the top links to the field, and the cursor starts in it.
    summary = re.search(
        r'<div class="problem" id="strategy-form-errors" role="alert">.*?</div>', html, re.S
    )
    assert summary is not None and 'href="#id_margin_limit"' in summary.group(0)
    assert re.search(r'<input[^>]*name="margin_limit"[^>]*autofocus', html)
    assert not Strategy.objects.exists()


def test_plan_amounts_use_the_quote_precision_and_percentages_two_places(alice):
    values = {
        "pairs": ["BTC/USDT"],
        "direction": "long",
        "margin_limit": Decimal("5000"),
        "max_active_groups": 1,
        "base_order": Decimal("50"),
        "max_addons": 8,
        "first_distance_pct": Decimal("1.5"),
        "step_scale": Decimal("1.2"),
        "volume_scale": Decimal("1.5"),
        "take_profit_pct": Decimal("1"),
    }
    plan = gate.build_plan(values)
    assert plan.display["worst_case"] == "2,512.89"
    assert plan.display["margin_limit"] == "5,000.00"
    assert plan.rows[-1]["distance"] == "−24.75 %"
    assert plan.rows[-1]["size"] == "854.30"


@pytest.mark.parametrize("level", list(RiskLevel))
def test_every_preset_with_the_default_margin_limit_gives_a_valid_plan(level):
    initial = StrategyForm.initial_for(risk_level=level)
    plan = gate.build_plan({**initial, "pairs": ["BTC/USDT"]})
    assert plan.complete and plan.problems == [], [p.message for p in plan.problems]
    assert plan.worst_case <= initial["margin_limit"]


@pytest.mark.parametrize("level", list(RiskLevel))
def test_applying_a_preset_to_the_default_form_shows_no_margin_error(alice_client, conn, level):
    data = form_data(conn, risk_level=level, apply_preset="1")
    html = alice_client.post(reverse("strategies:preview"), data, **HTMX).content.decode()
    assert "margin-error" not in html and "errorlist" not in html
    assert "The worst case fits the margin limit." in html


# --- point 8: unknown is not a tick --------------------------------------------------------------


def test_checklist_shows_an_unknown_balance_as_unknown_not_as_met(alice, alice_client):
    kucoin = make_connection(alice, exchange="kucoin", name="KuCoin Spot")
    Connection.objects.filter(pk=kucoin.pk).update(
        status="online",
        last_report={"exchange": "kucoin", "market": "spot", "checks": [], "balances": []},
    )
    strategy = Strategy.objects.create(
        owner=alice,
        connection=kucoin,
        name="Unknown balance",
        pairs=["BTC/USDT"],
        margin_limit=1000,
        base_order=10,
        first_distance_pct=2,
        step_scale=1,
        volume_scale=1,
        take_profit_pct=1,
    )
    html = alice_client.get(reverse("strategies:detail", args=[strategy.pk])).content.decode()
    item = re.search(r'<li data-code="margin_within_balance".*?</li>', html, re.S).group(0)
    assert 'data-state="unknown"' in item and ">?</span>" in item
    assert "✓" not in item and "cannot be compared" in item


# --- point 9: actions that start the test --------------------------------------------------------


def test_checklist_test_actions_post_to_the_connections_test(alice, alice_client, conn):
    strategy = make_strategy(alice, conn)
    Connection.objects.filter(pk=conn.pk).update(status="untested", last_tested_at=None)
    html = alice_client.get(reverse("strategies:detail", args=[strategy.pk])).content.decode()
    test_url = reverse("connections:test", args=[conn.pk])
    forms = re.findall(
        r'<form method="post" action="([^"]+)" class="inline connection-test-form".*?</form>',
        html,
        re.S,
    )
    # One button, on the first condition the test settles, not one per condition.
    assert forms == [test_url]
    assert "Run the connection test</button>" in html
    assert ">Run the connection test</a>" not in html
    # The page reloads its checklist when the test is accepted and again when it finishes.
    assert f"connection-tested-{conn.pk} from:body" in html


def test_checklist_test_action_starts_the_test_without_javascript(
    alice, alice_client, conn, settings
):
    settings.CONNECTION_TEST_COOLDOWN = 0
    strategy = make_strategy(alice, conn)
    Connection.objects.filter(pk=conn.pk).update(status="untested")
    alice_client.get(reverse("strategies:detail", args=[strategy.pk]))
    response = alice_client.post(reverse("connections:test", args=[conn.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("connections:detail", args=[conn.pk])
    conn.refresh_from_db()
    assert conn.status == "testing"


def test_dashboard_test_button_posts_with_the_requests_own_csrf_token(alice):
    idle = make_connection(alice, exchange="demo", name="Untested one")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    for _ in range(2):  # the second answer comes from the cache
        html = browser.get(reverse("home")).content.decode()
        assert "<!--csrf-->" not in html
        form = re.search(
            rf'<form method="post" action="([^"]+)"[^>]*id="dashboard-test-{idle.pk}".*?</form>',
            html,
            re.S,
        )
        assert form is not None and form.group(1) == reverse("connections:test", args=[idle.pk])
        assert "Run the connection test</button>" in form.group(0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0)).group(1)
    response = browser.post(form.group(1), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    idle.refresh_from_db()
    assert idle.status == "testing"


# --- point 16: one key per strategy --------------------------------------------------------------


def test_form_recommends_a_separate_connection_when_another_strategy_uses_it(
    alice, alice_client, conn
):
    make_strategy(alice, conn, name="BTC Grid")
    html = alice_client.get(reverse("strategies:new") + f"?connection={conn.pk}").content.decode()
    notice = re.search(r'<div id="shared-connection"[^>]*>.*?</div>', html, re.S).group(0)
    assert "hidden" not in notice.split(">")[0]
    assert "“BTC Grid” already trades through “Demo Spot”" in notice
    assert "separate API key and connection" in notice
    assert reverse("connections:new") in notice
    # A recommendation, not a block: the second strategy saves.
    response = alice_client.post(reverse("strategies:new"), form_data(conn, name="ETH Grid"))
    assert response.status_code == 302


def test_live_preview_updates_the_recommendation_out_of_band(alice, alice_client, conn):
    other = online_connection(alice, name="Second key")
    make_strategy(alice, conn, name="BTC Grid")
    html = alice_client.post(
        reverse("strategies:preview"), form_data(conn, name="New"), **HTMX
    ).content.decode()
    assert 'id="shared-connection"' in html and 'hx-swap-oob="true"' in html
    assert "“BTC Grid” already trades through" in html
    html = alice_client.post(
        reverse("strategies:preview"), form_data(other, name="New"), **HTMX
    ).content.decode()
    assert re.search(r'<div id="shared-connection"[^>]*hx-swap-oob="true" hidden>\s*</div>', html)


def test_a_strategy_alone_on_its_connection_gets_no_recommendation(alice, alice_client, conn):
    strategy = make_strategy(alice, conn)
    edit = alice_client.get(reverse("strategies:edit", args=[strategy.pk])).content.decode()
    assert "already trades through" not in edit
    detail = alice_client.get(reverse("strategies:detail", args=[strategy.pk])).content.decode()
    assert 'data-code="separate_connection"' not in detail


def test_checklist_recommends_a_separate_connection_without_blocking(alice, alice_client, conn):
    first = make_strategy(alice, conn, name="BTC Grid")
    make_strategy(alice, conn, name="ETH Grid")
    html = alice_client.get(reverse("strategies:detail", args=[first.pk])).content.decode()
    item = re.search(r'<li data-code="separate_connection".*?</li>', html, re.S).group(0)
    assert 'class="mark warning"' in item and "“ETH Grid” already trades through" in item
    assert "✗" not in item
    # Not a gate condition: the strategy can still be enabled.
    response = alice_client.post(reverse("strategies:enable", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == "enabled"
