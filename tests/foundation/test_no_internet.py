from __future__ import annotations

import pytest
import requests


def test_unplanned_outgoing_http_call_fails():
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("https://api.mexc.com/api/v3/time", timeout=1)
