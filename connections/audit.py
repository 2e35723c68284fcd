"""Writing audit events. Called by services only, inside their transactions."""

from __future__ import annotations

from typing import Any

from connections.models import ActorKind, AuditEvent, Connection

# Keys that must never reach the audit log, whatever a caller passes in `data`.
_FORBIDDEN_KEYS = {"api_key", "api_secret", "secret", "passphrase", "password", "key"}


def _actor_kind(actor) -> str:
    if actor is None:
        return ActorKind.SYSTEM
    return ActorKind.STAFF if getattr(actor, "is_staff", False) else ActorKind.USER


def build(
    obj, action: str, *, actor=None, data: dict[str, Any] | None = None, staff: bool | None = None
) -> AuditEvent:
    """The unsaved event `record` would write (for a bulk insert of many)."""
    payload = {k: v for k, v in (data or {}).items() if k.lower() not in _FORBIDDEN_KEYS}
    if isinstance(obj, Connection):
        object_type, connection_id, owner_id = "connection", obj.pk, obj.owner_id
    else:
        object_type, connection_id, owner_id = "strategy", obj.connection_id, obj.owner_id
    kind = _actor_kind(actor)
    if staff is not None:
        kind = ActorKind.STAFF if staff else kind
    elif actor is not None and actor.pk == owner_id:
        kind = ActorKind.USER
    return AuditEvent(
        owner_id=owner_id,
        actor=actor,
        actor_kind=kind,
        action=action,
        object_type=object_type,
        object_id=obj.pk,
        object_label=str(obj)[:200],
        connection_id_ref=connection_id,
        data=payload,
    )


def record(
    obj, action: str, *, actor=None, data: dict[str, Any] | None = None, staff: bool | None = None
) -> AuditEvent:
    """Record `action` on a Connection or Strategy.

    `actor` is the user who acted (None for the system). A staff member acting on someone else's
    object is recorded as staff even if the object is their own test account.
    """
    event = build(obj, action, actor=actor, data=data, staff=staff)
    event.save(force_insert=True)
    return event
