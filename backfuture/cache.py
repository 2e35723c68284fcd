"""Cache backends whose values are JSON signed with an HMAC, never pickle (issue 14, point 6).

Django's Redis and database caches pickle every value, so whoever can write to the cache's
Redis (or its table) could run code in any process that reads it, including the worker that
decrypts exchange keys; and the dashboard's cached HTML would be served as trusted markup.
Here a value is stored as `v1:<hmac>:<json>`, with the HMAC (SHA-256, keyed by
`CACHE_SIGNING_KEY`) taken over the full cache key and the JSON, so a value is accepted only
under the key the app wrote it to. Anything else (a planted pickle, an edited value, a value
moved to another key, a value signed with an old key) is a miss, logged at warning without
the value.

Only JSON types can be cached (str, int, float, bool, None, lists and dicts with string keys;
tuples come back as lists). Every value the app and allauth cache is one of these.

An unreachable cache raises `CacheUnavailable`, whatever the backend, so each caller decides
what an outage means for it (docs/security.md, "Cache outage").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import DatabaseError, connections, models, router, transaction
from django.utils.timezone import now as tz_now

logger = logging.getLogger(__name__)

_PREFIX = "v1:"
_INVALID = object()


class CacheUnavailable(Exception):
    """The cache server (or table) could not be reached."""


def seal(key: str, value: Any) -> str:
    """The stored form of `value` under the full cache key `key`."""
    payload = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return f"{_PREFIX}{_mac(key, payload)}:{payload}"


def unseal(key: str, stored: str | bytes) -> Any:
    """The value a sealed string holds, or `_INVALID` when it is not one the app wrote there."""
    if isinstance(stored, bytes):
        try:
            stored = stored.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(key, "not UTF-8")
    if not stored.startswith(_PREFIX):
        return _refuse(key, "not signed")
    mac, _, payload = stored[len(_PREFIX) :].partition(":")
    # Bytes, not str: compare_digest raises on a str with non-ASCII characters, and a planted
    # value must be a miss, never an error.
    if not hmac.compare_digest(mac.encode(), _mac(key, payload).encode()):
        return _refuse(key, "bad signature")
    try:
        return json.loads(payload)
    except ValueError:  # signed by us, so only a change of format could get here
        return _refuse(key, "not JSON")


def _mac(key: str, payload: str) -> str:
    message = key.encode() + b"\0" + payload.encode()
    return hmac.new(settings.CACHE_SIGNING_KEY.encode(), message, hashlib.sha256).hexdigest()


def _refuse(key: str, why: str) -> object:
    # Never the value: it may be an attacker's payload or someone's rendered page.
    logger.warning("cache value under %r refused (%s); treated as a miss", key, why)
    return _INVALID


class _ReportsOutages(BaseCache):
    """Every public operation raises `CacheUnavailable` when the store cannot be reached."""

    unreachable: tuple[type[BaseException], ...] = ()

    @contextmanager
    def _reachable(self, operation: str) -> Iterator[None]:
        try:
            yield
        except self.unreachable as error:
            logger.warning("cache %s failed: %s", operation, type(error).__name__)
            raise CacheUnavailable(str(error)) from error

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._reachable("add"):
            return super().add(key, value, timeout, version)

    def get(self, key, default=None, version=None):
        with self._reachable("get"):
            return super().get(key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._reachable("set"):
            return super().set(key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        with self._reachable("touch"):
            return super().touch(key, timeout, version)

    def delete(self, key, version=None):
        with self._reachable("delete"):
            return super().delete(key, version)

    def get_many(self, keys, version=None):
        with self._reachable("get_many"):
            return super().get_many(keys, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        with self._reachable("set_many"):
            return super().set_many(data, timeout, version)

    def delete_many(self, keys, version=None):
        with self._reachable("delete_many"):
            return super().delete_many(keys, version)

    def has_key(self, key, version=None):
        with self._reachable("has_key"):
            return super().has_key(key, version)

    def clear(self):
        with self._reachable("clear"):
            return super().clear()

    def incr(self, key, delta=1, version=None):
        # Read, add, write: a signed value cannot be incremented by the server. Not atomic;
        # nothing in BackFuture or allauth increments a cached value.
        with self._reachable("incr"):
            return BaseCache.incr(self, key, delta, version)


# --- Redis -----------------------------------------------------------------------------------


class _SignedRedisClient(RedisCacheClient):
    """Django's Redis client with sealed strings in place of its pickle serializer."""

    def add(self, key, value, timeout):
        client = self.get_client(key, write=True)
        stored = seal(key, value)
        if timeout == 0:
            if added := bool(client.set(key, stored, nx=True)):
                client.delete(key)
            return added
        return bool(client.set(key, stored, ex=timeout, nx=True))

    def get(self, key, default):
        stored = self.get_client(key).get(key)
        if stored is None:
            return default
        value = unseal(key, stored)
        return default if value is _INVALID else value

    def set(self, key, value, timeout):
        client = self.get_client(key, write=True)
        if timeout == 0:
            client.delete(key)
        else:
            client.set(key, seal(key, value), ex=timeout)

    def get_many(self, keys):
        keys = list(keys)
        found = {}
        for key, stored in zip(keys, self.get_client(None).mget(keys), strict=True):
            if stored is not None and (value := unseal(key, stored)) is not _INVALID:
                found[key] = value
        return found

    def set_many(self, data, timeout):
        pipeline = self.get_client(None, write=True).pipeline()
        pipeline.mset({key: seal(key, value) for key, value in data.items()})
        if timeout is not None:
            for key in data:
                pipeline.expire(key, timeout)
        pipeline.execute()

    def incr(self, key, delta):
        raise NotImplementedError("signed values are incremented by _ReportsOutages.incr")


