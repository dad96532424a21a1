from typing import Any

from django.db import transaction
from django.utils import timezone

from webhooks.catalogue import event_type_get
from webhooks.models import Event, EventCategory


def event_build(
    *,
    type: str,
    live_mode: bool,
    entity_type: str,
    entity_id: Any,
    root_entity_type: str,
    root_entity_id: Any,
    shipper=None,
    carrier=None,
    entity_ref: str = "",
    root_entity_ref: str = "",
    correlation_id: str = "",
    category: str = EventCategory.ORCHESTRATION_AUDIT,
    version: str | None = None,
    **builder_args: Any,
) -> Event:
    """An unsaved event, its data built by the catalogue's builder for ``version`` (or latest)."""
    event_type = event_type_get(type)
    version = version or event_type.latest_version
    return Event(
        type=type,
        version=version,
        live_mode=live_mode,
        date_time=timezone.now(),
        data=event_type.builders[version](**builder_args),
        category=category,
        shipper=shipper,
        carrier=carrier,
        entity_type=entity_type,
        entity_id=str(entity_id),
        entity_ref=entity_ref,
        root_entity_type=root_entity_type,
        root_entity_id=str(root_entity_id),
        root_entity_ref=root_entity_ref,
        correlation_id=correlation_id,
    )


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Events must be written inside the transaction of their change.")


def event_append(**kwargs: Any) -> Event:
    """Build and store one event; must run inside the transaction of the change it records."""
    _require_transaction()
    event = event_build(**kwargs)
    event.save(force_insert=True)
    return event


def events_append(*, events: list[Event]) -> list[Event]:
    """Store events built with ``event_build`` in one statement, in the caller's transaction."""
    _require_transaction()
    return Event.objects.bulk_create(events)
