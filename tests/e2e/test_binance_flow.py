"""Binance end to end: an Ed25519 key pasted as a multi-line PEM into the secret field, the
connection test through the worker and the simulator, and a strategy enabled on it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_up
from tests.e2e.test_full_flow import CHECK_LABELS, create_strategy, press_test_and_wait
from tests.simulator.binance import new_ed25519_key

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_ed25519_binance_key_goes_from_pasted_pem_to_an_enabled_strategy(app, page, simulator):
    sign_up(page, app.url, "binance-trader@example.com")
    key = new_ed25519_key(simulator, balances={"USDT": "2500"}, ip_whitelist=["127.0.0.1"])
    assert "\n" in key.secret  # a real PEM file, several lines

    page.goto(f"{app.url}/connections/new/?exchange=binance")
    # The secret field names what Binance calls it, including the Ed25519 private key.
    expect(page.locator("label[for=id_api_secret]")).to_contain_text(
        "Secret key or Ed25519 private key (PEM)"
    )
    expect(page.locator("main")).to_contain_text("BEGIN PRIVATE KEY")
    # Binance can tell withdrawal itself: no confirmation box.
    expect(page.locator("input[name=withdrawal_off_confirmed]")).to_have_count(0)
    page.fill("input[name=name]", "Binance Spot Main")
    page.check("input[name=market][value=spot]")
    page.fill("input[name=api_key]", key.api_key)
    # Pasted as copied from the key file; the password input drops the line breaks.
    page.fill("input[name=api_secret]", key.secret)
    page.click("#connection-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/connections/\d+/$"))
    connection_pk = re.search(r"/connections/(\d+)/", page.url).group(1)

    press_test_and_wait(page, "Online")
    checklist = page.locator("#connection-body ul.checklist")
    for label in CHECK_LABELS:
        expect(checklist).to_contain_text(label)
    # The simulated Binance verified an Ed25519 signature over the signed calls.
    paths = {record.path for record in simulator.requests if record.status == 200}
    assert {"/sapi/v1/account/apiRestrictions", "/api/v3/account"} <= paths
    screenshot(page, "binance-connection-online")

    create_strategy(page, app.url, connection_pk, "Binance BTC")
    gate = page.locator("[id^=strategy-gate-]")
    for _ in range(20):
        if gate.locator(".mark.failed").count() == 0:
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(gate.locator(".mark.failed")).to_have_count(0)
    page.click("form[action$='/enable/'] button[type=submit]")
    expect(page.locator("#strategy-body")).to_contain_text("Enabled")
    screenshot(page, "binance-strategy-enabled")


def test_binance_demo_key_is_tested_in_demo_and_its_strategy_can_be_enabled(app, page, simulator):
    sign_up(page, app.url, "binance-demo@example.com")
    key = simulator.new_key("binance", demo=True, balances={"USDT": "5000"})
    page.goto(f"{app.url}/connections/new/?exchange=binance")
    page.fill("input[name=name]", "Binance Demo")
    page.check("input[name=market][value=spot]")
    page.check("input[name=demo]")
    page.fill("input[name=api_key]", key.api_key)
    page.fill("input[name=api_secret]", key.secret)
    page.click("#connection-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/connections/\d+/$"))
    connection_pk = re.search(r"/connections/(\d+)/", page.url).group(1)
    press_test_and_wait(page, "Online")
    # Binance's demo describes no keys: said so, not guessed.
    expect(page.locator("#connection-body ul.checklist")).to_contain_text(
        "cannot be verified: Binance's demo environment does not describe its keys"
    )
    assert {record.exchange for record in simulator.requests} == {"binance_demo"}

    create_strategy(page, app.url, connection_pk, "Binance demo BTC")
    gate = page.locator("[id^=strategy-gate-]")
    for _ in range(20):
        if gate.locator(".mark.failed").count() == 0:
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(gate.locator(".mark.failed")).to_have_count(0)
    page.click("form[action$='/enable/'] button[type=submit]")
    expect(page.locator("#strategy-body")).to_contain_text("Enabled")
    screenshot(page, "binance-demo-strategy-enabled")
