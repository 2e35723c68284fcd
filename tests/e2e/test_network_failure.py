"""Our server cannot reach an exchange (issue 19 #5): the page says so, not "the exchange"."""

from __future__ import annotations

import re
import socket

import pytest
from django.db import connection as db_connection
from playwright.sync_api import expect

from tests.e2e.conftest import add_connection, screenshot, sign_up
from tests.integration.conftest import require_services, worker_env
from tests.workers import WorkerFailed, spawn_worker, stop_worker

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def app_without_route_to_mexc(live_server, simulator, settings, tmp_path):
    """The product in production mode (as the `app` fixture), with a worker whose MEXC URL
    points at a closed port: every connection to MEXC is refused, as with a dead route."""
    require_services()
    settings.DEBUG = False
    settings.CONNECTION_TEST_COOLDOWN = 0
    urls = {**simulator.urls, "mexc": f"http://127.0.0.1:{closed_port()}"}
    env = worker_env(
        simulator,
        EXCHANGE_URLS=",".join(f"{role}={url}" for role, url in urls.items()),
        # Retries a few seconds apart, so the live status can be seen while they run.
        CONNECTION_TEST_RETRY_BASE="1.5",
    )
    try:
        worker = spawn_worker(env, tmp_path / "worker.log", concurrency=1)
    except WorkerFailed as failure:
        pytest.fail(str(failure))
    try:
        yield live_server
    finally:
        stop_worker(worker)
        db_connection.close()


def test_no_route_to_the_exchange_says_our_server_could_not_reach_it(
    app_without_route_to_mexc, page, simulator
):
    app = app_without_route_to_mexc
    sign_up(page, app.url, "offline@example.com")
    add_connection(page, app.url, simulator.new_key("mexc"), exchange="mexc", name="MEXC Main")
    page.click("form.test-form button[type=submit]")
    status = page.locator("#connection-body .status")
    expect(status).to_contain_text(re.compile(r"Retrying \([234] of 4\)"), timeout=30_000)
    expect(status).to_contain_text("Our server could not connect to the exchange")
    screenshot(page, "network-failure-retrying")

    expect(status.locator(".badge").first).to_have_text("Failed", timeout=45_000)
    body = page.locator("#connection-body")
    expect(body).to_contain_text("Exchange not reachable from our server")
    expect(body).to_contain_text("Nothing is known to be wrong with your key")
    expect(body).to_contain_text("Our server could not connect to the exchange")
    expect(body).not_to_contain_text("The exchange API")
    expect(body).not_to_contain_text("The exchange did not answer properly")
    screenshot(page, "network-failure")
