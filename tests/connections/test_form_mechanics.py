"""Issue 19, points 1-4 and 15: how forms and htmx answers behave when something goes wrong.

The browser tests (tests/e2e/test_error_paths.py) walk the same paths in Chromium; these pin the
server's half: status codes htmx is configured to swap, the error markup, what a re-rendered
form keeps, where a successful submission lands, and the answers to refused or missing things.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from connections.models import Connection, ConnectionCheck
from tests.connections.factories import KUCOIN_SECRET, MEXC_SECRET, kucoin_key, make_connection

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
KUCOIN_PASSPHRASE = "my kucoin passphrase"


def kucoin_form(**overrides):
    data = {
        "exchange": "kucoin",
        "name": "KuCoin Spot",
        "market": "spot",
        "api_key": kucoin_key(),
        "api_secret": KUCOIN_SECRET,
        "passphrase": KUCOIN_PASSPHRASE,
    }
    data.update(overrides)
    return data


def htmx_config(html: str) -> dict:
    match = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'', html)
    assert match, "base.html has no htmx-config meta tag"
    return json.loads(match.group(1))


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, f"no input named {name}"
    return match.group(0)


# --- The mechanism: which answers htmx swaps ---------------------------------------------------


def test_htmx_swaps_invalid_form_and_conflict_answers_and_reports_other_errors(alice_client):
    config = htmx_config(alice_client.get(reverse("home")).content.decode())
    rules = config["responseHandling"]

    def rule_for(status: int) -> dict:
        return next(r for r in rules if re.match(r["code"], str(status)))

    assert rule_for(200)["swap"] is True
    assert rule_for(204)["swap"] is False
    for status in (422, 409):
        assert rule_for(status)["swap"] is True and not rule_for(status).get("error")
    for status in (400, 403, 404, 429, 500, 503):
        assert rule_for(status)["swap"] is False and rule_for(status)["error"] is True
    # Settling never copies a style attribute (our CSP forbids inline styles).
    assert "style" not in config["attributesToSettle"]


def test_body_carries_the_generic_error_texts_and_an_error_region(alice_client):
    html = alice_client.get(reverse("home")).content.decode()
    assert 'data-error-generic="Something went wrong and nothing was changed.' in html
    assert 'data-error-network="The server could not be reached.' in html
    assert '<div id="htmx-error" class="error-region" role="alert" hidden></div>' in html


def test_htmx_request_after_the_session_ended_sends_the_browser_to_login(client, alice):
    conn = make_connection(alice, name="Main")
    detail = reverse("connections:detail", args=[conn.pk])
    response = client.post(
        reverse("connections:test", args=[conn.pk]),
        HTTP_HX_CURRENT_URL=f"http://testserver{detail}",
        **HTMX,
    )
    assert response["HX-Redirect"] == f"{reverse('account_login')}?next={quote(detail)}"
    # Without htmx the ordinary redirect stays.
    response = client.post(reverse("connections:test", args=[conn.pk]))
    assert response.status_code == 302 and "HX-Redirect" not in response


# --- Point 1: invalid submissions ---------------------------------------------------------------


def test_invalid_add_connection_is_422_with_summary_errors_beside_fields_and_focus(alice_client):
    response = alice_client.post(
        reverse("connections:new"), kucoin_form(name="", api_key="not a key"), **HTMX
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="connection-form">')
    # A summary at the top, linking to each field in error, in the fields' order.
    summary = re.search(r"<div[^>]*data-error-summary[^>]*>.*?</div>", html, re.S).group(0)
    assert 'tabindex="-1"' in summary
    assert summary.index('href="#id_name"') < summary.index('href="#id_api_key"')
    assert "2 problems" in summary
    # Each error beside its field, tied to it for assistive technology.
    name = input_tag(html, "name")
    assert 'aria-invalid="true"' in name and 'aria-describedby="id_name_helptext id_name_error"'
    assert 'id="id_name_error"' in html and 'id="id_api_key_error"' in html
    assert 'aria-describedby="id_name_helptext id_name_error"' in name
    assert 'id="id_name_helptext"' in html
    # Without JavaScript (and with htmx's own autofocus handling) the first error gets focus.
    assert "autofocus" in name
    assert "autofocus" not in input_tag(html, "api_key")


def test_invalid_form_keeps_the_api_key_but_never_the_secret_or_passphrase(alice_client):
    key = kucoin_key()
    response = alice_client.post(
        reverse("connections:new"), kucoin_form(name="", api_key=key), **HTMX
    )
    html = response.content.decode()
    assert f'value="{key}"' in input_tag(html, "api_key")
    assert KUCOIN_SECRET not in html and KUCOIN_PASSPHRASE not in html
    assert "value=" not in input_tag(html, "api_secret")
    assert "value=" not in input_tag(html, "passphrase")
    assert "secret key was cleared" in html
    # The answer that carries the key is never stored by the browser or a proxy.
    assert "no-store" in response["Cache-Control"]


def test_without_javascript_the_form_says_the_passphrase_was_cleared_too(alice_client):
    response = alice_client.post(reverse("connections:new"), kucoin_form(name=""))
    assert response.status_code == 422
    html = response.content.decode()
    assert "secret key and the passphrase were cleared" in html
    # The whole page comes back, so the summary can take focus on load.
    assert "<html" in html and "data-error-summary" in html


def test_passphrase_input_is_marked_for_the_browser_to_keep(alice_client):
    html = alice_client.get(reverse("connections:new"), {"exchange": "kucoin"}).content.decode()
    assert "data-keep-typed" in input_tag(html, "passphrase")
    assert "data-keep-typed" not in input_tag(html, "api_secret")


def test_invalid_rename_is_422_with_its_error_beside_the_field(alice_client, alice):
    conn = make_connection(alice, name="Main")
    make_connection(alice, name="Other")
    response = alice_client.post(
        reverse("connections:rename", args=[conn.pk]), {"name": "other"}, **HTMX
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="rename-form"')
    assert "data-error-summary" in html and "already have a connection with this name" in html
    field = input_tag(html, "name")
    assert 'aria-invalid="true"' in field and "autofocus" in field
    assert 'value="other"' in field


def test_invalid_replace_key_is_422_and_keeps_the_new_key(alice_client, alice):
    conn = make_connection(alice, exchange="kucoin", name="KuCoin")
    key = kucoin_key()
    response = alice_client.post(
        reverse("connections:replace_key", args=[conn.pk]),
        {"api_key": key, "api_secret": "short", "passphrase": KUCOIN_PASSPHRASE},
        **HTMX,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="replace-form">')
    assert f'value="{key}"' in input_tag(html, "api_key")
    assert 'aria-invalid="true"' in input_tag(html, "api_secret")
    assert KUCOIN_PASSPHRASE not in html


# --- Point 2: replace key lands on the connection page, once --------------------------------------


def test_replace_key_with_htmx_redirects_the_whole_page(alice_client, alice):
    conn = make_connection(alice, name="Main")
    data = {
        "api_key": "mx0" + "a" * 15,
        "api_secret": MEXC_SECRET,
        "withdrawal_off_confirmed": "on",
    }
    response = alice_client.post(reverse("connections:replace_key", args=[conn.pk]), data, **HTMX)
    detail = reverse("connections:detail", args=[conn.pk])
    assert response.status_code == 200 and response["HX-Redirect"] == detail
    assert response.content == b""
    page = alice_client.get(detail).content.decode()
    assert "Key replaced." in page


def test_replace_key_without_htmx_is_a_303_to_the_connection(alice_client, alice):
    conn = make_connection(alice, name="Main")
    data = {
        "api_key": "mx0" + "b" * 15,
        "api_secret": MEXC_SECRET,
        "withdrawal_off_confirmed": "on",
    }
    response = alice_client.post(reverse("connections:replace_key", args=[conn.pk]), data)
    assert response.status_code == 303
    assert response["Location"] == reverse("connections:detail", args=[conn.pk])


def test_report_of_the_previous_key_is_labelled_as_such(alice_client, alice):
    tested = timezone.now() - timedelta(hours=1)
    report = {
        "exchange": "mexc",
        "market": "spot",
        "verdict": "online",
        "checks": [{"name": "reachable", "outcome": "ok", "code": "reachable_ok", "params": {}}],
    }
    conn = make_connection(alice, name="Main")
    Connection.objects.filter(pk=conn.pk).update(
        status="online", last_report=report, last_tested_at=tested
    )
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert "Previous key" not in html
    Connection.objects.filter(pk=conn.pk).update(status="untested", key_replaced_at=timezone.now())
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert "Previous key — last test" in html
    assert 'class="card previous-key"' in html


# --- Point 3: rename updates everything that shows the name ---------------------------------------


def test_rename_with_htmx_reloads_the_page_with_a_confirmation(alice_client, alice):
    conn = make_connection(alice, name="Old Name")
    response = alice_client.post(
        reverse("connections:rename", args=[conn.pk]), {"name": "New Name"}, **HTMX
    )
    detail = reverse("connections:detail", args=[conn.pk])
    assert response["HX-Redirect"] == detail
    page = alice_client.get(detail).content.decode()
    assert "<title>New Name" in page and "<h1>New Name</h1>" in page
    assert "Connection renamed." in page


def test_dashboard_shows_the_new_name_right_after_a_rename(alice_client, alice, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    conn = make_connection(alice, name="Old Name")
    assert "Old Name" in alice_client.get(reverse("home")).content.decode()
    alice_client.post(reverse("connections:rename", args=[conn.pk]), {"name": "New Name"}, **HTMX)
    html = alice_client.get(reverse("home")).content.decode()
    assert "New Name" in html and "Old Name" not in html


# --- Point 4: a test already running, seen from a second tab ----------------------------------------


def test_test_while_one_is_running_answers_409_with_the_live_status(alice_client, alice):
    conn = make_connection(alice, name="Main")
    check = ConnectionCheck.objects.create(connection=conn, trigger="user")
    Connection.objects.filter(pk=conn.pk).update(
        status="testing", current_check=check, testing_since=timezone.now()
    )
    response = alice_client.post(reverse("connections:test", args=[conn.pk]), **HTMX)
    assert response.status_code == 409
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="connection-body"')
    assert "A test of this connection is already running." in html
    assert f'hx-get="{reverse("connections:status", args=[conn.pk])}"' in html


# --- Point 15: Back after delete, caching -----------------------------------------------------------


def test_a_deleted_connection_is_a_friendly_404_linking_to_the_list(alice_client, alice, settings):
    settings.DEBUG = False
    conn = make_connection(alice, name="Gone")
    alice_client.post(reverse("connections:delete", args=[conn.pk]))
    for url in (
        reverse("connections:detail", args=[conn.pk]),
        reverse("connections:delete", args=[conn.pk]),
    ):
        response = alice_client.get(url)
        assert response.status_code == 404
        html = response.content.decode()
        assert "Not found" in html and f'href="{reverse("connections:list")}"' in html
        assert "data-error-message" in html
        assert "no-store" in response["Cache-Control"]


def test_signed_in_pages_are_not_stored_so_back_refetches_them(alice_client, alice):
    conn = make_connection(alice, name="Main")
    for url in (
        reverse("home"),
        reverse("connections:list"),
        reverse("connections:detail", args=[conn.pk]),
        reverse("connections:delete", args=[conn.pk]),
    ):
        assert "no-store" in alice_client.get(url)["Cache-Control"], url


def test_anonymous_pages_keep_their_caching(client):
    assert "no-store" not in client.get(reverse("home")).get("Cache-Control", "")


def test_no_template_sets_an_inline_style():
    """Our CSP forbids inline styles; a style attribute would be a console error on every swap."""
    from pathlib import Path

    from django.conf import settings as django_settings

    root = Path(django_settings.BASE_DIR)
    offenders = [
        str(path.relative_to(root))
        for folder in ("templates", "connections", "strategies", "backfuture")
        for path in (root / folder).rglob("*.html")
        if re.search(r"\sstyle=|<style", path.read_text())
    ]
    assert not offenders
