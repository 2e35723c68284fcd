"""Issue 18: the app in the 26 languages of the product's site.

- The main flow (sign-up, a KuCoin connection tested Online and then Failed, a strategy whose
  margin limit is typed in the language's own number format and typed back from the edit form)
  in Arabic (right to left), Polish and Greek, on a 375 px phone: no page scrolls sideways.
- Every language: the dashboard, a connection page and a strategy page, photographed under
  `test-results/e2e/languages/`, each with the right `lang` and `dir`, its translated words, no
  English sentence left in it and nothing sticking out sideways at 375 px.

The words the pages must show come from each language's catalogue (the German and French
phrases are checked verbatim in test_languages.py): a page that fell back to English, or a
catalogue that did not load, fails either way.
"""

from __future__ import annotations

import re
from decimal import Decimal

import polib
import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from backfuture import numbers
from backfuture.users.models import User
from strategies.models import Strategy
from tests.e2e.conftest import SCREENSHOTS, add_connection, new_page, sign_up, signed_in_page
from tests.strategies.factories import online_connection, stored_strategy

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1200, "height": 900}
LANGUAGE_SHOTS = SCREENSHOTS / "languages"
BROWSER_LOCALE = {"ar": "ar-EG", "pl": "pl-PL", "el": "el-GR"}


def words(language: str, msgid: str, **values) -> str:
    with translation.override(language):
        text = translation.gettext(msgid)
    return text % values if values else text


def fits(page, name: str) -> None:
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{name}: {scroll_width} px wide on {inner_width} px"


def shot(page, name: str) -> None:
    LANGUAGE_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(LANGUAGE_SHOTS / f"{name}.png"), full_page=True)


def assert_direction(page, language: str) -> None:
    rtl = language in settings.LANGUAGES_BIDI
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", "rtl" if rtl else "ltr")
    # The layout itself follows: the brand's words sit at the start of the line, which is the
    # right edge in Arabic (measured on the text, whatever width its box takes).
    left, right, width = page.evaluate(
        """() => { const range = document.createRange();
          range.selectNodeContents(document.querySelector("header .brand"));
          const box = range.getBoundingClientRect();
          return [box.left, box.right, window.innerWidth]; }"""
    )
    assert ((left + right) / 2 > width / 2) == rtl, (language, left, right, width)


def english_left(language: str, text: str) -> list[str]:
    """Whole English sentences of the catalogue that the page shows untranslated."""
    folder = translation.to_locale(language)
    po = polib.pofile(str(settings.BASE_DIR / "locale" / folder / "LC_MESSAGES" / "django.po"))
    return [
        entry.msgid
        for entry in po
        if not entry.msgid_plural
        and len(entry.msgid) >= 25
        and "%" not in entry.msgid
        and "<" not in entry.msgid
        and entry.msgstr != entry.msgid
        and entry.msgid in text
    ]


