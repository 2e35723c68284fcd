"""The connection page (issue 19): the balances the test read, and no stray meta refresh."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from connections import presenters
from connections.exchanges.base import CheckReport, Market
from connections.models import Connection
from tests.connections.factories import make_connection
from tests.strategies.factories import online_connection

pytestmark = pytest.mark.django_db


def test_connection_page_shows_the_balances_the_test_read(alice, alice_client):
    conn = online_connection(alice, name="Demo Spot")  # the demo reads 10000 USDT and 0.25 BTC
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert "Balances readable (2 assets shown)" in html
    table = re.search(r'<table class="balances">.*?</table>', html, re.S).group(0)
    assert "<th>Free</th><th>Locked</th>" in table
    rows = re.findall(
        r"<tr><td>(\w+)</td><td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td></tr>",
        table,
    )
    assert rows == [("USDT", "10,000.00", "0.00"), ("BTC", "0.25", "0")]


def test_futures_balances_show_the_margin_balance(alice, alice_client):
    conn = online_connection(alice, market="futures", name="Demo Futures")
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    table = re.search(r'<table class="balances">.*?</table>', html, re.S).group(0)
    assert "<th>Margin balance</th><th>Available</th>" in table and "10,000.00" in table


def test_balances_shown_are_capped_quote_currencies_first_then_largest(alice, alice_client):
    balances = [{"asset": f"C{n:02}", "free": str(n), "locked": "0"} for n in range(1, 13)]
    balances.append({"asset": "USDT", "free": "5", "locked": "1"})
    report = CheckReport(exchange="mexc", market=Market.SPOT, balances=balances)
    table = presenters.balance_table(report)
    assets = [asset for asset, _, _ in table.rows]
    assert assets == ["USDT", "C12", "C11", "C10", "C09", "C08", "C07", "C06"]
    assert table.hidden == 13 - presenters.MAX_BALANCES_SHOWN
    conn = make_connection(alice, exchange="mexc", name="Many assets")
    Connection.objects.filter(pk=conn.pk).update(
        status="online",
        last_report={
            **report.to_dict(),
            "checks": [
                {
                    "name": "balances",
                    "outcome": "ok",
                    "code": "balances_read",
                    "params": {"count": 13},
                }
            ],
        },
    )
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert "and 5 more assets, not shown" in html


def test_no_table_when_the_balances_were_not_read(alice, alice_client):
    conn = make_connection(alice, exchange="mexc", name="Untested")
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert 'class="balances"' not in html


def test_a_swapped_testing_body_carries_no_meta_refresh(alice, alice_client, settings):
    # htmx parses swapped HTML with scripting off: a <noscript> meta refresh in it becomes a
    # live element and reloads the page 3 s later, mid-test (seen as aborted navigations).
    settings.CONNECTION_TEST_COOLDOWN = 0
    conn = make_connection(alice, exchange="demo", name="Demo")
    url = reverse("connections:test", args=[conn.pk])
    html = alice_client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Testing…" in html and 'http-equiv="refresh"' not in html
    # Without JavaScript the full page still refreshes itself while the test runs.
    page = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
