"""Strategy pages: the per-view matrix (owner, anonymous, stranger, wrong method, htmx) and the
behaviour of each page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connections.models import Connection
from strategies import services
from strategies.models import Strategy
from tests.strategies.factories import form_data, make_strategy, online_connection

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def conn(alice):
    return online_connection(alice, name="Demo Spot")


@pytest.fixture
def strategy(alice, conn):
    return make_strategy(alice, conn)


# (url name, allowed method, forbidden method) for every view that takes a strategy id.
OBJECT_VIEWS = [
    ("strategies:detail", "get", "post"),
    ("strategies:edit", "get", "put"),
    ("strategies:enable", "post", "get"),
    ("strategies:pause", "post", "get"),
    ("strategies:delete", "get", "put"),
]
# Every (url name, method) that reaches an object, for the stranger test.
OBJECT_METHODS = [
    ("strategies:detail", "get"),
    ("strategies:edit", "get"),
    ("strategies:edit", "post"),
    ("strategies:enable", "post"),
    ("strategies:pause", "post"),
    ("strategies:delete", "get"),
    ("strategies:delete", "post"),
]


@pytest.mark.parametrize(("name", "method", "_"), OBJECT_VIEWS)
def test_anonymous_is_sent_to_login(client, strategy, name, method, _):
    response = getattr(client, method)(reverse(name, args=[strategy.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    ("name", "method"),
    [("strategies:list", "get"), ("strategies:new", "get"), ("strategies:preview", "post")],
)
def test_pages_without_an_object_need_login(client, name, method):
    response = getattr(client, method)(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(("name", "method"), OBJECT_METHODS)
def test_another_user_gets_404_and_changes_nothing(bob_client, bob, strategy, conn, name, method):
    bob_conn = online_connection(bob)
    response = getattr(bob_client, method)(
        reverse(name, args=[strategy.pk]), form_data(bob_conn, name="Stolen")
    )
    assert response.status_code == 404
    strategy.refresh_from_db()
    assert (strategy.name, strategy.status, strategy.connection_id) == (
        "BTC Grid",
        "draft",
        conn.pk,
    )


def test_another_user_gets_404_from_the_preview_of_a_strategy(bob_client, bob, strategy):
    url = reverse("strategies:preview") + f"?strategy={strategy.pk}"
    assert bob_client.post(url, form_data(online_connection(bob))).status_code == 404


def test_preview_with_a_malformed_strategy_id_is_404(alice_client, conn):
    url = reverse("strategies:preview") + "?strategy=abc"
    assert alice_client.post(url, form_data(conn)).status_code == 404


@pytest.mark.parametrize(("name", "_", "wrong"), OBJECT_VIEWS)
def test_wrong_method_is_405(alice_client, strategy, name, _, wrong):
    assert getattr(alice_client, wrong)(reverse(name, args=[strategy.pk])).status_code == 405


@pytest.mark.parametrize(
    ("name", "wrong"),
    [("strategies:list", "post"), ("strategies:new", "put"), ("strategies:preview", "get")],
)
def test_wrong_method_without_object_is_405(alice_client, name, wrong):
    assert getattr(alice_client, wrong)(reverse(name)).status_code == 405


# --- list --------------------------------------------------------------------------------------


def test_list_shows_status_and_pause_reason(alice, alice_client, conn, strategy):
    Strategy.objects.filter(pk=strategy.pk).update(status="paused", pause_reason="key_replaced")
    html = alice_client.get(reverse("strategies:list")).content.decode()
    assert "BTC Grid" in html and "Demo Spot" in html and "BTC/USDT" in html
    assert "Paused" in html and "The connection&#x27;s API key was replaced" in html


def test_list_htmx_returns_only_the_table(alice_client, strategy):
    html = alice_client.get(reverse("strategies:list"), **HTMX).content.decode()
    assert html.lstrip().startswith('<div id="strategy-table">') and "<html" not in html


def test_list_empty_state_offers_a_new_strategy(alice_client):
    html = alice_client.get(reverse("strategies:list")).content.decode()
    assert "No strategies yet" in html and reverse("strategies:new") in html


def test_list_shows_only_own_strategies(bob_client, strategy):
    assert "BTC Grid" not in bob_client.get(reverse("strategies:list")).content.decode()


# --- create ------------------------------------------------------------------------------------


def test_new_takes_the_connection_from_the_query(alice, alice_client, conn):
    other = online_connection(alice, name="Other")
    html = alice_client.get(reverse("strategies:new") + f"?connection={other.pk}").content.decode()
    assert f'<option value="{other.pk}" selected>' in html
    # The preset fills the add-on fields and the plan is already shown.
    assert 'name="max_addons" value="3"' in html
    assert "Worst-case capital" in html and "−14.25 %" in html


def test_new_ignores_another_users_connection_in_the_query(alice_client, bob):
    foreign = online_connection(bob, name="Bob's key")
    html = alice_client.get(
        reverse("strategies:new") + f"?connection={foreign.pk}"
    ).content.decode()
    assert "Bob&#x27;s key" not in html
    assert f'value="{foreign.pk}"' not in html


def test_new_without_connections_asks_for_one_first(alice_client):
    html = alice_client.get(reverse("strategies:new")).content.decode()
    assert "Add a connection and run its test first" in html
    assert reverse("connections:new") in html


def test_create_saves_a_draft_and_opens_its_page(alice, alice_client, conn):
    response = alice_client.post(
        reverse("strategies:new"), form_data(conn, pairs="btc-usdt, ETH/USDT")
    )
    strategy = Strategy.objects.get(owner=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("strategies:detail", args=[strategy.pk])
    assert strategy.status == "draft" and strategy.pairs == ["BTC/USDT", "ETH/USDT"]


def test_form_refuses_another_users_connection(alice_client, bob, conn):
    foreign = online_connection(bob)
    response = alice_client.post(reverse("strategies:new"), form_data(foreign))
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Strategy.objects.exists()


def test_form_refuses_another_users_new_groups_connection(alice_client, bob, conn):
    foreign = online_connection(bob)
    data = form_data(conn, new_groups_connection=str(foreign.pk))
    response = alice_client.post(reverse("strategies:new"), data)
    assert response.status_code == 422 and not Strategy.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"direction": "short"}, "Short positions, alone or with long, need a Futures connection"),
        ({"leverage": "3"}, "Leverage needs a Futures connection"),
        ({"margin_limit": "120"}, "exceeds the margin limit of 120.00 USDT by 80.00 USDT"),
        ({"pairs": "BTC/USDT, DOGGO/USDT"}, "Not tradable over the API"),
        ({"pairs": "bitcoin"}, "is not a pair"),
        ({"leverage": "21"}, "less than or equal to 20"),
        ({"max_addons": "21"}, "less than or equal to 20"),
    ],
)
def test_form_errors(alice_client, conn, overrides, message):
    response = alice_client.post(reverse("strategies:new"), form_data(conn, **overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Strategy.objects.exists()


def test_duplicate_name_is_a_form_error(alice, alice_client, conn, strategy):
    response = alice_client.post(reverse("strategies:new"), form_data(conn, name="btc GRID"))
    assert response.status_code == 422
    assert "You already have a strategy with this name." in response.content.decode()


def test_futures_connection_accepts_both_directions_and_leverage(alice, alice_client):
    futures = online_connection(alice, market="futures")
    response = alice_client.post(
        reverse("strategies:new"), form_data(futures, direction="both", leverage="5")
    )
    assert response.status_code == 302
    assert Strategy.objects.get().leverage == 5


def test_htmx_form_post_returns_only_the_form_card(alice_client, conn):
    html = alice_client.post(
        reverse("strategies:new"), form_data(conn, name=""), **HTMX
    ).content.decode()
    assert html.lstrip().startswith('<section class="card" id="strategy-form-card">')
    assert "<html" not in html


def test_form_has_live_preview_with_a_no_js_fallback(alice_client, conn):
    html = alice_client.get(reverse("strategies:new")).content.decode()
    preview = reverse("strategies:preview")
    assert f'hx-post="{preview}"' in html
    assert 'hx-trigger="input changed delay:400ms"' in html
    assert f'action="{reverse("strategies:new")}"' in html
    assert f'formaction="{preview}"' in html and ">Preview</button>" in html


# --- preview -----------------------------------------------------------------------------------


def test_preview_returns_the_ladder_partial(alice_client, conn):
    response = alice_client.post(reverse("strategies:preview"), form_data(conn), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="strategy-plan">') and "<form" not in html
    for text in ("−3 %", "−7.5 %", "−14.25 %", "200.00 USDT", "−6.5 %"):
        assert text in html
    assert "margin-error" not in html


def test_preview_shows_the_margin_error_with_the_shortfall(alice_client, conn):
    html = alice_client.post(
        reverse("strategies:preview"), form_data(conn, margin_limit="150"), **HTMX
    ).content.decode()
    assert 'id="margin-error"' in html
    assert "exceeds the margin limit of 150.00 USDT by 50.00 USDT" in html


def test_preview_short_ladder_goes_up(alice, alice_client):
    futures = online_connection(alice, market="futures")
    html = alice_client.post(
        reverse("strategies:preview"), form_data(futures, direction="short"), **HTMX
    ).content.decode()
    assert "+3 %" in html and "+14.25 %" in html


def test_preview_without_js_renders_the_whole_page_and_saves_nothing(alice_client, conn):
    response = alice_client.post(
        reverse("strategies:preview"), form_data(conn, preview="1", max_addons="2")
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert 'name="max_addons" value="2"' in html and "<td>−7.5 %</td>" in html
    assert "<td>−14.25 %</td>" not in html
    assert not Strategy.objects.exists()


def test_apply_preset_fills_the_add_on_fields(alice_client, conn):
    html = alice_client.post(
        reverse("strategies:preview"),
        form_data(conn, risk_level="aggressive", apply_preset="1", max_addons="1"),
        **HTMX,
    ).content.decode()
    assert html.lstrip().startswith('<section class="card" id="strategy-form-card">')
    assert 'name="max_addons" value="7"' in html
    assert 'name="volume_scale" value="1.3"' in html
    # The preset changes the plan shown with it: 7 add-ons, worst case 18.582839 x 50,
    # in USDT's precision.
    assert "929.14 USDT" in html


def test_preview_of_an_existing_strategy_keeps_its_save_url(alice_client, conn, strategy):
    url = reverse("strategies:preview") + f"?strategy={strategy.pk}"
    html = alice_client.post(url, form_data(conn)).content.decode()
    assert f'action="{reverse("strategies:edit", args=[strategy.pk])}"' in html


# --- edit --------------------------------------------------------------------------------------


def test_edit_page_is_prefilled(alice_client, strategy):
    html = alice_client.get(reverse("strategies:edit", args=[strategy.pk])).content.decode()
    assert 'value="BTC Grid"' in html and 'value="BTC/USDT"' in html


def test_edit_saves(alice_client, conn, strategy):
    response = alice_client.post(
        reverse("strategies:edit", args=[strategy.pk]), form_data(conn, name="Renamed")
    )
    assert response.status_code == 302
    strategy.refresh_from_db()
    assert strategy.name == "Renamed"


def test_edit_of_an_enabled_strategy_warns_and_pauses(alice, alice_client, conn, strategy):
    services.strategy_enable(strategy=strategy, actor=alice)
    page = alice_client.get(reverse("strategies:edit", args=[strategy.pk])).content.decode()
    assert "Saving changes to anything but its name pauses it" in page
    response = alice_client.post(
        reverse("strategies:edit", args=[strategy.pk]),
        form_data(conn, base_order="40"),
        follow=True,
    )
    strategy.refresh_from_db()
    assert strategy.status == "paused" and strategy.pause_reason == "settings_changed"
    assert "paused because its settings changed" in response.content.decode()


def test_edit_keeps_its_own_name_but_not_anothers(alice, alice_client, conn, strategy):
    make_strategy(alice, conn, name="Other")
    url = reverse("strategies:edit", args=[strategy.pk])
    assert alice_client.post(url, form_data(conn, name="btc grid")).status_code == 302
    assert alice_client.post(url, form_data(conn, name="OTHER")).status_code == 422


def test_edit_htmx_returns_the_form_card(alice_client, strategy):
    html = alice_client.get(reverse("strategies:edit", args=[strategy.pk]), **HTMX).content.decode()
    assert html.lstrip().startswith('<section class="card" id="strategy-form-card">')


# --- detail, enable, pause ---------------------------------------------------------------------


def test_detail_lists_every_condition_with_marks_and_what_to_do(alice_client, conn, strategy):
    Connection.objects.filter(pk=conn.pk).update(status="failed", problem_category="invalid_key")
    html = alice_client.get(reverse("strategies:detail", args=[strategy.pk])).content.decode()
    assert 'data-code="connection_online"' in html and "✗" in html and "✓" in html
    assert "failed its last test (Invalid key)" in html
    assert f'href="/connections/{conn.pk}/">Open the connection' in html
    assert "disabled" in html  # the Enable button waits for the gate


def test_detail_shows_the_pause_reason(alice_client, strategy):
    Strategy.objects.filter(pk=strategy.pk).update(
        status="paused", pause_reason="connection_failed"
    )
    html = alice_client.get(reverse("strategies:detail", args=[strategy.pk])).content.decode()
    assert "Its connection failed its test" in html


def test_detail_htmx_returns_only_the_body(alice_client, strategy):
    html = alice_client.get(
        reverse("strategies:detail", args=[strategy.pk]), **HTMX
    ).content.decode()
    assert html.lstrip().startswith('<div id="strategy-body"') and "<html" not in html


def test_enable_and_pause_round_trip(alice_client, strategy):
    response = alice_client.post(reverse("strategies:enable", args=[strategy.pk]))
    assert response.status_code == 302
    strategy.refresh_from_db()
    assert strategy.status == "enabled"
    html = alice_client.get(reverse("strategies:detail", args=[strategy.pk])).content.decode()
    assert "Strategy enabled." in html and reverse("strategies:pause", args=[strategy.pk]) in html
    alice_client.post(reverse("strategies:pause", args=[strategy.pk]))
    strategy.refresh_from_db()
    assert strategy.status == "paused" and strategy.pause_reason == "user"


def test_enable_refused_by_the_gate(alice_client, conn, strategy):
    Connection.objects.filter(pk=conn.pk).update(status="failed")
    response = alice_client.post(reverse("strategies:enable", args=[strategy.pk]), follow=True)
    strategy.refresh_from_db()
    assert strategy.status == "draft"
    assert "Not enabled: 1 condition is not met" in response.content.decode()


def test_enable_htmx_refused_is_409_with_the_checklist(alice_client, conn, strategy):
    Connection.objects.filter(pk=conn.pk).update(status="failed")
    response = alice_client.post(reverse("strategies:enable", args=[strategy.pk]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 409
    assert html.lstrip().startswith('<div id="strategy-body"')
    assert "Not enabled" in html and 'data-code="connection_online"' in html


def test_enable_htmx_success_returns_the_body(alice_client, strategy):
    response = alice_client.post(reverse("strategies:enable", args=[strategy.pk]), **HTMX)
    assert response.status_code == 200
    assert "Strategy enabled." in response.content.decode()


def test_pause_htmx_returns_the_body(alice, alice_client, strategy):
    services.strategy_enable(strategy=strategy, actor=alice)
    response = alice_client.post(reverse("strategies:pause", args=[strategy.pk]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="strategy-body"')
    assert "Paused by you" in html


# --- delete ------------------------------------------------------------------------------------


def test_delete_asks_first_then_deletes(alice_client, strategy):
    page = alice_client.get(reverse("strategies:delete", args=[strategy.pk])).content.decode()
    assert "Delete “BTC Grid”?" in page and 'method="post"' in page
    assert Strategy.objects.exists()
    response = alice_client.post(reverse("strategies:delete", args=[strategy.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("strategies:list")
    assert not Strategy.objects.exists()


def test_delete_htmx(alice_client, strategy):
    page = alice_client.get(reverse("strategies:delete", args=[strategy.pk]), **HTMX)
    assert page.content.decode().lstrip().startswith('<section class="card" id="delete-confirm">')
    response = alice_client.post(reverse("strategies:delete", args=[strategy.pk]), **HTMX)
    assert response["HX-Redirect"] == reverse("strategies:list")


def test_detail_shows_the_strategys_own_audit_events(alice_client, alice, bob):
    from tests.strategies.factories import make_strategy, online_connection

    strategy = make_strategy(alice, online_connection(alice))
    other = make_strategy(bob, online_connection(bob), name="Bob Private Grid")
    html = alice_client.get(reverse("strategies:detail", args=[strategy.pk])).content.decode()
    assert "Strategy created" in html
    assert other.name not in html
