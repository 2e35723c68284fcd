"""Issue 19, points 7 and 9 in a real browser, in production mode (DEBUG off): the strategy
form's errors beside their fields in English and French, French amounts in the format the app
displays, and "Run the connection test" from the strategy checklist."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.connections.factories import make_connection
from tests.e2e.conftest import new_page, screenshot, sign_up
from tests.strategies.factories import make_strategy

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en": {
        "locale": "en-US",
        "example": "1,234.5",
        "valid": "1,000.50",
        "shown": "1,000.5",
        "invalid": "Enter a number",
    },
    "fr": {
        "locale": "fr-FR",
        "example": re.compile("1[\u00a0\u202f ]234,5"),
        "valid": "1\u202f000,50",
        "shown": re.compile("^1[\u00a0\u202f ]000,5$"),
        "invalid": "Saisissez un nombre",
    },
}


def demo_connection(email: str, name: str):
    owner = get_user_model().objects.get(email=email)
    return owner, make_connection(owner, exchange="demo", name=name)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_strategy_form_shows_each_error_beside_its_field(app, browser, language):
    words = WORDS[language]
    page = new_page(browser, locale=words["locale"])
    try:
        email = f"form-{language}@example.com"
        sign_up(page, app.url, email)
        _, connection = demo_connection(email, "Demo Spot")
        page.goto(f"{app.url}/strategies/new/?connection={connection.pk}")
        page.fill("input[name=name]", "BTC Grid")
        page.fill("[name=pairs]", "BTC/USDT")
        page.fill("input[name=margin_limit]", "abc")
        page.click("#strategy-form button.primary[type=submit]")

        field = page.locator(".field.has-error", has=page.locator("#id_margin_limit"))
        expect(field).to_be_visible()
        expect(field.locator(".errorlist")).to_contain_text(words["invalid"])
        expect(field.locator(".errorlist")).to_contain_text(words["example"])
        # What the person typed stays, beside the error; the summary on top links to it and the
        # cursor is already there.
        expect(page.locator("#id_margin_limit")).to_have_value("abc")
        expect(page.locator("#id_margin_limit")).to_be_focused()
        expect(page.locator("#strategy-form-errors a[href='#id_margin_limit']")).to_be_visible()
        screenshot(page, f"strategy-form-invalid-amount-{language}")

        # The format the app itself displays is accepted.
        page.fill("input[name=margin_limit]", words["valid"])
        page.click("#strategy-form button.primary[type=submit]")
        expect(page).to_have_url(re.compile(r"/strategies/\d+/$"))
        page.goto(page.url + "edit/")
        expect(page.locator("#id_margin_limit")).to_have_value(words["shown"])
        screenshot(page, f"strategy-form-localized-values-{language}")
    finally:
        page.context.close()


def test_run_the_connection_test_from_the_strategy_checklist(app, page):
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sign_up(page, app.url, "checklist@example.com")
    owner, connection = demo_connection("checklist@example.com", "Demo Spot")
    strategy = make_strategy(owner, connection)
    page.goto(f"{app.url}/strategies/{strategy.pk}/")
    online = page.locator("li[data-code=connection_online]")
    expect(online.locator(".mark.failed")).to_be_visible()
    screenshot(page, "strategy-checklist-untested")

    online.get_by_role("button", name="Run the connection test").click()
    # The page follows the live status and reloads its checklist when the test finishes.
    expect(page.locator(f"#connection-status-{connection.pk} .badge").first).to_have_text(
        "Online", timeout=45_000
    )
    expect(online.locator(".mark.ok")).to_be_visible(timeout=20_000)
    expect(page).to_have_url(re.compile(rf"/strategies/{strategy.pk}/$"))
    expect(page.locator("li[data-code=test_recent] .mark.ok")).to_be_visible()
    screenshot(page, "strategy-checklist-tested")

    # "Balances readable (2 assets shown)" shows them.
    page.goto(f"{app.url}/connections/{connection.pk}/")
    balances = page.locator("table.balances")
    expect(balances).to_contain_text("USDT")
    expect(balances).to_contain_text("10,000.00")
    expect(balances).to_contain_text("BTC")
    screenshot(page, "connection-balances-shown")
    assert not console_errors, console_errors


def test_run_the_connection_test_from_the_dashboard(app, page):
    sign_up(page, app.url, "dashboard@example.com")
    _, connection = demo_connection("dashboard@example.com", "Demo Spot")
    page.goto(f"{app.url}/")
    card = page.locator(f"#dashboard-connection-{connection.pk}")
    card.get_by_role("button", name="Run the connection test").click()
    expect(
        page.locator(f"#dashboard-connection-{connection.pk} .status .badge").first
    ).to_have_text("Online", timeout=45_000)
    expect(page.locator(f"#dashboard-connection-{connection.pk}")).not_to_contain_text(
        "Not tested yet"
    )
    expect(page).to_have_url(re.compile(r"/$"))
    screenshot(page, "dashboard-test-started-here")


def test_run_the_connection_test_without_javascript(app, browser):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1200, "height": 900}
    )
    page = context.new_page()
    try:
        sign_up(page, app.url, "nojs@example.com")
        owner, connection = demo_connection("nojs@example.com", "Demo Spot")
        strategy = make_strategy(owner, connection)
        page.goto(f"{app.url}/strategies/{strategy.pk}/")
        button = page.locator("li[data-code=connection_online]").get_by_role(
            "button", name="Run the connection test"
        )
        button.click()
        # Lands on the connection page, whose status refreshes itself until the test ends.
        expect(page).to_have_url(re.compile(rf"/connections/{connection.pk}/$"))
        expect(page.locator("#connection-body .status .badge").first).to_have_text(
            re.compile("Testing|Online"), timeout=45_000
        )
        screenshot(page, "strategy-checklist-test-no-js")
    finally:
        context.close()


def test_picking_a_connection_another_strategy_uses_recommends_a_separate_one(app, page):
    sign_up(page, app.url, "onekey@example.com")
    owner, used = demo_connection("onekey@example.com", "Used key")
    free = make_connection(owner, exchange="demo", name="Free key")
    make_strategy(owner, used, name="BTC Grid")
    page.goto(f"{app.url}/strategies/new/?connection={free.pk}")
    notice = page.locator("#shared-connection")
    expect(notice).to_be_hidden()
    # Live, through the preview: the notice appears beside the field without a reload.
    page.select_option("#id_connection", str(used.pk))
    expect(notice).to_be_visible(timeout=10_000)
    expect(notice).to_contain_text("“BTC Grid” already trades through “Used key”")
    screenshot(page, "strategy-form-separate-key-recommended")
    page.select_option("#id_connection", str(free.pk))
    expect(notice).to_be_hidden(timeout=10_000)
