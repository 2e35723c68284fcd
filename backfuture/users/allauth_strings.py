"""Sentences of django-allauth (65.22) that our catalogue translates again.

allauth's German addresses people as "du"; BackFuture says "Sie" everywhere. Our locale/ is in
LOCALE_PATHS, which Django searches before any app's catalogue, so a translation of the same
msgid in our catalogue wins. Listing the msgids here, exactly as allauth writes them, is what
puts them into our catalogue when `makemessages` runs. The pages themselves are our own
templates (templates/account/, templates/mfa/) with our own sentences.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

ALLAUTH_MSGIDS = (
    # Form and adapter errors shown on the account pages.
    gettext_noop("Please type your current password."),
    gettext_noop("You must type the same password each time."),
    gettext_noop("Be patient, you are sending too many requests."),
    gettext_noop("You cannot remove your primary email address."),
    gettext_noop("You cannot add more than %d email addresses."),
    gettext_noop("Your primary email address must be verified."),
    gettext_noop("Please select only one."),
    # Account emails.
    gettext_noop("Please Confirm Your Email Address"),
    gettext_noop("Thank you for using %(site_name)s!\n%(site_domain)s"),
    gettext_noop("Your password has been changed."),
    gettext_noop(
        "You're receiving this email because you or someone else has requested a password "
        "reset for your user account.\nIt can be safely ignored if you did not request a "
        "password reset. Click the link below to reset your password."
    ),
)
