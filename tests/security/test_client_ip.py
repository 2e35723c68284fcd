"""Failed-login limits key on the client's address as our proxies saw it (issue 14, point 4).

Behind a reverse proxy every request comes from the proxy's address; keyed on REMOTE_ADDR, five
failed logins for random emails locked every user out. The address now comes from the entry
the outermost trusted proxy appended to X-Forwarded-For (TRUSTED_PROXY_COUNT); entries a
client adds to the left of it are ignored.
"""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from backfuture.users.adapter import client_ip
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # the reverse proxy: REMOTE_ADDR of every request


def behind_proxy(forwarded_for: str) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


def fail_logins(client: Client, count: int, *, forwarded_for=None) -> None:
    for attempt in range(count):
        extra = {"HTTP_X_FORWARDED_FOR": forwarded_for(attempt)} if forwarded_for else {}
        client.post(
            reverse("account_login"),
            {"login": f"nobody-{attempt}@example.com", "password": "wrong"},
            **extra,
        )


def login(client: Client, email: str, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": PASSWORD}, **extra)


def test_two_clients_behind_one_proxy_do_not_share_a_login_limit(settings, alice):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = behind_proxy("198.51.100.7")
    fail_logins(attacker, 5)
    # The attacker's own address is limited...
    refused = login(attacker, alice.email)
    assert "Too many failed login attempts" in refused.content.decode()
    # ...but alice, behind the same proxy, still logs in.
    alice_browser = behind_proxy("203.0.113.50")
    assert login(alice_browser, alice.email).status_code == 302
    assert alice_browser.session.get("_auth_user_id") == str(alice.pk)


def test_a_forged_leftmost_forwarded_for_entry_does_not_evade_the_limit(settings, alice):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = Client(REMOTE_ADDR=PROXY)
    # The client writes any address it likes; our proxy appends the one it saw.
    fail_logins(attacker, 5, forwarded_for=lambda n: f"192.0.2.{n}, 198.51.100.7")
    refused = login(attacker, alice.email, HTTP_X_FORWARDED_FOR="192.0.2.99, 198.51.100.7")
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in attacker.session


@pytest.mark.parametrize(
    ("count", "header", "expected"),
    [
        (0, "198.51.100.7", PROXY),  # no trusted proxy: the header is the client's own words
        (1, "", PROXY),  # a request that did not come through the proxy
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6,198.51.100.7 ", "198.51.100.7"),
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
        (2, "198.51.100.7", "198.51.100.7"),  # entered behind the outer proxy
        (1, "not-an-address", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
        # Some load balancers add the client's port: still one address per client.
        (1, "198.51.100.7:5678", "198.51.100.7"),
        (1, "[2001:db8::1]:443", "2001:db8::1"),
        (1, "[not-an-address]:443", PROXY),
    ],
)
def test_client_ip_takes_the_entry_of_the_outermost_trusted_proxy(
    settings, count, header, expected
):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected


def test_unset_trusted_proxy_count_uses_the_connection_address(settings):
    settings.TRUSTED_PROXY_COUNT = None
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert client_ip(request) == PROXY
