"""Account pages in a real browser, production mode: log in, sign up, password reset, password
change and two-factor setup with invalid values show their errors, styled, in English and
German (issue 19, point 11)."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import new_page, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]

LOCALES = {"en": "en-US", "de": "de-DE"}
HEADINGS = {"en": "Log in", "de": "Anmelden"}


def said(language: str, msgid: str) -> str:
    """What the server says for `msgid` in `language`, from the same catalogues."""
    with translation.override(language):
        return translation.gettext(msgid)


def summary(page):
    box = page.locator("main .error-summary")
    expect(box).to_be_visible()
    return box


@pytest.mark.parametrize("language", ["en", "de"])
def test_account_forms_show_their_errors(app, browser, alice, language):
    page = new_page(browser, locale=LOCALES[language])
    try:
        # Log in with a wrong password: one message on top, the email stays filled in.
        page.goto(f"{app.url}/accounts/login/")
        expect(page.locator("header.site-header")).to_be_visible()
        expect(page.locator("main h1")).to_have_text(said(language, "Log in"))
        expect(page.get_by_text("Sign In")).to_have_count(0)
        page.fill("input[name=login]", alice.email)
        page.fill("input[name=password]", "not the password")
        page.click("main form.auth-form button[type=submit]")
        expect(summary(page)).to_contain_text(
            said(language, "The email address and/or password you specified are not correct.")
        )
        expect(page.locator("input[name=login]")).to_have_value(alice.email)
        screenshot(page, f"account-login-error-{language}")

        # Sign up with an invalid email and two different passwords: each error by its field.
        page.goto(f"{app.url}/accounts/signup/")
        page.fill("input[name=email]", "not-an-email")
        page.fill("input[name=password1]", PASSWORD)
        page.fill("input[name=password2]", PASSWORD + " but different")
        page.click("main form.auth-form button[type=submit]")
        invalid_email = said(language, "Enter a valid email address.")
        expect(summary(page)).to_contain_text(invalid_email)
        email_field = page.locator(".field.has-error", has=page.locator("input[name=email]"))
        expect(email_field.locator(".errorlist")).to_have_text(invalid_email)
        expect(page.locator("main")).to_contain_text(
            said(language, "You must type the same password each time.")
        )
        screenshot(page, f"account-signup-errors-{language}")

        # Password reset with something that is not an email address.
        page.goto(f"{app.url}/accounts/password/reset/")
        page.fill("input[name=email]", "nobody")
        page.click("main form.auth-form button[type=submit]")
        expect(summary(page)).to_contain_text(invalid_email)
        expect(page.locator("input[name=email]")).to_have_value("nobody")
        screenshot(page, f"account-reset-error-{language}")

        # A valid request lands on the styled "check your email" page.
        page.fill("input[name=email]", alice.email)
        page.click("main form.auth-form button[type=submit]")
        expect(page).to_have_url(re.compile(r"/accounts/password/reset/done/$"))
        expect(page.locator("main h1")).to_have_text(said(language, "Check your email"))
        screenshot(page, f"account-reset-sent-{language}")
    finally:
        page.context.close()


def log_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form.auth-form button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def confirm_password_if_asked(page) -> None:
    """allauth asks for the password again before security settings change."""
    if "/reauthenticate/" in page.url:
        page.fill("input[name=password]", PASSWORD)
        page.click("main form.auth-form button[type=submit]")
        expect(page).not_to_have_url(re.compile(r"/reauthenticate/"))


@pytest.mark.parametrize("language", ["en", "de"])
def test_signed_in_account_forms_show_their_errors(app, browser, alice, language):
    """Changing the password with a wrong current one, and turning on two-factor login with a
    wrong code: each error shows beside its field, in the person's language."""
    page = new_page(browser, locale=LOCALES[language])
    try:
        log_in(page, app.url, alice.email)

        page.goto(f"{app.url}/accounts/password/change/")
        page.fill("input[name=oldpassword]", "not my current password")
        page.fill("input[name=password1]", "a brand new passphrase 2026")
        page.fill("input[name=password2]", "a brand new passphrase 2026")
        page.click("main form.auth-form button[type=submit]")
        wrong = said(language, "Please type your current password.")
        expect(summary(page)).to_contain_text(wrong)
        old_field = page.locator(".field.has-error", has=page.locator("input[name=oldpassword]"))
        expect(old_field.locator(".errorlist")).to_have_text(wrong)
        screenshot(page, f"account-password-change-error-{language}")

        page.goto(f"{app.url}/accounts/2fa/totp/activate/")
        confirm_password_if_asked(page)
        expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
        page.fill("input[name=code]", "000000")
        page.click("main form.auth-form button[type=submit]")
        incorrect = said(language, "Incorrect code.")
        expect(summary(page)).to_contain_text(incorrect)
        code_field = page.locator(".field.has-error", has=page.locator("input[name=code]"))
        expect(code_field.locator(".errorlist")).to_have_text(incorrect)
        screenshot(page, f"account-totp-code-error-{language}")
    finally:
        page.context.close()
