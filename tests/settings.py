"""Test configuration: the development defaults of backfuture/settings.py, plus speed-ups.

DATABASE_URL and REDIS_URL from the environment still apply, so CI runs the same suite against
PostgreSQL and Redis.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")

from backfuture.settings import *  # noqa: F403

# Hashing passwords slowly is the point in production and a waste in tests.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEMO_EXCHANGE_ENABLED = True
EXCHANGE_EGRESS_IPS = ["203.0.113.10", "203.0.113.11"]

if not REDIS_URL:  # noqa: F405
    # The embedded default's database cache needs a table per test database; in-memory is
    # equivalent for tests (CI exercises the Redis cache).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
