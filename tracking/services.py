"""Applying what carriers report: the timeline, the status roll-up through the one status
writer, routes' progress, and the seed 004 events shippers subscribe to."""

from __future__ import annotations

from dataclasses import dataclass

from tracking.facts import CarrierFact


@dataclass
class FactResult:
    """What became of one fact: ``applied`` (it moved something), ``recorded`` (kept in the
    timeline, older than what was applied), or ``duplicate`` (its id was seen before)."""

    outcome: str
    tracking_event_id: str | None = None


def carrier_facts_apply(*, carrier, facts: list[CarrierFact]) -> list[FactResult]:
    """Apply ``facts`` reported by ``carrier``, in one transaction per fact."""
    raise NotImplementedError("tracking.services.carrier_facts_apply arrives with issue 13")
