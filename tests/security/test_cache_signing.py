"""No cache value is unpickled, and no cached markup is trusted unless the app wrote it
(issue 14, point 6).

Django's caches pickled every value: a pickle planted in Redis under a throttle key ran a
command in the worker that decrypts exchange keys, and planted dashboard HTML was served as
trusted markup. Values are now signed JSON (backfuture/cache.py); anything else is a miss.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.core.management import call_command
from django.urls import reverse

from backfuture.cache import SignedDatabaseCache, SignedRedisCache, seal, unseal
from connections import throttle
from tests.conftest import PASSWORD, services_required
from tests.connections.factories import make_connection

pytestmark = pytest.mark.django_db


class Planted:
    """What an attacker with write access to the cache stores: unpickling runs `touch`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def redis_cache():
    if not isinstance(caches["default"], SignedRedisCache):
        if services_required():
            pytest.fail("the test settings should use Redis when REDIS_URL is set")
        pytest.skip("needs REDIS_URL")
    return caches["default"]


def plant(backend: SignedRedisCache, key: str, raw: bytes) -> None:
    backend._cache.get_client(write=True).set(backend.make_key(key), raw)


@pytest.mark.parametrize("mac", ["é" * 64, "\u0000", "0" * 63 + "é"])
def test_a_non_ascii_signature_is_a_miss_not_an_error(redis_cache, mac):
    # hmac.compare_digest raises TypeError on a str with non-ASCII characters.
    plant(redis_cache, "throttle:v1:mexc", f'v1:{mac}:{{"x": 1}}'.encode())
    assert cache.get("throttle:v1:mexc") is None
    assert throttle.take_slot("mexc", recheck=False, max_wait=None)[0] == 0.0


def test_a_pickle_under_a_throttle_key_runs_nothing_and_is_a_miss(redis_cache, tmp_path, caplog):
    marker = tmp_path / "pwned"
    plant(redis_cache, "throttle:v1:mexc", pickle.dumps(Planted(marker)))
    with caplog.at_level(logging.WARNING, logger="backfuture.cache"):
        assert cache.get("throttle:v1:mexc") is None
        # The worker's path: the throttle reads its state and carries on as if it were empty.
        assert throttle.take_slot("mexc", recheck=False, max_wait=None)[0] == 0.0
    assert not marker.exists()
    assert "refused" in caplog.text and "pwned" not in caplog.text


def dashboard_key(backend) -> str:
    client = backend._cache.get_client()
    (key,) = [k.decode() for k in client.keys("*dashboard:*")]
    return key


def test_a_pickle_under_a_dashboard_key_runs_nothing_and_is_a_miss(
    redis_cache, alice_client, alice, tmp_path
):
    make_connection(alice, name="Main account")
    assert "Main account" in alice_client.get(reverse("home")).content.decode()
    key = dashboard_key(redis_cache)
    marker = tmp_path / "pwned"
    redis_cache._cache.get_client(write=True).set(key, pickle.dumps(Planted(marker)))
    page = alice_client.get(reverse("home")).content.decode()
    assert not marker.exists()
    assert "Main account" in page  # rendered afresh


@pytest.mark.parametrize("how", ["edited", "unsigned", "plain pickle of a string"])
def test_tampered_dashboard_html_is_not_served(redis_cache, alice_client, alice, how):
    make_connection(alice, name="Main account")
    alice_client.get(reverse("home"))
    key = dashboard_key(redis_cache)
    client = redis_cache._cache.get_client(write=True)
    stored = client.get(key).decode()
    injected = '<script src="https://evil.example/x.js"></script>'
    if how == "edited":  # the app's signature kept, the HTML changed
        forged = stored.replace("Main account", "Main account" + injected.replace('"', '\\"'))
        assert forged != stored
    elif how == "unsigned":
        forged = "v1:" + "0" * 64 + ":" + '"' + injected.replace('"', '\\"') + '"'
    else:  # what Django's own Redis cache would have stored and served
        forged = pickle.dumps(injected)
    client.set(key, forged)
    page = alice_client.get(reverse("home")).content.decode()
    assert "evil.example" not in page
    assert "Main account" in page


def test_one_users_cached_cards_moved_to_another_users_key_are_a_miss(
    redis_cache, alice_client, alice, bob_client, bob
):
    make_connection(alice, name="Alice main account")
    alice_client.get(reverse("home"))
    alice_key = dashboard_key(redis_cache)
    client = redis_cache._cache.get_client(write=True)
    alice_cards = client.get(alice_key)
    client.delete(alice_key)
    bob_client.get(reverse("home"))
    bob_key = dashboard_key(redis_cache)
    # Served as it is, the planted value would show here (the check below is not vacuous).
    assert "Alice main account" in unseal(alice_key, alice_cards)
    client.set(bob_key, alice_cards)
    assert "Alice main account" not in bob_client.get(reverse("home")).content.decode()


def test_allauth_rate_limits_work_on_signed_json(redis_cache, client, alice):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": alice.email, "password": "wrong"})
    response = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    stored = [
        redis_cache._cache.get_client().get(k)
        for k in redis_cache._cache.get_client().keys("*allauth:rl:*")
    ]
    assert stored and all(value.startswith(b"v1:") for value in stored)


def test_sealed_values_round_trip_as_json_and_bind_to_their_key(settings):
    for value in (None, True, 1, 1.5, "text", [1.0, 2.0], {"bucket": 3.25}):
        assert unseal(":1:k", seal(":1:k", value)) == value
    sealed = seal(":1:k", "value")
    assert unseal(":1:other", sealed) != "value"
    settings.CACHE_SIGNING_KEY = "another key"
    assert unseal(":1:k", sealed) != "value"  # a new key empties the cache


def test_the_database_cache_refuses_planted_pickles(settings, tmp_path):
    settings.CACHES = {
        "default": {
            "BACKEND": "backfuture.cache.SignedDatabaseCache",
            "LOCATION": "test_signed_cache",
        }
    }
    call_command("createcachetable", verbosity=0)
    backend = caches["default"]
    assert isinstance(backend, SignedDatabaseCache)
    backend.set("plain", {"a": [1, 2]})
    assert backend.get("plain") == {"a": [1, 2]}
    assert backend.add("lock", "token", 5) and not backend.add("lock", "other", 5)
    assert backend.get_many(["plain", "lock", "none"]) == {"plain": {"a": [1, 2]}, "lock": "token"}

    import base64

    from django.db import connection

    marker = tmp_path / "pwned"
    planted = base64.b64encode(pickle.dumps(Planted(marker))).decode()  # Django's own format
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE test_signed_cache SET value = %s WHERE cache_key = %s",
            [planted, backend.make_key("plain")],
        )
    assert backend.get("plain") is None
    assert not marker.exists()
