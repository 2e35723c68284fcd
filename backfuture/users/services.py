from __future__ import annotations

from django.conf import settings

from backfuture.users.models import User


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unsupported language {language!r}")
    user.language = language
    user.save(update_fields=["language"])


def user_password_chosen(*, user: User) -> None:
    """The user set a password of their own: a one-time password no longer needs changing."""
    if user.must_change_password:
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])
