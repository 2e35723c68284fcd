from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from backfuture.users.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = (
        "email",
        "language",
        "two_factor",
        "connection_count",
        "is_staff",
        "date_joined",
    )
    list_filter = ("is_staff", "is_active", "language")
    search_fields = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Preferences"), {"fields": ("language",)}),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "must_change_password",
                )
            },
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _connections=Count("connections", distinct=True),
                _totp=Exists(
                    Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
                ),
            )
        )

    @admin.display(description=_("connections"), ordering="_connections")
    def connection_count(self, obj) -> int:
        return obj._connections

    @admin.display(description=_("2FA"), boolean=True, ordering="_totp")
    def two_factor(self, obj) -> bool:
        return obj._totp
