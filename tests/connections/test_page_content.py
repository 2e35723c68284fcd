"""What the connection pages say: titles, dates, exchange names, status words, name ideas,
the exchange picker's cards, the demo guide and the server-IP step (issue 19, points 10-14)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from backfuture.display import when
from connections import guides
from connections.exchanges import registry
from connections.exchanges.base import CheckName, Market
from connections.models import AuditEvent, Connection, ConnectionCheck
from tests.connections.factories import make_connection
from tests.strategies.factories import online_connection, stored_strategy

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
TESTED_AT = datetime(2026, 11, 27, 9, 5, tzinfo=UTC)


def title_of(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "page has no <title>"
    return match.group(1)


def card(html: str, slug: str) -> str:
    """The exchange picker's card for `slug`."""
    start = html.index(f'id="exchange-card-{slug}"')
    return html[start : html.index("</li>\n", html.index('<a class="button', start))]


def steps(html: str) -> str:
    start = html.index('<ol class="steps">')
    return html[start : html.index("</ol>", start)]


def as_language(user, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


# ---------------------------------------------------------------- 10: titles


def main_pages(alice) -> list[tuple[str, str]]:
    connection = online_connection(alice, name="Main")
    strategy = stored_strategy(alice, connection)
    return [
        (reverse("home"), "dashboard"),
        (reverse("connections:list"), "connection list"),
        (reverse("connections:new"), "exchange picker"),
        *[
            (reverse("connections:new") + f"?exchange={slug}", f"add {slug}")
            for slug in ("mexc", "kucoin", "gate", "demo")
        ],
        (reverse("connections:detail", args=[connection.pk]), "detail"),
        (reverse("connections:replace_key", args=[connection.pk]), "replace key"),
        (reverse("connections:delete", args=[connection.pk]), "delete"),
        (reverse("strategies:list"), "strategy list"),
        (reverse("strategies:new"), "new strategy"),
        (reverse("strategies:detail", args=[strategy.pk]), "strategy"),
        (reverse("strategies:edit", args=[strategy.pk]), "edit strategy"),
        (reverse("account"), "account"),
        ("/connections/999999/", "not found"),
    ]


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_every_page_title_names_the_page_then_the_site(alice, alice_client, language):
    as_language(alice, language)
    for url, name in main_pages(alice):
        title = title_of(alice_client.get(url).content.decode())
        assert re.fullmatch(r"\S.*\S · BackFuture", title), (name, title)
    anonymous = Client()
    for url in (reverse("home"), reverse("account_login"), reverse("account_signup")):
        title = title_of(anonymous.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode())
        assert re.fullmatch(r"\S.*\S · BackFuture", title), (url, title)


def test_home_titles_have_their_separator(alice_client):
    assert title_of(alice_client.get(reverse("home")).content.decode()) == "Dashboard · BackFuture"
    landing = title_of(Client().get(reverse("home")).content.decode())
    assert landing == "Connect your exchange safely · BackFuture"


def test_title_escapes_a_name_once(alice, alice_client):
    connection = make_connection(alice, name="Tom & Jerry <main>")
    html = alice_client.get(reverse("connections:detail", args=[connection.pk])).content.decode()
    assert title_of(html) == "Tom &amp; Jerry &lt;main&gt; · BackFuture"


# ---------------------------------------------------------------- 10: dates


def test_when_formats_datetimes_and_dates_in_the_active_language():
    moment = datetime(2026, 3, 4, 17, 30, tzinfo=UTC)
    with translation.override("en"):
        assert when(moment) == "March 4, 2026, 5:30 p.m."
        assert when(moment, "date") == "March 4, 2026"
    with translation.override("de"):
        assert when(moment) == "4. März 2026 17:30"
        assert when(moment.date()) == "4. März 2026"
    with translation.override("fr"):
        assert when(moment) == "4 mars 2026 17:30"
    assert when(None) == ""


def test_when_shows_the_current_time_zone():
    moment = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)
    with translation.override("de"), timezone.override("Europe/Berlin"):
        assert when(moment) == "5. März 2026 00:30"


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_every_date_on_the_connection_pages_uses_the_one_format(alice, alice_client, language):
    connection = online_connection(alice, name="Main")
    Connection.objects.filter(pk=connection.pk).update(last_tested_at=TESTED_AT)
    ConnectionCheck.objects.filter(connection=connection).update(created_at=TESTED_AT)
    AuditEvent.objects.filter(connection_id_ref=connection.pk).update(created_at=TESTED_AT)
    as_language(alice, language)
    with translation.override(language):
        long_form = formats.date_format(TESTED_AT, "DATETIME_FORMAT")
        short_form = formats.date_format(TESTED_AT, "SHORT_DATETIME_FORMAT")
    detail = alice_client.get(reverse("connections:detail", args=[connection.pk])).content
    listing = alice_client.get(reverse("connections:list")).content
    detail, listing = detail.decode(), listing.decode()
    # last tested, the test history and the activity list
    assert detail.count(long_form) >= 3, long_form
    assert long_form in listing
    assert short_form not in detail and short_form not in listing


