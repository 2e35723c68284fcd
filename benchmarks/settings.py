"""Settings for the benchmarks: production mode (DEBUG off) on PostgreSQL and Redis, so the
figures are those of a deployment, with only what loopback HTTP and a throwaway database need.

DATABASE_URL and REDIS_URL come from the environment as usual; every other production
variable gets a benchmark-only default below.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DJANGO_DEBUG", "false")
# Benchmark-only values: they protect nothing but simulator keys in a throwaway database.
os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-not-for-any-deployment-2f9a")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "GzNmTa3-RbZ9zAyPzJePR-737Moas7I9Gsh1CTpWgEU=")
os.environ.setdefault("FINGERPRINT_KEYS", "benchmark-only-fingerprint-key-not-for-deployment-7c1e")
os.environ.setdefault("EMAIL_URL", "dummymail://")
os.environ.setdefault(
    "CACHE_SIGNING_KEY", "benchmark-only-cache-signing-key-not-for-deployment-7c1e"
)
os.environ.setdefault("TRUSTED_PROXY_COUNT", "0")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

from backfuture.settings import *  # noqa: F403

# The product's URLs plus one trivial view, the throughput baseline (never in the product).
ROOT_URLCONF = "benchmarks.urls"

# Plain HTTP on loopback: no secure-only cookies; static files straight from the finders, so
# no collectstatic is needed.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Users are created by the thousand; hashing their passwords slowly measures nothing.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The benchmarks create, and reuse, their own database next to the configured one, so they
# never touch the data of DATABASE_URL nor the test database pytest uses.
DATABASES["default"]["TEST"] = {"NAME": f"{DATABASES['default']['NAME']}_bench"}  # noqa: F405

# A Redis database of their own (13, or BENCHMARK_REDIS_DB for a second benchmark beside the
# first): a development worker, or the integration tests' worker (which purges its queue), on
# the same server never takes or drops the benchmarks' tasks.
if REDIS_URL:  # noqa: F405
    _redis_db = env.int("BENCHMARK_REDIS_DB", default=13)  # noqa: F405
    REDIS_URL = urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{_redis_db}"))  # noqa: F405
    CELERY_BROKER_URL = REDIS_URL
    # The product's cache (signed JSON values, backfuture/cache.py), on that database.
    CACHES = {"default": {**CACHES["default"], "LOCATION": REDIS_URL}}  # noqa: F405
