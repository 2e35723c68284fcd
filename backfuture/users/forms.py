from __future__ import annotations

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
