"""Changelist filters only on what an admin shows.

Django's admin accepts any lookup on a model's own fields in the changelist's query string
(`?key_fingerprint__startswith=ab`), whatever the admin displays, so a hidden column can be
recovered one character at a time. `ShownLookupsOnlyMixin` accepts only the parameters that the
admin's own list filters and date hierarchy produce; anything else is refused the way Django
refuses a disallowed lookup (HTTP 400). Every registered admin must use it (system check
backfuture.E010), including the third-party ones re-registered in backfuture/users/admin.py.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.filters import SimpleListFilter
from django.core import checks
from django.db.models.constants import LOOKUP_SEP

# The lookups Django's field list filters and date hierarchy put in the query string:
# `status__exact`, `owner__id__exact`, `created_at__gte`/`__lt`, `x__isnull`, `x__in`, and
# the hierarchy's `created_at__year`/`__month`/`__day`.
FILTER_LOOKUPS = frozenset(
    {"exact", "isnull", "in", "gte", "gt", "lte", "lt", "year", "month", "day"}
)


class ShownLookupsOnlyMixin:
    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if not self._filters_produce(lookup, value, request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def _filters_produce(self, lookup: str, value, request) -> bool:
        # The raw-id popup of a foreign key with `limit_choices_to` filters by those choices.
        for fk_lookup in self.model._meta.related_fkey_lookups:
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return True
        paths = set()
        list_filter = self.get_list_filter(request) if request is not None else self.list_filter
        for item in list_filter:
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                if lookup == item.parameter_name:
                    return True
            elif isinstance(item, (list, tuple)):
                paths.add(item[0])
            else:
                paths.add(item)
        if self.date_hierarchy:
            paths.add(self.date_hierarchy)
        parts = lookup.split(LOOKUP_SEP)
        if len(parts) > 1 and parts[-1] in FILTER_LOOKUPS:
            parts = parts[:-1]
        if LOOKUP_SEP.join(parts) in paths:
            return True
        # A relation filter names the related row by its primary key: `owner__id__exact`.
        return len(parts) > 1 and parts[-1] in ("id", "pk") and LOOKUP_SEP.join(parts[:-1]) in paths


@checks.register(checks.Tags.admin)
def check_admin_lookups(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"The admin of {model._meta.label} ({type(model_admin).__qualname__}) accepts "
            "changelist lookups on fields it does not show.",
            hint="Derive it from backfuture.admin_lookups.ShownLookupsOnlyMixin.",
            id="backfuture.E010",
        )
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, ShownLookupsOnlyMixin)
    ]
