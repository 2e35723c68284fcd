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