# Writes the guarded value (unless ARGV[1] is empty) and deletes the lock only if it still
# holds our token: what `set` then `get`-compare-`delete` did, in one round trip.
_WRITE_AND_UNLOCK = """
if ARGV[1] ~= '' then
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
if redis.call('GET', KEYS[2]) == ARGV[3] then
    redis.call('DEL', KEYS[2])
end
return 0
"""


class SignedRedisCache(_ReportsOutages, RedisCache):
    """Redis cache with signed JSON values; see the module docstring.

    Two extras for a short critical section over one value (connections/throttle.py), each
    one round trip where `add`, `get`, `set`, `get` and `delete` take five:
    `lock_and_get` and `write_and_unlock`.
    """

    def lock_and_get(self, lock: str, token: str, lock_timeout: int, key: str):
        """`add(lock, token, lock_timeout)` and, if it added, `get(key)`: (added, value)."""
        lock_key = self.make_and_validate_key(lock)
        full_key = self.make_and_validate_key(key)
        with self._reachable("lock_and_get"):
            pipeline = self._cache.get_client(lock_key, write=True).pipeline(transaction=False)
            pipeline.set(lock_key, seal(lock_key, token), ex=lock_timeout, nx=True)
            pipeline.get(full_key)
            added, stored = pipeline.execute()
        if not added:
            return False, None
        if stored is None:
            return True, None
        value = unseal(full_key, stored)
        return True, None if value is _INVALID else value

    def write_and_unlock(self, lock: str, token: str, key: str, value=None, timeout: int = 0):
        """`set(key, value, timeout)` (seconds, > 0) unless `value` is None, then release
        `lock` if it still holds `token` (a lock that outlived its timeout, now another
        caller's, is left)."""
        lock_key = self.make_and_validate_key(lock)
        full_key = self.make_and_validate_key(key)
        stored = "" if value is None else seal(full_key, value)
        with self._reachable("write_and_unlock"):
            client = self._cache.get_client(lock_key, write=True)
            script = self.__dict__.get("_write_and_unlock")
            if script is None:
                script = self._write_and_unlock = client.register_script(_WRITE_AND_UNLOCK)
            script(
                keys=[full_key, lock_key],
                args=[stored, int(timeout), seal(lock_key, token)],
                client=client,
            )

    def __init__(self, server, params):
        super().__init__(server, params)
        import redis

        self._class = _SignedRedisClient
        # The client's serializer is never used; no setting may bring pickle back.
        self._options = {k: v for k, v in self._options.items() if k != "serializer"}
        self.unreachable = (redis.exceptions.RedisError,)


