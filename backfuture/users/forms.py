from __future__ import annotations

from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.account.forms import ResetPasswordKeyForm as AllauthResetPasswordKeyForm
from allauth.mfa.totp.forms import DeactivateTOTPForm as AllauthDeactivateTOTPForm
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False, max_length=2000)


class DeactivateTOTPForm(AllauthDeactivateTOTPForm):
    """Staff and superusers keep TOTP: the admin needs it (issue 14, finding 1).

    Refusing outright, rather than only asking to re-authenticate, means a stolen staff session
    or password can never switch the second factor off. A superuser removes the staff status
    first if someone really must go without it.
    """

    def clean(self):
        user = self.authenticator.user
        if user.is_staff or user.is_superuser:
            raise forms.ValidationError(
                _(
                    "Staff accounts must keep two-factor authentication. Ask an administrator "
                    "to remove your staff access first."
                ),
                code="staff_requires_totp",
            )
        return super().clean()


class NewPasswordMixin:
    """A new password must differ from the current one.

    Otherwise a support user's forced change (their one-time password, printed on an operator's
    terminal) could "change" it to itself and keep it for good (issue 14, found in review).
    """

    def clean_password1(self):
        password = self.cleaned_data.get("password1", "")
        if self.user is not None and password and self.user.check_password(password):
            raise forms.ValidationError(
                _("Choose a new password, different from your current one."),
                code="password_unchanged",
            )
        return password


class ChangePasswordForm(NewPasswordMixin, AllauthChangePasswordForm):
    pass


class ResetPasswordKeyForm(NewPasswordMixin, AllauthResetPasswordKeyForm):
    pass
