"""System checks for a production deployment (`manage.py check`, `check --deploy`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def check_redis_password(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Whoever reaches an open Redis can read the queue and empty the rate limits."""
    if settings.DEBUG:
        return []
    urls = {
        "REDIS_URL": getattr(settings, "REDIS_URL", ""),
        "CELERY_BROKER_URL": getattr(settings, "CELERY_BROKER_URL", ""),
        **{
            f"CACHES[{alias!r}]": str(config.get("LOCATION", ""))
            for alias, config in settings.CACHES.items()
            if "redis" in config.get("BACKEND", "").lower()
        },
    }
    open_ones = [
        name
        for name, url in urls.items()
        if urlsplit(url).scheme in {"redis", "rediss"} and not urlsplit(url).password
    ]
    if not open_ones:
        return []
    return [
        checks.Warning(
            f"{', '.join(open_ones)} connects to Redis without a password.",
            hint="Require a password on Redis (requirepass or an ACL user) and put it in the "
            "URL: rediss://:password@host:6380/0. See the production checklist in "
            "docs/security.md.",
            id="backfuture.W101",
        )
    ]


@checks.register(checks.Tags.security)
def check_trusted_proxy_count(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Unset, every client behind the proxy shares its address and one login limit."""
    if settings.DEBUG or settings.TRUSTED_PROXY_COUNT is not None:
        return []
    return [
        checks.Warning(
            "TRUSTED_PROXY_COUNT is not set.",
            hint="Set it to the number of reverse proxies in front of the app that append to "
            "X-Forwarded-For (0 if clients connect directly). Behind a proxy, leaving it unset "
            "lets anyone lock every user out of login.",
            id="backfuture.W102",
        )
    ]
