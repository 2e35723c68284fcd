from __future__ import annotations

from django import template

from connections import presenters

register = template.Library()


@register.filter
def exchange_label(slug: str) -> str:
    """The exchange's name as people know it ("KuCoin", not "KUCOIN"), from the registry."""
    return presenters.exchange_label(slug)
