"""Coinbase in the browser: from sign-up to an enabled strategy with a CDP key whose private key
is pasted with its line breaks (the password input drops them; the form rebuilds the PEM), and
with the downloaded key file pasted whole into one field."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_up
from tests.e2e.test_full_flow import CHECK_LABELS, create_strategy, press_test_and_wait

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def open_form(page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/connections/new/?exchange=coinbase")
    # Coinbase's own names for its credentials.
    expect(page.locator("label[for=id_api_key]")).to_contain_text("API key name")
    expect(page.locator("label[for=id_api_secret]")).to_contain_text("Private key")
    page.fill("input[name=name]", name)
    page.check("input[name=market][value=spot]")
    # Spot only, and no withdrawal confirmation: Coinbase reports the Transfer permission.
    expect(page.locator("input[name=market][value=futures]")).to_have_count(0)
    expect(page.locator("input[name=withdrawal_off_confirmed]")).to_have_count(0)


def save(page) -> str:
    page.click("#connection-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/connections/\d+/$"))
    return re.search(r"/connections/(\d+)/", page.url).group(1)


def enable_strategy(page, base_url: str, connection_pk: str, name: str) -> None:
    create_strategy(page, base_url, connection_pk, name)
    gate = page.locator("[id^=strategy-gate-]")
    # The worker fetches Coinbase's product list on first need.
    for _ in range(20):
        if gate.locator(".mark.failed").count() == 0:
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(gate.locator(".mark.failed")).to_have_count(0)
    page.click("form[action$='/enable/'] button[type=submit]")
    expect(page.locator("#strategy-body")).to_contain_text("Enabled")


def test_coinbase_pem_pasted_with_line_breaks_to_an_enabled_strategy(app, page, simulator):
    sign_up(page, app.url, "coinbase-pem@example.com")
    key = simulator.new_key("coinbase", balances={"USDT": "2500"})
    assert "\n" in key.secret.strip()  # a multi-line SEC1 PEM, as the portal gives it
    open_form(page, app.url, "Coinbase Spot Main")
    page.fill("input[name=api_key]", key.api_key)
    page.fill("input[name=api_secret]", key.secret)
    connection_pk = save(page)
    press_test_and_wait(page, "Online")
    checklist = page.locator("#connection-body ul.checklist")
    for label in CHECK_LABELS:
        expect(checklist).to_contain_text(label)
    expect(checklist).to_contain_text("portfolio")
    expect(checklist).to_contain_text("IP allowlist")
    screenshot(page, "coinbase-1-connection-online")
    enable_strategy(page, app.url, connection_pk, "Coinbase BTC")
    screenshot(page, "coinbase-1-strategy-enabled")
    # The simulator verified JWTs signed with the rebuilt key.
    paths = {record.path for record in simulator.requests}
    assert {"/api/v3/brokerage/key_permissions", "/api/v3/brokerage/accounts"} <= paths


def test_coinbase_key_file_pasted_whole_into_the_key_field(app, page, simulator):
    sign_up(page, app.url, "coinbase-json@example.com")
    key = simulator.new_key("coinbase", balances={"USDT": "2500"})
    key_file = json.dumps(
        {
            "name": key.api_key,
            "privateKey": key.secret,
            "nickname": "backfuture",
            "scopes": ["rat#view", "rat#trade"],
            "allowedIps": [],
            "keyType": "TRADING_KEY",
            "enabled": True,
        },
        indent=3,
    )
    open_form(page, app.url, "Coinbase From File")
    page.fill("input[name=api_key]", key_file)
    connection_pk = save(page)
    press_test_and_wait(page, "Online")
    enable_strategy(page, app.url, connection_pk, "Coinbase File BTC")
    screenshot(page, "coinbase-2-strategy-enabled")


def test_coinbase_legacy_key_is_told_to_create_a_cdp_key(app, page):
    sign_up(page, app.url, "coinbase-legacy@example.com")
    open_form(page, app.url, "Old Coinbase Key")
    page.fill("input[name=api_key]", "Ab12Cd34Ef56Gh78")
    page.fill("input[name=api_secret]", "0123456789abcdef0123456789abcdef")
    page.click("#connection-form button[type=submit]")
    expect(page.locator("#connection-form")).to_contain_text("Coinbase Developer Platform")
