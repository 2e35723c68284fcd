"""Issue 9, scenario 4: the same flow in German and in French, asserting real translated text."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import add_connection, new_page, screenshot, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]

PHRASES = {
    "de": {
        "locale": "de-DE",
        "landing": "Verbindung",
        "title": "Neue Verbindung: KuCoin",
        "test": "Verbindung testen",
        "failed": "Fehlgeschlagen",
        "withdrawal_row": "Auszahlung",
        "disabled": "deaktiviert",
        "ip": "IP nicht zugelassen",
        "gate": "Voraussetzungen für die Aktivierung",
        "nav": "Verbindungen",
        "online": "Online",
    },
    "fr": {
        "locale": "fr-FR",
        "landing": "connexion",
        "title": "Nouvelle connexion\u00a0: KuCoin",
        "test": "Tester la connexion",
        "failed": "Échec",
        "withdrawal_row": "Retrait",
        "disabled": "désactivé",
        "ip": "IP non autorisée",
        "gate": "Conditions d'activation",
        "nav": "Connexions",
        "online": "En ligne",
    },
}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_flow_reads_in_the_users_language(app, browser, simulator, language):
    words = PHRASES[language]
    page = new_page(browser, locale=words["locale"])
    try:
        # An anonymous visitor gets the browser's language.
        page.goto(app.url + "/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("main")).to_contain_text(words["landing"])
        sign_up(page, app.url, f"{language}@example.com")
        expect(page.locator("nav")).to_contain_text(words["nav"])

        page.goto(f"{app.url}/connections/new/?exchange=kucoin")
        expect(page.locator("main h1")).to_have_text(words["title"])
        key = simulator.new_key("kucoin")
        add_connection(page, app.url, key, exchange="kucoin", name="KuCoin Main")
        connection_pk = re.search(r"/connections/(\d+)/", page.url).group(1)
        button = page.locator("form.test-form button[type=submit]")
        expect(button).to_have_text(words["test"])
        button.click()
        badge = page.locator("#connection-body .status .badge").first
        expect(badge).to_have_text(words["online"], timeout=45_000)
        checklist = page.locator("#connection-body ul.checklist")
        expect(checklist).to_contain_text(f"{words['withdrawal_row']}")
        expect(checklist).to_contain_text(words["disabled"])
        screenshot(page, f"4-{language}-online")

        simulator.set_fault("kucoin", "ip_not_allowed")
        page.click("form.test-form button[type=submit]")
        expect(badge).to_have_text(words["failed"], timeout=45_000)
        expect(page.locator("#connection-body .problem")).to_contain_text(words["ip"])
        screenshot(page, f"4-{language}-failed")
        simulator.clear_faults()

        page.goto(f"{app.url}/strategies/new/?connection={connection_pk}")
        page.fill("input[name=name]", "Strategie" if language == "de" else "Stratégie")
        page.fill("[name=pairs]", "BTC/USDT")
        page.fill("input[name=margin_limit]", "500")
        page.fill("input[name=base_order]", "20")
        page.click("#strategy-form button.primary[type=submit]")
        expect(page.locator("main")).to_contain_text(words["gate"])
        screenshot(page, f"4-{language}-strategy")
    finally:
        page.context.close()


def test_language_switch_in_the_header_persists_after_login(app, page):
    sign_up(page, app.url, "switch@example.com")
    page.select_option("#language-select", "fr")
    expect(page.locator("main h1")).to_have_text("Tableau de bord")
    page.click("header form[action='/accounts/logout/'] button")
    page.context.clear_cookies()
    page.goto(app.url + "/accounts/login/")
    page.fill("input[name=login]", "switch@example.com")
    from tests.conftest import PASSWORD

    page.fill("input[name=password]", PASSWORD)
    page.click("main form [type=submit]")
    expect(page.locator("main h1")).to_have_text("Tableau de bord")
