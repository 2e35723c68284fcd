"""Every exchange's add form in a real browser, in production mode: the fields the exchange
needs (passphrase, demo box, withdrawal confirmation only where they apply), its own labels and
guide lines in order, and bad input answered by a 422 with the message beside the field, the
name and key kept and the secret cleared. No worker: nothing here is tested against an exchange.
One page per exchange keeps it fast; a screenshot of each form in error goes to
test-results/e2e/exchanges/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backfuture.users.models import User
from connections import guides
from connections.exchanges import registry
from connections.exchanges.base import CheckName
from tests.e2e.conftest import assert_production_mode, screenshot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]

SPECS = registry.all_specs(include_demo=True)
# An EC private key as Coinbase's portal hands it out: no exchange but Coinbase takes one.
EC_PEM = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIBkg4LVWM9nuwNSk3yqVFG3ogkrmxXYvSuIXFGKqGgqdoAoGCCqGSM49\n"
    "AwEHoUQDQgAE0xTY4w7vP8bFDkzV4Rz8vKk3fR3Th5EO6Zr7Zy6nTvQJ1RmqZl9E\n"
    "-----END EC PRIVATE KEY-----\n"
)


def fits(page) -> bool:
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    return width <= inner


def submit(page):
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("#connection-form button[type=submit]")
    expect(page.locator("#connection-form .error-summary")).to_be_visible()
    return answer.value.status


def error_of(page, field: str):
    return page.locator(f"#connection-form #id_{field}_error")


@pytest.mark.parametrize("spec", SPECS, ids=[spec.slug for spec in SPECS])
def test_add_form_fields_guide_and_bad_input(web, browser, spec):
    page = signed_in_page(browser, web.url)
    try:
        page.goto(f"{web.url}/connections/new/?exchange={spec.slug}")
        assert_production_mode(page)
        form = page.locator("#connection-form")
        guide = guides.guide_for(spec.slug)

        # The fields this exchange needs, and only those.
        expected = {"name", "market", "api_key", "api_secret"}
        if spec.needs_passphrase:
            expected.add("passphrase")
        if spec.demo_environment:
            expected.add("demo")
        if CheckName.WITHDRAWAL not in spec.verifies:
            expected.add("withdrawal_off_confirmed")
        shown = set(
            form.locator("input:not([type=hidden])").evaluate_all("l => l.map(e => e.name)")
        )
        assert shown == expected, spec.slug
        expect(form.locator("input[name=market]")).to_have_count(len(spec.markets))

        # The exchange's own names for its credentials, and its guide lines in order.
        key_label = str((guide and guide.key_label) or "API key")
        secret_label = str((guide and guide.secret_label) or "Secret key")
        expect(form.locator("label[for=id_api_key]")).to_have_text(f"{key_label}:")
        expect(form.locator("label[for=id_api_secret]")).to_have_text(f"{secret_label}:")
        if "withdrawal_off_confirmed" in expected:
            # In the exchange's words where it has no switch called withdrawal (Gate: Wallet).
            confirm = str(
                (guide and guide.withdrawal_confirm_label)
                or "I confirm that withdrawal is disabled on this API key."
            )
            expect(
                form.locator("label", has=page.locator("input[name=withdrawal_off_confirmed]"))
            ).to_have_text(confirm)
        hints = [str(line) for line in guide.hints] if guide else []
        expect(page.locator("aside.guide > ul > li")).to_have_text(hints)
        if guide:
            expect(page.locator("ol.steps a.external")).to_have_attribute(
                "href", guide.api_management_url
            )

        # Empty: every required field says so beside itself.
        assert submit(page) == 422
        required = ["name"] if spec.normalise else ["name", "api_key", "api_secret"]
        for field in required:
            expect(error_of(page, field)).to_contain_text("This field is required.")
        if "passphrase" in expected:
            expect(error_of(page, "passphrase")).to_be_visible()
        if "withdrawal_off_confirmed" in expected:
            expect(error_of(page, "withdrawal_off_confirmed")).to_contain_text(
                "Confirm that withdrawal is disabled"
            )

        # A malformed key and a private key where the secret goes: told beside each field; the
        # name and the key stay, the secret is cleared.
        page.fill("input[name=name]", "My trading key")
        page.fill("input[name=api_key]", "not a key!")
        page.fill("input[name=api_secret]", EC_PEM)
        # Every choice made stays made: the last market, the demo box, the confirmation.
        market = spec.markets[-1].value
        ticked = [f"input[name=market][value={market}]"]
        ticked += [f"input[name={name}]" for name in ("demo", "withdrawal_off_confirmed")]
        ticked = [selector for selector in ticked if form.locator(selector).count()]
        for selector in ticked:
            page.check(selector)
        if "passphrase" in expected:
            page.fill("input[name=passphrase]", "my pass phrase")
        assert submit(page) == 422
        expect(error_of(page, "api_key")).to_be_visible()
        expect(error_of(page, "api_key")).not_to_contain_text("required")
        if spec.is_demo:  # no API management page to copy from: what a demo key looks like
            expect(error_of(page, "api_key")).to_contain_text('starts with "demo-"')
            expect(error_of(page, "api_secret")).to_contain_text("demo-secret-1")
        if spec.slug != "coinbase":  # Coinbase's secret is such a key
            secret_error = error_of(page, "api_secret")
            expect(secret_error).to_be_visible()
            expect(secret_error).not_to_contain_text("Copy it again")
        expect(form.locator("input[name=name]")).to_have_value("My trading key")
        # A key-field value shaped like the exchange's secret and not like its key is never
        # shown again (swapped fields, docs/security.md): the paper exchange takes any secret.
        typed = "notakey!"  # as the rule reads it: white space taken out
        secret_shaped = re.fullmatch(spec.secret_pattern, typed) and not re.fullmatch(
            spec.key_pattern, typed
        )
        kept = "" if secret_shaped else "not a key!"
        expect(form.locator("input[name=api_key]")).to_have_value(kept)
        expect(form.locator("input[name=api_secret]")).to_have_value("")
        for selector in ticked:
            expect(form.locator(selector)).to_be_checked()
        if "passphrase" in expected:  # kept by the browser (data-keep-typed), never sent back
            expect(form.locator("input[name=passphrase]")).to_have_value("my pass phrase")
        screenshot(page, f"exchanges/form-{spec.slug}-errors")
        # The same form with its errors on a small phone: nothing sticks out sideways (the
        # longest labels and messages, PEM markers included, must wrap).
        page.set_viewport_size({"width": 375, "height": 800})
        assert fits(page), spec.slug
        screenshot(page, f"exchanges/form-{spec.slug}-errors-375px")
        page.set_viewport_size({"width": 1200, "height": 900})

        # An over-long paste, past the input's maxlength (a script or an old browser).
        page.evaluate("() => { document.querySelector('#id_api_key').value = 'K'.repeat(5000) }")
        assert submit(page) == 422
        expect(error_of(page, "api_key")).to_contain_text(re.compile(r"at most \d+ characters"))
        expect(form.locator("input[name=name]")).to_have_value("My trading key")
    finally:
        page.context.close()


@pytest.mark.parametrize("locale", ["en-US", "de-DE", "fr-FR"])
def test_exchange_picker_lists_every_exchange_and_fits(web, browser, locale):
    page = signed_in_page(browser, web.url)
    page.context.add_cookies([{"name": "django_language", "value": locale[:2], "url": web.url}])
    User.objects.filter(email="forms@example.com").update(language=locale[:2])
    try:
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{web.url}/connections/new/")
            cards = page.locator(".exchange-card")
            expect(cards).to_have_count(len(SPECS))
            for spec in SPECS:
                card = page.locator(f"#exchange-card-{spec.slug}")
                expect(card.get_by_role("link")).to_have_attribute(
                    "href", f"/connections/new/?exchange={spec.slug}"
                )
                # The demo box of the form is announced on the card, only where there is one.
                expect(card.locator("dt")).to_have_count(3 if spec.demo_environment else 2)
            # Every exchange is here: no "will follow" promise left on the page.
            expect(page.locator("main")).not_to_contain_text(re.compile("follow|folgen|suivront"))
            screenshot(page, f"exchanges/picker-{locale[:2]}-{width}")
            assert fits(page), (locale, width)
    finally:
        page.context.close()
