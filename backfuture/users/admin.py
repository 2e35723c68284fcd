from __future__ import annotations

from allauth.account.admin import EmailAddressAdmin as BaseEmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db.models import Count, Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from backfuture.admin_lookups import ShownLookupsOnlyMixin
from backfuture.users.models import User


@admin.register(User)
class UserAdmin(ShownLookupsOnlyMixin, BaseUserAdmin):
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


# Django's and allauth's own admins, re-registered so they refuse lookups on hidden fields too
# (backfuture/admin_lookups.py). INSTALLED_APPS lists them before this app, so they are
# registered by the time this module is imported.
admin.site.unregister(Group)
admin.site.unregister(EmailAddress)
admin.site.unregister(Authenticator)


@admin.register(Group)
class GroupAdmin(ShownLookupsOnlyMixin, BaseGroupAdmin):
    pass


@admin.register(EmailAddress)
class EmailAddressAdmin(ShownLookupsOnlyMixin, BaseEmailAddressAdmin):
    pass


@admin.register(Authenticator)
class AuthenticatorAdmin(ShownLookupsOnlyMixin, admin.ModelAdmin):
    """Which two-factor methods a user has; never their secrets.

    `data` holds the (encrypted) TOTP secret and recovery-code seed, so it is neither shown nor
    editable. Deleting an authenticator stays possible: it is how a superuser resets the
    two-factor login of someone who lost their device.
    """

    raw_id_fields = ("user",)
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type", "created_at", "last_used_at")
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
