from __future__ import annotations

from django import template

from strategies.gate import number

register = template.Library()


@register.filter
def plain_number(value):
    """Locale-aware, grouped, without padded zeros: 1.5 not 1.5000 (1,5 in German)."""
    return number(value)