@pytest.mark.parametrize("language", ["ar", "pl", "el"])
def test_the_main_flow_in_a_right_to_left_and_two_more_languages(app, browser, simulator, language):
    page = new_page(browser, locale=BROWSER_LOCALE[language])
    page.set_viewport_size(PHONE)
    try:
        # An anonymous visitor gets the browser's language, laid out in its direction.
        page.goto(app.url + "/")
        assert_direction(page, language)
        expect(page.locator("main h1")).to_have_text(
            words(language, "Connect your exchange account to a trading bot, safely")
        )
        fits(page, f"{language} landing")
        sign_up(page, app.url, f"{language}@example.com")
        assert User.objects.get(email=f"{language}@example.com").language == language
        expect(page.locator("nav")).to_contain_text(words(language, "Connections"))
        fits(page, f"{language} dashboard")

        page.goto(f"{app.url}/connections/new/?exchange=kucoin")
        expect(page.locator("main h1")).to_have_text(
            words(language, "Add a %(exchange)s connection", exchange="KuCoin")
        )
        fits(page, f"{language} new connection")
        key = simulator.new_key("kucoin")
        add_connection(page, app.url, key, exchange="kucoin", name="KuCoin Main")
        connection_pk = re.search(r"/connections/(\d+)/", page.url).group(1)
        button = page.locator("form.test-form button[type=submit]")
        expect(button).to_have_text(words(language, "Test connection"))
        button.click()
        badge = page.locator("#connection-body .status .badge").first
        expect(badge).to_have_text(words(language, "Online"), timeout=45_000)
        checklist = page.locator("#connection-body ul.checklist")
        expect(checklist).to_contain_text(words(language, "Withdrawal"))
        expect(checklist).to_contain_text(words(language, "disabled"))
        fits(page, f"{language} connection online")
        shot(page, f"flow-{language}-1-online")

        simulator.set_fault("kucoin", "ip_not_allowed")
        page.click("form.test-form button[type=submit]")
        expect(badge).to_have_text(words(language, "Failed"), timeout=45_000)
        expect(page.locator("#connection-body .problem")).to_contain_text(
            words(language, "IP not allowed")
        )
        fits(page, f"{language} connection failed")
        shot(page, f"flow-{language}-2-failed")
        simulator.clear_faults()

        # Numbers typed as the language writes them ("1 500,5" in Polish, "1.500,5" in Greek).
        with translation.override(language):
            margin = numbers.input_value(Decimal("1500.5"))
            shown = numbers.money(Decimal("1500.5"), "USDT")
        page.goto(f"{app.url}/strategies/new/?connection={connection_pk}")
        fits(page, f"{language} strategy form")
        page.fill("input[name=name]", "BTC")
        page.fill("[name=pairs]", "BTC/USDT")
        page.fill("input[name=margin_limit]", margin)
        page.fill("input[name=base_order]", "20")
        page.click("#strategy-form button.primary[type=submit]")
        expect(page.locator("main")).to_contain_text(words(language, "Before it can be enabled"))
        expect(page.locator("main")).to_contain_text(f"{shown} USDT")
        strategy = Strategy.objects.get(name="BTC")
        assert strategy.margin_limit == Decimal("1500.5")
        fits(page, f"{language} strategy")
        # The add-on ladder's signed numbers read left to right in every script ("−2 %").
        cell = page.locator("table.ladder tbody tr:nth-child(2) td:nth-child(2)")
        expect(cell).to_contain_text("−")
        minus_x, digit_x = cell.evaluate(
            """(el) => { const text = el.firstChild, range = document.createRange();
              const at = (i) => { range.setStart(text, i); range.setEnd(text, i + 1);
                                  return range.getBoundingClientRect().left; };
              return [at(text.data.indexOf("−")), at(text.data.indexOf("−") + 1)]; }"""
        )
        assert minus_x < digit_x, "the minus sign is drawn after the number"
        shot(page, f"flow-{language}-3-strategy")

        # The edit form shows the number as the page writes it; saved unchanged, it stays.
        page.goto(f"{app.url}/strategies/{strategy.pk}/edit/")
        expect(page.locator("input[name=margin_limit]")).to_have_value(margin)
        page.click("#strategy-form button.primary[type=submit]")
        expect(page).to_have_url(re.compile(rf"/strategies/{strategy.pk}/$"))
        strategy.refresh_from_db()
        assert strategy.margin_limit == Decimal("1500.5")
    finally:
        page.context.close()


def test_every_language_shows_the_main_pages_translated_and_fitting(web, browser):
    page = signed_in_page(browser, web.url, email="languages@example.com")
    user = User.objects.get(email="languages@example.com")
    connection = online_connection(user, name="MEXC Spot Main")
    strategy = stored_strategy(user, connection, name="BTC Grid")
    pages = {
        "dashboard": ("/", "Dashboard"),
        "connection": (f"/connections/{connection.pk}/", "Test history"),
        "strategy": (f"/strategies/{strategy.pk}/", "Before it can be enabled"),
    }
    try:
        for language, _name in settings.LANGUAGES:
            user.language = language
            user.save(update_fields=["language"])
            for name, (path, msgid) in pages.items():
                page.set_viewport_size(DESKTOP)
                response = page.goto(web.url + path)
                assert response is not None and response.status == 200, (language, name)
                assert_direction(page, language)
                expect(page.locator("main")).to_contain_text(words(language, msgid))
                expect(page.locator("nav")).to_contain_text(words(language, "Connections"))
                if language != "en":
                    left = english_left(language, page.inner_text("body"))
                    assert not left, f"{language} {name}: English left: {left[:3]}"
                shot(page, f"{language}-{name}")
                page.set_viewport_size(PHONE)
                fits(page, f"{language} {name}")
    finally:
        page.context.close()
