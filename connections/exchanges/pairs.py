"""Shared pieces of the API-tradable pair lists (`ExchangeAPI.pairs`, `symbols.py`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

# Exchange-specific asset codes for the same coin; we show the common one.
ASSET_ALIASES: Mapping[str, str] = {"XBT": "BTC"}

_ASSET = re.compile(r"[A-Z0-9]{1,20}")


class SymbolListUnavailable(Exception):
    """The exchange's list could not be fetched or read. Temporary: try again later."""


def normalise_pair(base: Any, quote: Any) -> str | None:
    """`BASE/QUOTE` in upper case with aliases applied; None for values that are not assets."""
    if not isinstance(base, str) or not isinstance(quote, str):
        return None
    base, quote = base.strip().upper(), quote.strip().upper()
    base, quote = ASSET_ALIASES.get(base, base), ASSET_ALIASES.get(quote, quote)
    if not _ASSET.fullmatch(base) or not _ASSET.fullmatch(quote):
        return None
    return f"{base}/{quote}"


def rows_of(
    payload: Any, where: str, *, ok: Callable[[dict], bool], key: str = "data"
) -> list[dict]:
    """The list of row objects under `key` of a successful answer (`ok`), or unavailable."""
    if not isinstance(payload, dict) or not ok(payload):
        code = payload.get("code") if isinstance(payload, dict) else None
        raise SymbolListUnavailable(f"{where}: error answer (code {code!r})")
    rows = payload.get(key)
    if not isinstance(rows, list):
        raise SymbolListUnavailable(f"{where}: no {key} list in the answer")
    return [row for row in rows if isinstance(row, dict)]