def test_the_gate_says_when_the_last_test_ran_in_the_same_format(alice, alice_client):
    connection = online_connection(alice, name="Main")
    strategy = stored_strategy(alice, connection)
    html = alice_client.get(reverse("strategies:detail", args=[strategy.pk])).content.decode()
    connection.refresh_from_db()
    assert f"Last tested: {when(connection.last_tested_at)}" in html


# ---------------------------------------------------------------- 10: names and words


def test_list_names_each_exchange_by_its_label(alice, alice_client):
    make_connection(alice, exchange="kucoin", name="Main")
    make_connection(alice, exchange="mexc", name="Second")
    html = alice_client.get(reverse("connections:list")).content.decode()
    assert ">KuCoin<" in html and ">MEXC<" in html
    assert "KUCOIN" not in html


def test_no_template_hard_codes_a_status_word():
    """Every status word goes through translation: none sits as bare English in a template."""
    words = ["Online", "Failed", "Not tested", "Testing", "Enabled", "Paused", "Draft"]
    offenders = []
    for path in [*ROOT.glob("*/templates/**/*.html"), *ROOT.glob("templates/**/*.html")]:
        text = path.read_text()
        offenders += [f"{path.name}: {w}" for w in words if re.search(rf">\s*{w}\s*<", text)]
    assert not offenders


def test_the_online_status_label_is_translatable():
    from django.utils.functional import Promise

    from connections.models import ConnectionStatus

    assert isinstance(ConnectionStatus.ONLINE.label, Promise)


@pytest.mark.parametrize(
    ("language", "online", "sentence"),
    [
        ("de", "Online", "Die Verbindung ist online"),
        ("fr", "En ligne", "La connexion est en ligne"),
    ],
)
def test_status_words_are_translated(alice, alice_client, language, online, sentence):
    connection = online_connection(alice, name="Main")
    strategy = stored_strategy(alice, connection)
    as_language(alice, language)
    detail = alice_client.get(reverse("connections:detail", args=[connection.pk])).content
    assert f'<span class="badge ok">{online}</span>' in detail.decode()
    listing = alice_client.get(reverse("connections:list")).content.decode()
    assert f'<span class="badge ok">{online}</span>' in listing
    gate = alice_client.get(reverse("strategies:detail", args=[strategy.pk])).content.decode()
    assert sentence in gate


# ---------------------------------------------------------------- 12: name ideas


def new_form(client, slug: str) -> str:
    return client.get(reverse("connections:new"), {"exchange": slug}).content.decode()


def test_name_ideas_belong_to_the_chosen_exchange_and_say_what_each_is_for(alice_client):
    mexc = new_form(alice_client, "mexc")
    assert "MEXC Spot Main" in mexc and "MEXC New Groups" in mexc
    assert "KuCoin" not in mexc.split('class="name-ideas"')[1].split("</div>")[0]
    assert "your main spot account on MEXC" in mexc
    assert "older group is still in Recovery Mode" in mexc
    for jargon in ("Recovery PRO Connection", "BTC ETH New Groups"):
        assert jargon not in mexc
    kucoin = new_form(alice_client, "kucoin")
    assert "KuCoin Futures Cautious" in kucoin and "MEXC Spot Main" not in kucoin
    assert "Demo practice" in new_form(alice_client, "demo")


@pytest.mark.parametrize(
    ("language", "name", "purpose"),
    [
        ("de", "MEXC Spot Hauptkonto", "Ihr Spot-Hauptkonto bei MEXC"),
        ("fr", "MEXC Spot Principal", "votre compte Spot principal sur MEXC"),
    ],
)
def test_name_ideas_are_translated(alice, alice_client, language, name, purpose):
    as_language(alice, language)
    html = new_form(alice_client, "mexc")
    assert name in html and purpose in html


# ---------------------------------------------------------------- 13: picker and demo


def test_picker_shows_a_card_per_exchange_from_the_registry(alice_client):
    html = alice_client.get(reverse("connections:new")).content.decode()
    for spec in registry.all_specs(include_demo=True):
        text = card(html, spec.slug)
        futures = Market.FUTURES in spec.markets
        assert ("Spot, Futures" if futures else "<dd>Spot</dd>") in text
        assert ("needed: you choose it" in text) == spec.needs_passphrase
        verified, _, unreported = text.partition("does not report")
        for name in CheckName:
            phrase = str(guides.CAPABILITIES[name]).replace("'", "&#x27;")
            if name in spec.verifies:
                assert phrase in verified, (spec.slug, name)
            elif name == CheckName.FUTURES_PERMISSION and not futures:
                assert phrase not in text, (spec.slug, name)
            elif not spec.is_demo:
                assert phrase in unreported, (spec.slug, name)
        assert f"?exchange={spec.slug}" in text
    assert "not needed" in card(html, "mexc")
    assert "does not take futures orders through its API" in card(html, "mexc")
    assert "does not take futures orders" not in card(html, "kucoin")


