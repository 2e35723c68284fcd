"""When an API key stops working by the exchange's own rules, where its API does not say.

Exchanges that report an expiry (KuCoin, Bybit, HTX) fill `CheckReport.key_expires_at`; for the
others a rule may imply one. Plain Python over the row and the report: no writes here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

# Keys without an IP binding stop working this many days after they were created (or replaced
# here, the closest date we know): MEXC (exchanges.md, MEXC "Other facts", from the MEXC docs'
# FAQ: "without IP binding expires after 90 days") and HTX (exchanges-more.md, HTX: "Without
# any IP address binding, the API key will expire in 90 days", used only where its report gives
# no `validDays`). A key with an IP binding does not expire.
UNBOUND_KEY_DAYS = {"mexc": 90, "htx": 90}

# The reminders, in days before the expiry; 0 is the expiry day itself (strategies pause).
REMINDER_DAYS = (14, 3, 1)
EXPIRY_DAY = 0


def implied_expiry(connection: Any, report: Any) -> datetime | None:
    """The expiry a rule implies for `connection` after `report`, or None.

    Applies where the report says the key has no IP restriction, or cannot tell (MEXC's API
    does not say): we remind rather than let a key lapse unannounced.
    """
    days = UNBOUND_KEY_DAYS.get(connection.exchange)
    if days is None or connection.demo or report.verdict != "online":
        return None
    if report.ip_restricted is True:
        return None
    since = connection.key_replaced_at or connection.created_at
    return since + timedelta(days=days) if since else None


def reminder_due(expires_at: datetime, now: datetime) -> int | None:
    """Which reminder is due now for a key expiring at `expires_at`: the most urgent of 14, 3
    and 1 days before whose time has come, 0 on (or after) the expiry day, None before 14 days.
    Days are UTC calendar days for the expiry day, exact durations for the others."""
    if now.date() >= expires_at.date():
        return EXPIRY_DAY
    left = expires_at - now
    due = [days for days in REMINDER_DAYS if left <= timedelta(days=days)]
    return min(due) if due else None
