"""Exchange clients: plain Python over `requests`, no Django models.

Start at `registry` (which exchanges exist, `build_client`) and `base` (the report types and
errors). `problems` renders the report's codes as translated text.
"""

from __future__ import annotations

from .base import (
    Category,
    CheckName,
    CheckReport,
    CheckResult,
    Credentials,
    ExchangeClient,
    ExchangeError,
    Market,
    Outcome,
    PermanentExchangeError,
    TemporaryExchangeError,
    failed_report,
)

__all__ = [
    "Category",
    "CheckName",
    "CheckReport",
    "CheckResult",
    "Credentials",
    "ExchangeClient",
    "ExchangeError",
    "Market",
    "Outcome",
    "PermanentExchangeError",
    "TemporaryExchangeError",
    "failed_report",
]