def test_demo_form_shows_only_what_applies_to_a_paper_account(alice_client):
    html = new_form(alice_client, "demo")
    assert "demo-key-1" in html and "How the demo works" in html
    for generic in (
        "Log in to your exchange account",
        "Turn withdrawals off",
        "Server IPs",
        "203.0.113.10",
        'class="permissions',
        "API management",
    ):
        assert generic not in html, generic


def test_exchange_forms_keep_the_full_guide(alice_client):
    html = new_form(alice_client, "kucoin")
    assert "Log in to your exchange account" in html and 'class="permissions' in html
    assert "demo-key-1" not in html


# ---------------------------------------------------------------- 14: IPs and links


def test_server_ips_sit_in_the_step_that_needs_them_with_copy_all(alice_client):
    html = new_form(alice_client, "mexc")
    in_steps = steps(html)
    assert "Restrict the key to our server IP addresses" in in_steps
    assert "<code>203.0.113.10</code>" in in_steps and "<code>203.0.113.11</code>" in in_steps
    assert 'data-copy="203.0.113.10,203.0.113.11"' in in_steps
    assert "Copy all" in in_steps
    # ... and nowhere else on the page.
    assert html.count("<code>203.0.113.10</code>") == 1


def test_one_ip_needs_no_copy_all(alice_client, settings):
    settings.EXCHANGE_EGRESS_IPS = ["203.0.113.10"]
    html = new_form(alice_client, "mexc")
    assert "<code>203.0.113.10</code>" in steps(html) and "Copy all" not in html


def test_ip_problem_on_the_detail_page_offers_copy_all(alice, alice_client):
    connection = make_connection(alice, name="Main")
    Connection.objects.filter(pk=connection.pk).update(
        status="failed", problem_category="ip_not_allowed"
    )
    html = alice_client.get(reverse("connections:detail", args=[connection.pk])).content.decode()
    assert "Server IPs to whitelist" in html
    assert 'data-copy="203.0.113.10,203.0.113.11"' in html


@pytest.mark.parametrize(
    ("slug", "url"),
    [
        ("mexc", "https://www.mexc.com/user/openapi"),
        ("kucoin", "https://www.kucoin.com/account/api"),
        ("bybit", "https://www.bybit.com/app/user/api-management"),
    ],
)
def test_each_guide_links_its_exchanges_api_management_page(alice_client, slug, url):
    in_steps = steps(new_form(alice_client, slug))
    assert f'href="{url}"' in in_steps
    assert 'rel="noopener noreferrer"' in in_steps
    for other in {"mexc", "kucoin", "bybit"} - {slug}:
        assert guides.GUIDES[other].api_management_url not in in_steps


def test_bybit_form_offers_demo_trading_and_its_guide(alice_client):
    html = new_form(alice_client, "bybit")
    assert "demo trading" in html
    assert "System-generated API Keys" in html
    assert "90 days" in html


@pytest.mark.parametrize("slug", sorted(guides.GUIDES))
def test_each_guide_says_each_thing_once(slug):
    """The exchange's lines are read in order beside the form: the 'leave withdrawal off'
    instruction has its own line (leave_off) and the 90-day rule its own (expiry); a spot or
    IP line repeating them made MEXC's, KuCoin's and Bitget's guides say things twice."""
    lines = [str(line) for line in guides.GUIDES[slug].hints]
    leave_withdrawal_off = [
        line for line in lines if re.search(r"\b(leave|never tick)\b.*\bwithdraw", line, re.I)
    ]
    ninety_days = [line for line in lines if "90 days" in line]
    assert len(leave_withdrawal_off) <= 1, leave_withdrawal_off
    assert len(ninety_days) <= 1, ninety_days


@pytest.mark.parametrize("slug", sorted(guides.GUIDES))
def test_a_renamed_credential_is_named_the_same_in_its_error(slug):
    """Where the form labels a field in the exchange's words (HTX's "Access Key", Gate's
    "APIv4 key"), the error beside it must not speak of an "API key" or "secret key"."""
    guide = guides.GUIDES[slug]
    assert bool(guide.key_label) <= bool(guide.key_malformed)
    assert bool(guide.secret_label) <= bool(guide.secret_malformed)
