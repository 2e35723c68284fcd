from __future__ import annotations

from allauth.account.signals import password_changed, password_reset
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from backfuture.users.services import user_password_chosen


@receiver(user_logged_in)
def remember_language_cookie(sender, request, user, **kwargs) -> None:
    """After login the saved preference wins over whatever the visitor browsed in.

    The middleware activates it per request; marking the request lets the response also set
    the language cookie so the choice survives logging out on this browser.
    """
    if user.language:
        request._set_language_cookie = user.language


@receiver(password_changed)
@receiver(password_reset)
def clear_forced_password_change(sender, request, user, **kwargs) -> None:
    user_password_chosen(user=user)
