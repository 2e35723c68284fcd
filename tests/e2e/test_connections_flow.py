from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connections.models import Connection
from tests.e2e.conftest import add_connection, new_page, screenshot, sign_up
from tests.strategies.factories import stored_strategy

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def press_test_and_wait(page, expected: str) -> None:
    page.click("form.test-form button[type=submit]")
    # The badge polls while testing and stops once the status is final.
    expect(page.locator("#connection-body .status .badge").first).to_have_text(
        expected, timeout=45_000
    )


def test_ip_not_allowed_shows_cause_ip_and_pauses_strategy(app, page, simulator):
    sign_up(page, app.url, "ip@example.com")
    key = simulator.new_key("mexc")
    add_connection(page, app.url, key, exchange="mexc", name="MEXC Spot Main")
    press_test_and_wait(page, "Online")
    connection = Connection.objects.get(name="MEXC Spot Main")
    strategy = stored_strategy(connection.owner, connection, name="BTC Grid", status="enabled")

    simulator.set_fault("mexc", "ip_not_allowed", ip="198.51.100.7")
    press_test_and_wait(page, "Failed")
    body = page.locator("#connection-body")
    expect(body).to_contain_text("IP not allowed")
    expect(body).to_contain_text("does not include our server IP")
    expect(body).to_contain_text("Add the server IPs shown below")
    expect(body).to_contain_text("198.51.100.7")
    expect(body).to_contain_text("203.0.113.10")
    screenshot(page, "ip-not-allowed")

    strategy.refresh_from_db()
    assert strategy.status == "paused" and strategy.pause_reason == "connection_failed"
    page.goto(f"{app.url}/")
    expect(page.locator("main")).to_contain_text("BTC Grid")
    expect(page.locator("main")).to_contain_text("Its connection failed its test")
    screenshot(page, "ip-not-allowed-dashboard")


def test_kucoin_key_with_withdrawal_fails(app, page, simulator):
    sign_up(page, app.url, "kc@example.com")
    key = simulator.new_key("kucoin", withdrawal=True)
    add_connection(page, app.url, key, exchange="kucoin", name="KuCoin Futures Conservative")
    press_test_and_wait(page, "Failed")
    body = page.locator("#connection-body")
    expect(body).to_contain_text("Withdrawal permission enabled")
    expect(body).to_contain_text("Delete this key on the exchange now")
    # The secret is never on the page.
    assert key.secret not in page.content() and key.passphrase not in page.content()
    screenshot(page, "kucoin-withdrawal-enabled")


def test_second_user_gets_404_for_first_users_connection(app, page, browser, simulator):
    sign_up(page, app.url, "first@example.com")
    key = simulator.new_key("mexc")
    add_connection(page, app.url, key, exchange="mexc", name="Private")
    url = page.url
    assert re.search(r"/connections/\d+/$", url)

    other = new_page(browser)
    try:
        sign_up(other, app.url, "second@example.com")
        response = other.goto(url)
        assert response.status == 404
        expect(other.locator("main")).to_contain_text("Not found")
        expect(other.locator("main")).not_to_contain_text("Private")
        screenshot(other, "second-user-404")
    finally:
        other.context.close()
