"""No page scrolls sideways on a small phone, whatever the names in it (issue 19, point 6).

A connection with an 80-character unbroken name and a key-expiry badge (an MEXC key not linked
to our IPs) and a strategy with an equally long name are shown on every main page at 360 px,
in production mode; each page must fit: `document.documentElement.scrollWidth <= innerWidth`.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backfuture.users.models import User
from connections.models import Connection
from tests.connections.factories import make_connection
from tests.e2e.conftest import add_connection, new_page, screenshot, sign_up
from tests.strategies.factories import online_connection, stored_strategy

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 780}
# Long unbroken names: nothing to wrap at, so only overflow-wrap can keep them inside the page.
CONNECTION_NAME = "MEXC" + "X" * 76
DEMO_NAME = "Demo" + "Y" * 76
STRATEGY_NAME = "BTC" + "Z" * 77

# Elements sticking out to the right, named for the failure message.
OVERFLOWING = """() => Array.from(document.querySelectorAll("body *"))
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .slice(0, 5)
  .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.className && typeof el.className === "string" ? "." + el.className.trim().replace(/\\s+/g, ".") : ""))"""


def assert_fits(page, name: str) -> None:
    screenshot(page, f"360px-{name}")
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (
        f"{name}: the page is {scroll_width} px wide on a {inner_width} px screen; "
        f"sticking out: {page.evaluate(OVERFLOWING)}"
    )


def visit(page, url: str, name: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, (name, response and response.status)
    assert_fits(page, name)


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])  # German words are the longest
def test_no_main_page_scrolls_sideways_at_360_px(app, browser, simulator, locale):
    page = new_page(browser, locale=locale)
    try:
        page.set_viewport_size(PHONE)
        base = app.url
        language = locale[:2]
        for path, name in [("/", "landing"), ("/accounts/login/", "login")]:
            visit(page, base + path, f"{language}-{name}")
        visit(page, base + "/accounts/signup/", f"{language}-signup")

        sign_up(page, base, f"narrow-{language}@example.com")
        owner = User.objects.get(email=f"narrow-{language}@example.com")
        # Added through the form, on the phone, as a person would.
        add_connection(page, base, simulator.new_key("mexc"), exchange="mexc", name=CONNECTION_NAME)
        mexc = Connection.objects.get(owner=owner, name=CONNECTION_NAME)
        demo = online_connection(owner, name=DEMO_NAME)
        strategy = stored_strategy(owner, demo, name=STRATEGY_NAME)
        assert not mexc.ip_restricted  # so its page shows the key-expiry badge

        pages = [
            ("/", "dashboard"),
            ("/connections/", "connection-list"),
            ("/connections/new/", "add-connection-picker"),
            ("/connections/new/?exchange=mexc", "add-connection-mexc"),
            ("/connections/new/?exchange=kucoin", "add-connection-kucoin"),
            ("/connections/new/?exchange=demo", "add-connection-demo"),
            (f"/connections/{demo.pk}/", "connection-detail-online"),
            (f"/connections/{mexc.pk}/replace-key/", "replace-key"),
            (f"/connections/{mexc.pk}/delete/", "delete-confirm"),
            ("/strategies/", "strategy-list"),
            (f"/strategies/new/?connection={demo.pk}", "strategy-new"),
            (f"/strategies/{strategy.pk}/", "strategy-detail"),
            (f"/strategies/{strategy.pk}/edit/", "strategy-edit"),
            ("/account/", "account"),
        ]
        for path, name in pages:
            visit(page, base + path, f"{language}-{name}")

        # The detail page with the key-expiry badge, then its rename form in use.
        visit(page, f"{base}/connections/{mexc.pk}/", f"{language}-connection-detail-key-expiry")
        expect(page.locator("dd .badge.warn")).to_be_visible()
        page.fill("#rename-form input[name=name]", "MEXC" + "W" * 76)
        page.click("#rename-form [type=submit]")
        page.wait_for_load_state("networkidle")
        assert Connection.objects.get(pk=mexc.pk).name == "MEXC" + "W" * 76
        assert_fits(page, f"{language}-rename")
    finally:
        page.context.close()


def test_key_expiry_badge_stays_inside_its_card_on_desktop(app, page):
    sign_up(page, app.url, "wide@example.com")
    owner = User.objects.get(email="wide@example.com")
    connection = make_connection(owner, exchange="mexc", name="MEXC Spot Main")
    page.goto(f"{app.url}/connections/{connection.pk}/")
    badge = page.locator("dd .badge.warn")
    expect(badge).to_contain_text("unless you link the key to our IPs")
    card = page.locator("section.card", has=badge)
    badge_box, card_box = badge.bounding_box(), card.bounding_box()
    screenshot(page, "key-expiry-badge-desktop")
    assert badge_box["x"] + badge_box["width"] <= card_box["x"] + card_box["width"], (
        badge_box,
        card_box,
    )
