"""The way to a first connection in a browser: exchange cards, the demo form and the server-IP
step with "Copy all" (issue 19, points 12-14), in production mode."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_exchange_cards_demo_form_and_copy_all(app, page):
    sign_up(page, app.url, "cards@example.com")
    page.goto(f"{app.url}/connections/new/")

    mexc, kucoin, demo = (
        page.locator(f"#exchange-card-{slug}") for slug in ("mexc", "kucoin", "demo")
    )
    expect(mexc.locator("h3")).to_have_text("MEXC")
    expect(mexc).to_contain_text("Spot, Futures")
    expect(mexc).to_contain_text("not needed")
    expect(mexc.locator("ul.capabilities.muted")).to_contain_text("withdrawal off")
    expect(kucoin).to_contain_text("needed: you choose it when you create the key")
    expect(kucoin.locator("ul.capabilities").first).to_contain_text("withdrawal off")
    expect(demo).to_contain_text("A paper account with demo balances")
    screenshot(page, "exchange-cards")

    # The demo form: only what applies to a paper account.
    demo.get_by_role("link", name="Try the demo").click()
    expect(page).to_have_url(re.compile(r"exchange=demo"))
    guide = page.locator("aside.guide")
    expect(guide).to_contain_text("demo-key-1")
    expect(guide).not_to_contain_text("Log in to your exchange account")
    expect(page.locator("table.permissions")).to_have_count(0)
    expect(page.locator(".ip-list")).to_have_count(0)
    expect(page.locator(".name-ideas")).to_contain_text("Demo practice")
    screenshot(page, "demo-form")
    page.fill("input[name=name]", "Demo practice")
    page.fill("input[name=api_key]", "demo-key-1")
    page.fill("input[name=api_secret]", "demo-secret-1")
    page.click("#connection-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/connections/\d+/$"))
    expect(page.locator("main h1")).to_have_text("Demo practice")

    # An exchange's guide: its API-management page in the step that uses it, our IPs and
    # "Copy all" in the step that needs them.
    page.goto(f"{app.url}/connections/new/?exchange=mexc")
    step_link = page.locator("ol.steps a.external")
    expect(step_link).to_have_attribute("href", "https://www.mexc.com/user/openapi")
    ip_step = page.locator("ol.steps > li", has=page.locator(".ip-list"))
    expect(ip_step).to_contain_text("Restrict the key to our server IP addresses")
    expect(ip_step.locator("code")).to_have_text(["203.0.113.10", "203.0.113.11"])
    copy_all = ip_step.get_by_role("button", name="Copy all")
    # app.js reveals copy buttons; the clipboard itself may be unavailable headless.
    expect(copy_all).to_be_visible()
    expect(copy_all).to_have_attribute("data-copy", "203.0.113.10,203.0.113.11")
    expect(page.locator(".name-ideas")).to_contain_text("MEXC Spot Main")
    expect(page.locator(".name-ideas")).not_to_contain_text("KuCoin")
    screenshot(page, "mexc-guide-ip-step")
