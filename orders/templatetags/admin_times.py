"""Times in admin templates as ``config.times.admin_local`` shows them: the place's clock and
the zone's name (``{{ plan.decidedAt|in_zone:order_zone }}``)."""

from __future__ import annotations

from datetime import datetime

from django import template

from config.times import admin_local

register = template.Library()


@register.filter
def in_zone(value: datetime | str | None, zone_name: str) -> str:
    """A datetime, or an ISO 8601 string from a document, on ``zone_name``'s clock."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return admin_local(value, zone_name)
