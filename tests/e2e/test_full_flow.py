"""Issue 9, scenario 1 (and 3's strategy half): the whole flow a newcomer goes through."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import add_connection, screenshot, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]

CHECK_LABELS = [
    "Exchange",
    "Key and secret",
    "Balances",
    "Trading",
    "Futures",
    "Withdrawal",
    "IP restriction",
    "Key expiry",
]


def press_test_and_wait(page, expected: str) -> None:
    page.click("form.test-form button[type=submit]")
    expect(page.locator("#connection-body .status .badge").first).to_have_text(
        expected, timeout=45_000
    )


def create_strategy(page, base_url: str, connection_pk: str, name: str) -> None:
    page.goto(f"{base_url}/strategies/new/?connection={connection_pk}")
    page.fill("input[name=name]", name)
    page.fill("[name=pairs]", "BTC/USDT")
    page.fill("input[name=margin_limit]", "500")
    page.fill("input[name=base_order]", "20")
    # The plan updates live as the user types (htmx preview).
    expect(page.locator("#strategy-plan")).to_contain_text("20", timeout=10_000)
    page.click("#strategy-form button.primary[type=submit]")
    expect(page).to_have_url(re.compile(r"/strategies/\d+/$"))


def test_newcomer_goes_from_sign_up_to_an_enabled_strategy(app, page, simulator):
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sign_up(page, app.url, "newcomer@example.com")
    key = simulator.new_key("mexc", balances={"USDT": "2500"})
    add_connection(page, app.url, key, exchange="mexc", name="MEXC Spot Main")
    connection_pk = re.search(r"/connections/(\d+)/", page.url).group(1)
    press_test_and_wait(page, "Online")
    checklist = page.locator("#connection-body ul.checklist")
    for label in CHECK_LABELS:
        expect(checklist).to_contain_text(label)
    expect(checklist).to_contain_text("Withdrawal")
    screenshot(page, "1-connection-online")

    create_strategy(page, app.url, connection_pk, "BTC Conservative")
    gate = page.locator("[id^=strategy-gate-]")
    # The symbol list is fetched by the worker on first need; the page shows the gate once ready.
    for _ in range(20):
        if gate.locator(".mark.failed").count() == 0:
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(gate.locator(".mark.failed")).to_have_count(0)
    screenshot(page, "1-gate-all-ticks")
    page.click("form[action$='/enable/'] button[type=submit]")
    expect(page.locator("#strategy-body")).to_contain_text("Enabled")
    screenshot(page, "1-strategy-enabled")
    page.goto(f"{app.url}/")
    expect(page.locator("main")).to_contain_text("BTC Conservative")
    screenshot(page, "1-dashboard")
    csp = [e for e in console_errors if "Content Security Policy" in e]
    assert not csp, csp


def test_strategy_on_a_withdrawal_key_cannot_be_enabled(app, page, simulator):
    sign_up(page, app.url, "careful@example.com")
    key = simulator.new_key("kucoin", withdrawal=True)
    add_connection(page, app.url, key, exchange="kucoin", name="KuCoin Spot")
    connection_pk = re.search(r"/connections/(\d+)/", page.url).group(1)
    press_test_and_wait(page, "Failed")
    create_strategy(page, app.url, connection_pk, "Never Enabled")
    gate = page.locator("[id^=strategy-gate-]")
    expect(gate).to_contain_text("Withdrawal")
    expect(page.locator("form[action$='/enable/'] button[type=submit]")).to_be_disabled()
    screenshot(page, "3-strategy-blocked")
