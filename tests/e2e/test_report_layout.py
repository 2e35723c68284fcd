"""The report's checklist on a phone: each check's label and detail start on one line down
the list, whatever the mark beside it (✓ ✗ ! ? –) and however long the detail."""

from __future__ import annotations

import pytest

from backfuture.users.models import User
from tests.e2e.conftest import screenshot, signed_in_page
from tests.strategies.factories import online_connection

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_checklist_details_line_up_on_a_phone(web, browser):
    page = signed_in_page(browser, web.url, email="report@example.com")
    try:
        connection = online_connection(User.objects.get(email="report@example.com"))
        page.set_viewport_size({"width": 360, "height": 780})
        page.goto(f"{web.url}/connections/{connection.pk}/")
        marks = page.locator("#connection-body ul.checklist li > .mark")
        texts = page.locator("#connection-body ul.checklist li > .mark + span")
        assert texts.count() == 8
        # A mark squeezed by a long detail beside it pushed its text out of line.
        widths = {round(box["width"]) for box in (m.bounding_box() for m in marks.all())}
        lefts = {round(box["x"]) for box in (t.bounding_box() for t in texts.all())}
        screenshot(page, "exchanges/report-checklist-360px")
        assert len(widths) == 1 and len(lefts) == 1, (widths, lefts)
    finally:
        page.context.close()
