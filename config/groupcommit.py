import os
import threading
from collections.abc import Callable, Hashable
from typing import Any

_PENDING = object()


class _Ticket:
    __slots__ = ("key", "item", "result", "error", "ready", "group")

    def __init__(self, key: Hashable, item: Any) -> None:
        self.key, self.item = key, item
        self.result: Any = _PENDING
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.group: list[_Ticket] | None = None  # the group this item's thread is to apply

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit:
    """Items that threads of one process hand to ``apply`` at the same time, applied
    together: one transaction for the requests that arrived while others ran, as PostgreSQL
    groups the WAL flushes of concurrent commits.

    Up to ``groups_at_once`` groups are applied at the same time, each by one of the threads
    whose item is in it. An item arriving while fewer are under way is applied at once: a
    process serving a few requests at a time runs them as it would without this, and nothing
    waits for company. Items arriving while that many are under way wait; when a group ends,
    the first of them applies them all, its own included, and returns when its group is done,
    so no thread serves others for long.

    ``apply(items)`` gets the items of one ``key`` in the order they arrived and returns one
    result each, and raises only when it kept nothing of them (its transaction rolled back).
    When it raises on a group of several, each item is applied again alone: every caller
    gets what it would have got had it come alone (a conflict, an error of its own, a bug),
    never another's."""

    def __init__(
        self,
        apply: Callable[[list], list],
        key: Callable[[Any], Hashable],
        max_items: int,
        groups_at_once: int = 1,
    ) -> None:
        self.apply = apply
        self.key = key
        self.max_items = max_items
        self.groups_at_once = groups_at_once
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked child has no group going

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[_Ticket] = []
        self._under_way = 0  # groups being applied

    def take(self, item: Any) -> Any:
        """``item`` applied, with the items other threads are handing over meanwhile."""
        ticket = _Ticket(self.key(item), item)
        with self._lock:
            self._waiting.append(ticket)
            if self._under_way < self.groups_at_once:
                self._under_way += 1
                ticket.group = self._next_group()
        if ticket.group is None:
            ticket.ready.wait()  # for its result, or for a group to apply
        if ticket.group is not None:
            self._lead(ticket.group)
        return ticket.outcome()

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def _next_group(self) -> list[_Ticket]:
        group = self._waiting[: self.max_items]
        del self._waiting[: self.max_items]
        return group

    def _lead(self, group: list[_Ticket]) -> None:
        try:
            self._group_apply(group)
        finally:
            for ticket in group:
                ticket.group = None
                if ticket.result is _PENDING and ticket.error is None:
                    ticket.error = RuntimeError("The group this item was in stopped.")
            with self._lock:
                successor = self._waiting[0] if self._waiting else None
                if successor is not None:
                    successor.group = self._next_group()
                else:
                    self._under_way -= 1
            if successor is not None:
                successor.ready.set()
            for ticket in group:
                ticket.ready.set()

    def _group_apply(self, group: list[_Ticket]) -> None:
        by_key: dict[Hashable, list[_Ticket]] = {}
        for ticket in group:
            by_key.setdefault(ticket.key, []).append(ticket)
        for tickets in by_key.values():
            if len(tickets) > 1:
                try:
                    results = self.apply([t.item for t in tickets])
                except Exception:
                    pass  # each alone, below
                else:
                    for ticket, result in zip(tickets, results, strict=True):
                        ticket.result = result
                    continue
            for ticket in tickets:
                try:
                    [ticket.result] = self.apply([ticket.item])
                except Exception as exc:
                    ticket.error = exc
