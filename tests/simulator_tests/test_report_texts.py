"""Every exchange's reports read naturally in every language: each scenario the simulator
plays is run through the real client, and every check's detail is rendered in English,
German and French as the report page does (`problems.check_detail`). No detail may fall back
to "Result code: …", leave a placeholder unfilled ("?", which `_Params` puts in for a
parameter the client did not give) or stay in English in German or French."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.utils import translation

from connections.exchanges import problems, registry
from connections.exchanges.base import Credentials, Market, TemporaryExchangeError
from tests.simulator.registry import SIM_EXCHANGES

DAY_MS = 86_400_000
SCENARIOS = {
    "healthy": {},
    "no trade": {"trade": False},
    "no futures": {"futures": False},
    "withdrawal on": {"withdrawal": True},
    "ip whitelisted elsewhere": {"ip_whitelist": ["198.51.100.7"]},
    "ip whitelisted": {"ip_whitelist": ["127.0.0.1"]},
    "expiring soon": {"expires_at_ms": int(time.time() * 1000) + 3 * DAY_MS},
}
CASES = [
    pytest.param(slug, market, scenario, demo, id=f"{slug}-{market}-{scenario}{'-demo' * demo}")
    for slug in SIM_EXCHANGES
    for market in registry.get(slug).markets
    for scenario in SCENARIOS
    for demo in ([False, True] if registry.get(slug).demo_environment else [False])
    if not demo or scenario in ("healthy", "no trade")
]

LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]


@pytest.mark.parametrize(("slug", "market", "scenario", "demo"), CASES)
def test_every_report_detail_reads_naturally_in_every_language(sim, slug, market, scenario, demo):
    key = sim.new_key(slug, demo=demo, **SCENARIOS[scenario])
    client = registry.build_client(slug, sim.urls, demo=demo)
    try:
        report = client.run_checks(
            Credentials(key.api_key, key.secret, key.passphrase or ""), Market(market)
        )
    except TemporaryExchangeError:
        pytest.skip("the simulator has no such scenario for this exchange")
    for check in report.checks:
        english = problems.check_detail(check.code, check.params)
        assert check.code in problems.CHECK_DETAILS, (check.name, check.code)
        assert "?" not in english, (check.code, check.params, english)
        for language in LANGUAGES:
            with translation.override(language):
                text = problems.check_detail(check.code, check.params)
            assert "?" not in text, (language, check.code, check.params, text)
            assert text != english, (language, check.code, "not translated")
