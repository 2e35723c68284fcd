"""Fixtures shared by the connection service tests."""

from __future__ import annotations

import pytest

from connections import tasks


@pytest.fixture
def sent(monkeypatch):
    """What would be published: (args, options) per connection_check message."""
    published = []
    monkeypatch.setattr(
        tasks.connection_check,
        "apply_async",
        lambda args=None, kwargs=None, **options: published.append((args, options)),
    )
    return published
