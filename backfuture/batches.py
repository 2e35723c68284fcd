"""Rewrite many rows in batches without losing a write made meanwhile.

Used by the key-rotation commands. Each batch's ids are read without locks; the rows are then
locked (in id order, like every other multi-row lock, so two lockers cannot deadlock) and read
again inside the transaction, and only those fresh values are rewritten. A value replaced by a
user while the command runs is therefore either already in the row when it is locked (and
rotated in its new form) or written after the batch commits; it can never be overwritten with
a rewrite of the old value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models, transaction


def rewrite_in_locked_batches(
    queryset: models.QuerySet,
    *,
    columns: list[str],
    change: Callable[[models.Model], dict[str, Any] | None],
    batch_size: int,
) -> tuple[int, int]:
    """Apply `change(row)` (a dict of new column values, or None) to every row of `queryset`.

    Returns (rows changed, rows seen). Each batch commits on its own, so an interrupted run
    simply continues where it stopped when started again.
    """
    model = queryset.model
    changed = seen = 0
    last_pk = None
    while True:
        ids = queryset.order_by("pk")
        if last_pk is not None:
            ids = ids.filter(pk__gt=last_pk)
        batch = list(ids.values_list("pk", flat=True)[:batch_size])
        if not batch:
            return changed, seen
        with transaction.atomic():
            rows = (
                model._base_manager.select_for_update()
                .filter(pk__in=batch)
                .order_by("pk")
                .only("pk", *columns)
            )
            for row in rows:
                seen += 1
                changes = change(row)
                if changes:
                    model._base_manager.filter(pk=row.pk).update(**changes)
                    changed += 1
        last_pk = batch[-1]