# --- Database (the embedded default) ---------------------------------------------------------


class SignedDatabaseCache(_ReportsOutages, DatabaseCache):
    """Django's database cache storing sealed strings instead of base64 pickles.

    `get_many` and `_base_set` are Django 5.2's, with only the value's encoding changed.
    """

    unreachable = (DatabaseError,)

    def get_many(self, keys, version=None):
        with self._reachable("get_many"):
            return self._get_many(keys, version)

    def _get_many(self, keys, version=None):
        if not keys:
            return {}
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        db = router.db_for_read(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        table = quote_name(self._table)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT {}, {}, {} FROM {} WHERE {} IN ({})".format(  # noqa: S608 (quoted names)
                    quote_name("cache_key"),
                    quote_name("value"),
                    quote_name("expires"),
                    table,
                    quote_name("cache_key"),
                    ", ".join(["%s"] * len(key_map)),
                ),
                list(key_map),
            )
            rows = cursor.fetchall()
        result = {}
        expired_keys = []
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        for key, stored, expires in rows:
            for converter in converters:
                expires = converter(expires, expression, connection)
            if expires < tz_now():
                expired_keys.append(key)
                continue
            value = unseal(key, connection.ops.process_clob(stored))
            if value is not _INVALID:
                result[key_map.get(key)] = value
        self._base_delete_many(expired_keys)
        return result

    def _base_set(self, mode, key, value, timeout=DEFAULT_TIMEOUT):
        timeout = self.get_backend_timeout(timeout)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        table = quote_name(self._table)
        stored = seal(key, value) if mode != "touch" else ""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (quoted name)
            num = cursor.fetchone()[0]
            now = tz_now().replace(microsecond=0)
            if timeout is None:
                exp = datetime.max
            else:
                exp = datetime.fromtimestamp(timeout, tz=UTC if settings.USE_TZ else None)
            exp = exp.replace(microsecond=0)
            if num > self._max_entries:
                self._cull(db, cursor, now, num)
            try:
                with transaction.atomic(using=db):
                    cursor.execute(
                        "SELECT {}, {} FROM {} WHERE {} = %s".format(  # noqa: S608
                            quote_name("cache_key"),
                            quote_name("expires"),
                            table,
                            quote_name("cache_key"),
                        ),
                        [key],
                    )
                    result = cursor.fetchone()
                    if result:
                        current_expires = result[1]
                        expression = models.Expression(output_field=models.DateTimeField())
                        for converter in connection.ops.get_db_converters(
                            expression
                        ) + expression.get_db_converters(connection):
                            current_expires = converter(current_expires, expression, connection)
                    exp = connection.ops.adapt_datetimefield_value(exp)
                    if result and mode == "touch":
                        cursor.execute(
                            "UPDATE {} SET {} = %s WHERE {} = %s".format(  # noqa: S608
                                table, quote_name("expires"), quote_name("cache_key")
                            ),
                            [exp, key],
                        )
                    elif result and (mode == "set" or (mode == "add" and current_expires < now)):
                        cursor.execute(
                            "UPDATE {} SET {} = %s, {} = %s WHERE {} = %s".format(  # noqa: S608
                                table,
                                quote_name("value"),
                                quote_name("expires"),
                                quote_name("cache_key"),
                            ),
                            [stored, exp, key],
                        )
                    elif mode != "touch":
                        cursor.execute(
                            "INSERT INTO {} ({}, {}, {}) VALUES (%s, %s, %s)".format(  # noqa: S608
                                table,
                                quote_name("cache_key"),
                                quote_name("value"),
                                quote_name("expires"),
                            ),
                            [key, stored, exp],
                        )
                    else:
                        return False  # touch failed
            except DatabaseError:
                # As in Django: to be thread-safe, updates and inserts may fail silently.
                return False
            return True


__all__ = ["CacheUnavailable", "SignedDatabaseCache", "SignedRedisCache", "seal", "unseal"]
