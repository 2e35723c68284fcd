"""Issue 19, points 1-4 and 15, in Chromium with DEBUG off: the paths where a person makes a
mistake or the page is out of date. Each form is submitted with an invalid value first; the
error must show in place, styled, beside its field, with a summary, and take focus."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    assert_production_mode,
    csp_violations,
    new_page,
    screenshot,
    sign_up,
)

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]

# Only texts whose translations are already in the catalogues (Django's own for "required").
WORDS = {
    "en": {
        "locale": "en-US",
        "required": "This field is required.",
        "malformed_secret": "does not look like a KuCoin secret key",
        "renamed": "Connection renamed.",
        "not_tested": "Not tested",
        "not_found": "This page does not exist, or it belongs to someone else.",
    },
    "de": {
        "locale": "de-DE",
        "required": "Dieses Feld ist zwingend erforderlich.",
        "malformed_secret": "Das sieht nicht nach einem Secret Key von KuCoin aus",
        "renamed": "Verbindung umbenannt.",
        "not_tested": "Nicht getestet",
        "not_found": "Diese Seite existiert nicht oder gehört jemand anderem.",
    },
}


def expect_one_page(page) -> None:
    """Not a page nested inside the page."""
    expect(page.locator("header.site-header")).to_have_count(1)
    expect(page.locator("h1")).to_have_count(1)


def expect_form_error(page, form: str, field_id: str, message: str) -> None:
    """The form is back in place, styled, with a summary and the error beside its field, which
    has the focus."""
    summary = page.locator(f"{form} [data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.locator(f"a[href='#{field_id}']")).to_be_visible()
    # Styled by our stylesheet, not an unstyled fragment.
    assert summary.evaluate("e => getComputedStyle(e).borderTopWidth") == "2px"
    field = page.locator(f"{form} #{field_id}")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", re.compile(f"{field_id}_error"))
    beside = page.locator(f"{form} .field.has-error:has(#{field_id}) #{field_id}_error")
    expect(beside).to_be_visible()
    expect(beside).to_contain_text(message)
    expect(field).to_be_focused()


def press_test_and_wait(page, expected: str) -> None:
    page.click("form.test-form button[type=submit]")
    expect(page.locator("#connection-body .status .badge").first).to_have_text(
        expected, timeout=45_000
    )
    # The final status makes the page reload its body once, with the report: wait for it, so
    # the next action is not swapped away by that reload.
    expect(page.locator("[id^=connection-report-] ul.checklist")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_connection_form_shows_its_errors_in_place(app, browser, simulator, language):
    words = WORDS[language]
    page = new_page(browser, locale=words["locale"])
    try:
        sign_up(page, app.url, f"forms-{language}@example.com")
        assert_production_mode(page)
        key = simulator.new_key("kucoin")

        # Add connection: no name and a malformed key. The key and passphrase stay filled.
        page.goto(f"{app.url}/connections/new/?exchange=kucoin")
        form_url = page.url
        page.fill("#id_api_key", "not a key")
        page.fill("#id_api_secret", key.secret)
        page.fill("#id_passphrase", key.passphrase)
        page.click("#connection-form button[type=submit]")
        expect_form_error(page, "#connection-form", "id_name", words["required"])
        expect(page.locator("#connection-form .field.has-error #id_api_key_error")).to_be_visible()
        expect(page.locator("#id_api_key")).to_have_value("not a key")
        expect(page.locator("#id_passphrase")).to_have_value(key.passphrase)
        expect(page.locator("#id_api_secret")).to_have_value("")
        expect(page.locator("#connection-form .error-summary .cleared")).to_be_visible()
        assert page.url == form_url
        expect_one_page(page)
        screenshot(page, f"19-{language}-add-connection-error")

        page.fill("#id_name", "KuCoin Main")
        page.fill("#id_api_key", key.api_key)
        page.fill("#id_api_secret", key.secret)
        page.click("#connection-form button[type=submit]")
        expect(page).to_have_url(re.compile(r"/connections/\d+/$"))
        detail_url = page.url
        press_test_and_wait(page, "Online")

        # Rename: an empty name, then a real one; everything showing the name follows.
        page.fill("#rename-form input[name=name]", " ")
        page.click("#rename-form button[type=submit]")
        expect_form_error(page, "#rename-form", "id_name", words["required"])
        screenshot(page, f"19-{language}-rename-error")
        page.fill("#rename-form input[name=name]", "KuCoin Renamed")
        page.click("#rename-form button[type=submit]")
        expect(page.locator("main h1")).to_have_text("KuCoin Renamed")
        expect(page).to_have_title(re.compile("KuCoin Renamed"))
        expect(page.locator("main .messages")).to_contain_text(words["renamed"])
        expect_one_page(page)
        screenshot(page, f"19-{language}-renamed")
        page.goto(f"{app.url}/")
        expect(page.locator("main")).to_contain_text("KuCoin Renamed")

        # Replace key: a malformed secret, then the right one; the person lands on the
        # connection page once, and the old key's report is labelled as the previous key's.
        new_key = simulator.new_key("kucoin")
        page.goto(detail_url + "replace-key/")
        page.fill("#id_api_key", new_key.api_key)
        page.fill("#id_api_secret", "short")
        page.fill("#id_passphrase", new_key.passphrase)
        page.click("#replace-form button[type=submit]")
        expect_form_error(page, "#replace-form", "id_api_secret", words["malformed_secret"])
        expect(page.locator("#id_api_key")).to_have_value(new_key.api_key)
        expect(page.locator("#id_passphrase")).to_have_value(new_key.passphrase)
        expect(page.locator("#id_api_secret")).to_have_value("")
        screenshot(page, f"19-{language}-replace-key-error")
        page.fill("#id_api_secret", new_key.secret)
        page.click("#replace-form button[type=submit]")
        expect(page).to_have_url(detail_url)
        expect_one_page(page)
        expect(page.locator("main .messages .message.success")).to_have_count(1)
        badge = page.locator("#connection-body .status .badge").first
        expect(badge).to_have_text(words["not_tested"])
        report = page.locator("[id^=connection-report-]")
        expect(report).to_have_class(re.compile("previous-key"))
        assert report.evaluate("e => getComputedStyle(e).opacity") != "1"
        screenshot(page, f"19-{language}-replace-key-landing")

        # Delete: confirmed in a second tab after this one deleted it, then Back.
        second = page.context.new_page()
        second.goto(detail_url + "delete/")
        page.goto(detail_url + "delete/")
        page.click("main form button.danger")
        expect(page).to_have_url(re.compile(r"/connections/$"))
        second.click("main form button.danger")
        expect(second.locator("main")).to_contain_text(words["not_found"])
        expect(second.locator("main a[href='/connections/']")).to_be_visible()
        screenshot(second, f"19-{language}-delete-stale-tab")
        response = page.go_back()
        assert response is not None and response.status == 404
        expect(page.locator("main")).to_contain_text(words["not_found"])
        expect(page.locator("main a[href='/connections/']")).to_be_visible()
        assert_production_mode(page)
        screenshot(page, f"19-{language}-back-after-delete")
    finally:
        pages = list(page.context.pages)
        page.context.close()
    assert not csp_violations(*pages)


def test_second_tab_and_error_answers_are_visible(app, page, simulator):
    sign_up(page, app.url, "tabs@example.com")
    assert_production_mode(page)
    key = simulator.new_key("kucoin")
    page.goto(f"{app.url}/connections/new/?exchange=kucoin")
    page.fill("#id_name", "Two Tabs")
    page.fill("#id_api_key", key.api_key)
    page.fill("#id_api_secret", key.secret)
    page.fill("#id_passphrase", key.passphrase)
    page.click("#connection-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/connections/\d+/$"))
    detail_url = page.url
    press_test_and_wait(page, "Online")

    # The second tab still shows "Test again" while the first tab's test runs.
    second = page.context.new_page()
    second.goto(detail_url)
    simulator.set_latency("kucoin", 1500)
    page.click("form.test-form button[type=submit]")
    expect(page.locator("#connection-body .status .badge").first).to_have_text("Testing…")
    second.click("form.test-form button[type=submit]")
    expect(second.locator("#connection-body .messages")).to_contain_text(
        "A test of this connection is already running."
    )
    expect(second.locator("#connection-body .status .badge").first).to_have_text("Testing…")
    screenshot(second, "19-second-tab-409")
    # ...and it follows the live status to the end.
    expect(second.locator("#connection-body .status .badge").first).to_have_text(
        "Online", timeout=45_000
    )
    simulator.set_latency("kucoin", None)

    # An error answer htmx does not swap (404: deleted in the other tab) is shown, with the
    # server's own message.
    page.goto(detail_url + "delete/")
    page.click("main form button.danger")
    expect(page).to_have_url(re.compile(r"/connections/$"))
    region = second.locator("#htmx-error")
    expect(region).to_be_hidden()
    second.click("form.test-form button[type=submit]")
    expect(region).to_be_visible()
    expect(region).to_contain_text("This page does not exist, or it belongs to someone else.")
    screenshot(second, "19-htmx-404-message")

    # No answer at all: the translated generic network message.
    second.context.set_offline(True)
    second.click("form.test-form button[type=submit]")
    expect(region).to_contain_text("The server could not be reached.")
    # The text is the one the server translated into <body data-error-network>.
    expect(region).to_have_text(second.locator("body").get_attribute("data-error-network"))
    screenshot(second, "19-htmx-network-error")
    second.context.set_offline(False)

    # Without JavaScript the same form posts normally: the whole page comes back with the
    # summary, the error beside the field and the focus on it (autofocus), and says that the
    # passphrase was cleared too.
    context = page.context.browser.new_context(java_script_enabled=False)
    try:
        plain = context.new_page()
        sign_up(plain, app.url, "nojs@example.com")
        plain.goto(f"{app.url}/connections/new/?exchange=kucoin")
        plain.fill("#id_api_key", "not a key")
        plain.fill("#id_api_secret", key.secret)
        plain.fill("#id_passphrase", key.passphrase)
        plain.click("#connection-form button[type=submit]")
        expect_form_error(plain, "#connection-form", "id_name", "This field is required.")
        expect(plain.locator("#id_api_key")).to_have_value("not a key")
        expect(plain.locator("#id_passphrase")).to_have_value("")
        expect(plain.locator(".error-summary .cleared")).to_contain_text("passphrase")
        screenshot(plain, "19-add-connection-error-without-javascript")
    finally:
        context.close()
