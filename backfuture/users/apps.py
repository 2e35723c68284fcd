from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "backfuture.users"
    label = "users"
    verbose_name = _("Users")

    def ready(self) -> None:
        from backfuture import checks  # noqa: F401  (registers the production checks)
        from backfuture.users import signals  # noqa: F401  (connects the login receiver)

        _norwegian_is_bokmal()


def _norwegian_is_bokmal() -> None:
    """Browsers ask for Norwegian as "nb", "no" or "nn"; we speak Bokmål ("nb"), which readers
    of Nynorsk read too. Django follows a language's "fallback" when it picks one from the
    Accept-Language header or the cookie (`get_supported_language_variant`)."""
    from django.conf.locale import LANG_INFO

    for code in ("no", "nn"):
        LANG_INFO[code] = {**LANG_INFO[code], "fallback": ["nb"]}
