from __future__ import annotations

from typing import Any

from django import template

from connections import presenters

register = template.Library()


@register.filter
def exchange_label(value: Any) -> str:
    """The exchange's name as people know it ("KuCoin", not "KUCOIN"), from the registry; for
    a connection, marked "demo trading" when it uses the exchange's demo environment."""
    if isinstance(value, str):
        return presenters.exchange_label(value)
    return presenters.exchange_label(value.exchange, demo=value.demo)
