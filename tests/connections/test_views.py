from __future__ import annotations

import pytest
from django.urls import reverse

from connections.models import Connection
from tests.connections.factories import MEXC_SECRET, make_connection, mexc_key
from tests.strategies.factories import stored_strategy

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def conn(alice):
    return make_connection(alice, name="MEXC Spot Main")


def mexc_form(**overrides):
    data = {
        "exchange": "mexc",
        "name": "MEXC Spot Main",
        "market": "spot",
        "api_key": mexc_key(),
        "api_secret": MEXC_SECRET,
        "withdrawal_off_confirmed": "on",
    }
    data.update(overrides)
    return data


# (url name, allowed methods, forbidden method) for every view that takes a connection id.
OBJECT_VIEWS = [
    ("connections:detail", "get", "post"),
    ("connections:rename", "post", "get"),
    ("connections:replace_key", "get", "put"),
    ("connections:delete", "get", "put"),
    ("connections:test", "post", "get"),
    ("connections:status", "get", "post"),
]


@pytest.mark.parametrize(("name", "method", "_"), OBJECT_VIEWS)
def test_anonymous_is_sent_to_login(client, conn, name, method, _):
    response = getattr(client, method)(reverse(name, args=[conn.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(("name", "method", "_"), OBJECT_VIEWS)
def test_another_user_gets_404(bob_client, conn, name, method, _):
    response = getattr(bob_client, method)(reverse(name, args=[conn.pk]), {"name": "x"})
    assert response.status_code == 404
    assert Connection.objects.get(pk=conn.pk).name == "MEXC Spot Main"


@pytest.mark.parametrize(("name", "_", "wrong"), OBJECT_VIEWS)
def test_wrong_method_is_405(alice_client, conn, name, _, wrong):
    assert getattr(alice_client, wrong)(reverse(name, args=[conn.pk])).status_code == 405


@pytest.mark.parametrize("name", ["connections:list", "connections:new"])
def test_list_and_new_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302


def test_list_shows_connections_with_masked_key(alice_client, conn):
    html = alice_client.get(reverse("connections:list")).content.decode()
    assert "MEXC Spot Main" in html
    assert conn.key_hint in html
    assert "Not tested" in html


def test_list_htmx_returns_only_the_table(alice_client, conn):
    html = alice_client.get(reverse("connections:list"), **HTMX).content.decode()
    assert html.lstrip().startswith('<div id="connection-table">')
    assert "<html" not in html


def test_list_rejects_post(alice_client):
    assert alice_client.post(reverse("connections:list")).status_code == 405


def test_list_shows_only_own_connections(alice_client, bob):
    make_connection(bob, name="Bob Secret Connection")
    assert (
        "Bob Secret Connection"
        not in alice_client.get(reverse("connections:list")).content.decode()
    )


def test_new_without_exchange_offers_the_exchanges_and_guide(alice_client, settings):
    settings.EXCHANGE_EGRESS_IPS = ["203.0.113.10"]
    html = alice_client.get(reverse("connections:new")).content.decode()
    assert "?exchange=mexc" in html and "?exchange=kucoin" in html
    assert "Turn withdrawals off for this key." in html
    assert "203.0.113.10" in html and 'data-copy="203.0.113.10"' in html


def test_new_form_for_kucoin_asks_for_passphrase_and_mexc_for_confirmation(alice_client):
    kucoin = alice_client.get(reverse("connections:new"), {"exchange": "kucoin"}).content.decode()
    mexc = alice_client.get(reverse("connections:new"), {"exchange": "mexc"}).content.decode()
    assert 'name="passphrase"' in kucoin and 'name="withdrawal_off_confirmed"' not in kucoin
    assert 'name="passphrase"' not in mexc and 'name="withdrawal_off_confirmed"' in mexc
    assert "MEXC Spot Main" in mexc  # naming suggestions


def test_new_form_htmx_returns_only_the_form(alice_client):
    html = alice_client.get(
        reverse("connections:new"), {"exchange": "mexc"}, **HTMX
    ).content.decode()
    assert html.lstrip().startswith('<section class="card" id="connection-form">')


def test_unknown_exchange_is_a_400_with_the_picker(alice_client):
    response = alice_client.get(reverse("connections:new"), {"exchange": "nope"})
    assert response.status_code == 400
    assert "?exchange=mexc" in response.content.decode()


def test_add_connection_happy_path(alice_client, alice):
    data = mexc_form(api_key="  " + mexc_key() + "\n", api_secret=MEXC_SECRET + " ")
    response = alice_client.post(reverse("connections:new"), data)
    conn = Connection.objects.get(owner=alice)
    assert response.status_code == 303
    assert response["Location"] == reverse("connections:detail", args=[conn.pk])
    assert conn.status == "untested"
    assert conn.api_secret.reveal() == MEXC_SECRET  # whitespace from the paste stripped
    assert conn.api_key.reveal() == data["api_key"].strip()
    assert conn.key_hint == f"{conn.api_key.reveal()[:4]}…{conn.api_key.reveal()[-4:]}"
    assert conn.withdrawal_off_confirmed


def test_name_is_trimmed_and_unique_per_user_case_insensitively(alice_client, alice, conn):
    response = alice_client.post(reverse("connections:new"), mexc_form(name="  mexc spot MAIN "))
    assert response.status_code == 422
    assert "already have a connection with this name" in response.content.decode()
    assert Connection.objects.filter(owner=alice).count() == 1


def test_same_name_is_fine_for_another_user(bob_client, bob, conn):
    response = bob_client.post(reverse("connections:new"), mexc_form(name="MEXC Spot Main"))
    assert response.status_code == 303


def test_own_duplicate_key_is_refused_naming_the_connection(alice_client, alice):
    key = mexc_key()
    assert alice_client.post(reverse("connections:new"), mexc_form(api_key=key)).status_code == 303
    response = alice_client.post(reverse("connections:new"), mexc_form(api_key=key, name="Two"))
    assert response.status_code == 422
    assert "already used by your connection “MEXC Spot Main”" in response.content.decode()
    assert Connection.objects.filter(owner=alice).count() == 1


def test_another_users_key_is_accepted_without_saying_so(alice_client, bob_client, bob):
    # Issue 14, point 10: refusing would confirm the key is registered; the test decides.
    key = mexc_key()
    assert alice_client.post(reverse("connections:new"), mexc_form(api_key=key)).status_code == 303
    response = bob_client.post(
        reverse("connections:new"), mexc_form(api_key=key, name="Mine"), follow=True
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "already" not in body and "alice" not in body and "MEXC Spot Main" not in body
    assert Connection.objects.get(owner=bob).key_verified is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("api_key", "not a key", "does not look like a MEXC API key"),
        ("api_key", "", "This field is required"),
        ("api_secret", "short", "does not look like a MEXC secret key"),
        ("name", "", "This field is required"),
        ("name", "x" * 81, "at most 80 characters"),
        ("name", "bad\x00name", "Null characters are not allowed"),
        ("name", "bell\x07", "control characters"),
        ("market", "options", "Select a valid choice"),
        ("withdrawal_off_confirmed", "", "Confirm that withdrawal is disabled"),
    ],
)
def test_malformed_input_gives_form_errors_not_500(alice_client, alice, field, value, message):
    response = alice_client.post(reverse("connections:new"), mexc_form(**{field: value}))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Connection.objects.filter(owner=alice).exists()


def test_kucoin_passphrase_required(alice_client):
    data = {
        "exchange": "kucoin",
        "name": "KuCoin Futures Conservative",
        "market": "futures",
        "api_key": "6705f5c311545b000157d3eb",
        "api_secret": "f03a5284-5c39-4aaa-9b20-dea10bdcf8e3",
        "passphrase": "",
    }
    response = alice_client.post(reverse("connections:new"), data)
    assert response.status_code == 422
    assert "This field is required" in response.content.decode()


def test_form_errors_never_echo_the_secret(alice_client):
    secret = "ffffeeeeddddccccbbbbaaaa99998888"
    response = alice_client.post(
        reverse("connections:new"), mexc_form(api_key="bad", api_secret=secret)
    )
    assert response.status_code == 422
    assert secret not in response.content.decode()


def test_detail_shows_masked_key_never_the_secret(alice_client, conn):
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert conn.key_hint in html
    assert MEXC_SECRET not in html and conn.api_key not in html
    assert "encrypted, never shown" in html


def test_detail_htmx_returns_the_body_partial(alice_client, conn):
    html = alice_client.get(reverse("connections:detail", args=[conn.pk]), **HTMX).content.decode()
    assert html.lstrip().startswith('<div id="connection-body"')
    assert "<html" not in html


def test_rename(alice_client, conn):
    url = reverse("connections:rename", args=[conn.pk])
    response = alice_client.post(url, {"name": "  KuCoin   Main "})
    assert response.status_code == 303
    conn.refresh_from_db()
    assert conn.name == "KuCoin Main"


def test_rename_htmx_reloads_the_page(alice_client, conn):
    response = alice_client.post(
        reverse("connections:rename", args=[conn.pk]), {"name": "New"}, **HTMX
    )
    assert response["HX-Redirect"] == reverse("connections:detail", args=[conn.pk])


def test_rename_htmx_error_returns_the_form_partial(alice_client, conn):
    response = alice_client.post(
        reverse("connections:rename", args=[conn.pk]), {"name": " "}, **HTMX
    )
    assert response.status_code == 422
    assert response.content.decode().lstrip().startswith('<form id="rename-form"')


def test_rename_to_existing_name_is_refused(alice_client, alice, conn):
    make_connection(alice, name="Other")
    response = alice_client.post(reverse("connections:rename", args=[conn.pk]), {"name": "other"})
    assert response.status_code == 422
    conn.refresh_from_db()
    assert conn.name == "MEXC Spot Main"


def test_replace_key_resets_status_and_keeps_the_connection(alice_client, conn):
    conn.status = "online"
    conn.save()
    new_key = mexc_key()
    response = alice_client.post(
        reverse("connections:replace_key", args=[conn.pk]),
        {"api_key": new_key, "api_secret": "0" * 32, "withdrawal_off_confirmed": "on"},
    )
    assert response.status_code == 303
    conn.refresh_from_db()
    assert conn.status == "untested"
    assert conn.name == "MEXC Spot Main"
    assert conn.api_key.reveal() == new_key
    assert conn.key_replaced_at is not None


def test_replace_key_htmx_and_errors(alice_client, conn):
    url = reverse("connections:replace_key", args=[conn.pk])
    partial = alice_client.get(url, **HTMX).content.decode()
    assert partial.lstrip().startswith('<section class="card" id="replace-form">')
    response = alice_client.post(url, {"api_key": "nope", "api_secret": "x"})
    assert response.status_code == 422


def test_replace_key_with_a_key_of_another_own_connection_is_refused(alice_client, alice, conn):
    other = make_connection(alice, name="Second")
    response = alice_client.post(
        reverse("connections:replace_key", args=[conn.pk]),
        {"api_key": other.api_key, "api_secret": MEXC_SECRET, "withdrawal_off_confirmed": "on"},
    )
    assert response.status_code == 422
    assert "already used by your connection “Second”" in response.content.decode()


def test_replace_key_with_another_users_key_is_accepted_untested(alice_client, bob, conn):
    other = make_connection(bob)
    response = alice_client.post(
        reverse("connections:replace_key", args=[conn.pk]),
        {"api_key": other.api_key, "api_secret": MEXC_SECRET, "withdrawal_off_confirmed": "on"},
    )
    assert response.status_code == 303
    conn.refresh_from_db()
    assert conn.key_fingerprint == other.key_fingerprint and conn.key_verified is False


def test_delete_confirms_then_deletes_and_reminds(alice_client, conn):
    url = reverse("connections:delete", args=[conn.pk])
    page = alice_client.get(url).content.decode()
    assert "delete the API key on MEXC too" in page
    partial = alice_client.get(url, **HTMX).content.decode()
    assert partial.lstrip().startswith('<section class="card" id="delete-confirm">')
    response = alice_client.post(url, follow=True)
    assert not Connection.objects.filter(pk=conn.pk).exists()
    assert "Delete the API key on the exchange too" in response.content.decode()


def test_delete_htmx_redirects_the_page(alice_client, conn):
    response = alice_client.post(reverse("connections:delete", args=[conn.pk]), **HTMX)
    assert response["HX-Redirect"] == reverse("connections:list")


def test_key_is_free_again_after_delete(alice_client, alice, conn):
    key = conn.api_key
    alice_client.post(reverse("connections:delete", args=[conn.pk]))
    response = alice_client.post(reverse("connections:new"), mexc_form(api_key=key))
    assert response.status_code == 303


def test_plaintext_secret_never_appears_in_any_response_of_the_flow(alice_client, alice):
    key, secret = mexc_key(), "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    responses = [alice_client.get(reverse("connections:new"), {"exchange": "mexc"})]
    responses.append(
        alice_client.post(
            reverse("connections:new"), mexc_form(api_key=key, api_secret=secret), follow=True
        )
    )
    conn = Connection.objects.get(owner=alice)
    for name in ("connections:list",):
        responses.append(alice_client.get(reverse(name)))
    for name in (
        "connections:detail",
        "connections:replace_key",
        "connections:delete",
        "connections:status",
    ):
        responses.append(alice_client.get(reverse(name, args=[conn.pk])))
    new_secret = "00112233445566778899aabbccddeeff"
    responses.append(
        alice_client.post(
            reverse("connections:replace_key", args=[conn.pk]),
            {"api_key": mexc_key(), "api_secret": new_secret, "withdrawal_off_confirmed": "on"},
            follow=True,
        )
    )
    responses.append(alice_client.post(reverse("connections:delete", args=[conn.pk]), follow=True))
    for response in responses:
        body = response.content.decode() + str(response.headers)
        assert secret not in body and new_secret not in body
        assert key not in body


def test_unused_keys_are_flagged(alice_client, conn):
    from datetime import timedelta

    from django.utils import timezone

    Connection.objects.filter(pk=conn.pk).update(created_at=timezone.now() - timedelta(days=91))
    html = alice_client.get(reverse("connections:list")).content.decode()
    assert "Unused" in html
    Connection.objects.filter(pk=conn.pk).update(
        created_at=timezone.now(),
        last_tested_at=timezone.now(),
        failing_since=timezone.now() - timedelta(days=31),
    )
    assert Connection.objects.get(pk=conn.pk).is_unused
    Connection.objects.filter(pk=conn.pk).update(failing_since=timezone.now() - timedelta(days=29))
    assert not Connection.objects.get(pk=conn.pk).is_unused


def test_form_errors_keep_the_api_key_but_not_the_secret(alice_client):
    key = mexc_key()
    response = alice_client.post(reverse("connections:new"), mexc_form(api_key=key, name=""))
    assert response.status_code == 422
    html = response.content.decode()
    assert f'value="{key}"' in html and MEXC_SECRET not in html


def test_detail_lists_the_connections_strategies_with_pause_reason(alice_client, alice, conn):

    stored_strategy(
        alice,
        conn,
        name="Paused One",
        margin_limit=100,
        status="paused",
        pause_reason="key_replaced",
    )
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert "Paused One" in html and "The connection&#x27;s API key was replaced" in html
