"""How every page shows dates and its title: one place, so no page can drift.

Loaded in templates as `{% load display %}` (registered in settings.TEMPLATES); Python code
that puts a date into a sentence calls `when()` directly.
"""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import formats, timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe

register = template.Library()

SITE_NAME = "BackFuture"
TITLE_SEPARATOR = " · "


@register.filter
def when(value: date | datetime | None, part: str = "") -> str:
    """A date and time in the reader's language (`{{ value|when }}`), or only the date
    (`{{ value|when:"date" }}`): Django's DATETIME_FORMAT/DATE_FORMAT for the active language,
    in the current time zone. Nothing for a missing value."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        if part != "date":
            return formats.date_format(value, "DATETIME_FORMAT")
        value = value.date()
    return formats.date_format(value, "DATE_FORMAT")


@register.filter(is_safe=True)
def page_title(value: str) -> SafeString:
    """The page title, then the site: "Dashboard · BackFuture"; just "BackFuture" if empty."""
    title = str(value).strip()
    if not title:
        return mark_safe(SITE_NAME)  # noqa: S308 (a constant)
    if isinstance(value, SafeData):
        title = mark_safe(title)  # noqa: S308 (stripping keeps escaped text escaped)
    return mark_safe(f"{conditional_escape(title)}{TITLE_SEPARATOR}{SITE_NAME}")  # noqa: S308
