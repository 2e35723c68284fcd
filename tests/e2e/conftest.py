"""Browser tests: Playwright driving Debian's Chromium against the real app on localhost,
with a real Celery worker and the local exchange simulator."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from tests.conftest import PASSWORD, services_required, verify_email
from tests.integration.conftest import celery_worker, exchange_urls, simulator  # noqa: F401

# Playwright's sync API keeps an event loop on the test thread; the ORM calls the tests make
# between page actions are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
SCREENSHOTS = Path(settings.BASE_DIR) / "test-results" / "e2e"
# Flags this sandbox needs: no GPU, no sandbox as root, and no background calls to Google.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if services_required():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def app(live_server, celery_worker, exchange_urls, settings):  # noqa: F811
    """The running product in production mode: web (live server), worker and simulator.

    `DEBUG` is off, as production runs it: Django's own error pages, no django-htmx debug
    script (which would hide htmx error answers behind its own handler), real 404/500 pages.
    """
    settings.DEBUG = False
    settings.EXCHANGE_EGRESS_IPS = ["203.0.113.10", "203.0.113.11"]
    settings.CONNECTION_TEST_COOLDOWN = 0
    return live_server


# Console errors of every page a test opened, by page: a Content-Security-Policy violation
# (an inline style set by a live update, an inline script) is a failure wherever it happens.
CONSOLE_ERRORS: dict = {}


def watch_console(page):
    errors = CONSOLE_ERRORS.setdefault(page, [])
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return page


def csp_violations(*pages) -> list[str]:
    return [
        text
        for page in pages
        for text in CONSOLE_ERRORS.get(page, [])
        if "Content Security Policy" in text
    ]


def new_page(browser, *, locale: str = "en-US"):
    context = browser.new_context(locale=locale, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(20_000)
    context.on("page", watch_console)
    return context.new_page()


@pytest.fixture
def page(browser):
    page = new_page(browser)
    yield page
    pages = list(page.context.pages)
    page.context.close()
    violations = csp_violations(*pages)
    for each in pages:
        CONSOLE_ERRORS.pop(each, None)
    assert not violations, violations


@pytest.fixture
def web(live_server, settings):
    """The web app alone, in production mode (DEBUG off), without a worker or simulator."""
    settings.DEBUG = False
    settings.DEMO_EXCHANGE_ENABLED = True
    settings.EXCHANGE_EGRESS_IPS = ["203.0.113.10", "203.0.113.11"]
    return live_server


def signed_in_page(browser, base_url: str, email: str = "forms@example.com"):
    """A browser page signed in as a new user with a confirmed address, without the sign-up
    walk (for tests about one page, where the sign-up is not the subject)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_user(email=email, password=PASSWORD)
    verify_email(user)
    client = Client()
    client.force_login(user)
    page = new_page(browser)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": base_url}])
    return page


def assert_production_mode(page) -> None:
    """DEBUG is off: htmx is on the page, django-htmx's debug script (which replaces the page
    with any error answer) is not."""
    expect(page.locator("script[src*='htmx-2']")).to_have_count(1)
    expect(page.locator("script[src*='django-htmx.js']")).to_have_count(0)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_up(page, base_url: str, email: str) -> None:
    """Sign up and confirm the address in the same browser, as a new user does."""
    page.goto(f"{base_url}/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("main form [type=submit]")
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    page.goto(base_url + confirmation_path(email))
    page.click("main form [type=submit]")
    # The dashboard, in the language the page is in.
    with translation.override(page.locator("html").get_attribute("lang")):
        heading = translation.gettext("Dashboard")
    expect(page.locator("main h1")).to_have_text(heading)


def confirmation_path(email: str) -> str:
    """The link of the confirmation mail. Built from allauth's signed key rather than read
    from the mail, so it does not matter which process sends the mail
    (tests/security/test_account_security.py reads the mail itself)."""
    from allauth.account.models import EmailAddress, EmailConfirmationHMAC
    from django.urls import reverse

    address = EmailAddress.objects.get(email=email.lower())
    return reverse("account_confirm_email", args=[EmailConfirmationHMAC(address).key])


def add_connection(page, base_url: str, key, *, exchange: str, name: str, market: str = "spot"):
    page.goto(f"{base_url}/connections/new/?exchange={exchange}")
    page.fill("input[name=name]", name)
    page.check(f"input[name=market][value={market}]")
    page.fill("input[name=api_key]", key.api_key)
    page.fill("input[name=api_secret]", key.secret)
    if key.passphrase:
        page.fill("input[name=passphrase]", key.passphrase)
    # Exchanges that cannot report withdrawal (MEXC, Bitget, Gate) ask the person to confirm it.
    confirm = page.locator("input[name=withdrawal_off_confirmed]")
    if confirm.count():
        confirm.check()
    page.click("#connection-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/connections/\d+/$"))
