"""Group commit: what threads hand over while a group is being applied goes in the next
group, applied by the first of them; a group that fails is applied again item by item."""

import threading
import time

import pytest

from config.groupcommit import GroupCommit

WAIT_S = 30.0


def wait_until(predicate, threads: list[threading.Thread]) -> None:
    """Until ``predicate()``; fails at once when a thread it waits on has ended."""
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        ended = [t.name for t in threads if not t.is_alive()]
        assert not ended, f"{ended} ended first"
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.001)


class Gated:
    """An ``apply`` whose first ``held`` calls wait for ``release``: others queue meanwhile."""

    def __init__(self, answer=lambda items: [f"{i}!" for i in items], held: int = 1) -> None:
        self.answer = answer
        self.held = held
        self.calls: list[tuple[str, list]] = []
        self.release = threading.Event()

    def __call__(self, items: list) -> list:
        self.calls.append((threading.current_thread().name, list(items)))
        if len(self.calls) <= self.held:
            assert self.release.wait(WAIT_S)
        return self.answer(items)


def run(group_commit: GroupCommit, gated: Gated, first, *later) -> dict:
    """``first`` taken and held in its group while ``later`` arrive one by one; what each
    thread got, by its item's name (``str``)."""
    outcomes: dict = {}

    def take(item) -> None:
        try:
            outcomes[str(item)] = group_commit.take(item)
        except Exception as exc:  # noqa: BLE001  compared below
            outcomes[str(item)] = exc

    threads = [threading.Thread(target=take, args=(first,), name=str(first))]
    threads[0].start()
    wait_until(lambda: gated.calls, threads)
    for index, item in enumerate(later, start=1):
        thread = threading.Thread(target=take, args=(item,), name=str(item))
        threads.append(thread)
        thread.start()
        wait_until(lambda n=index: group_commit.waiting() == n, threads)
    gated.release.set()
    for thread in threads:
        thread.join(WAIT_S)
        assert not thread.is_alive()
    return outcomes


def test_an_item_alone_is_applied_at_once_and_alone():
    calls = []
    group_commit = GroupCommit(lambda items: calls.append(items) or ["done"], key=id, max_items=9)

    assert group_commit.take("a") == "done"
    assert group_commit.take("b") == "done"
    assert calls == [["a"], ["b"]]
    assert group_commit.waiting() == 0


def test_those_arriving_meanwhile_are_applied_together_by_the_first_of_them():
    gated = Gated()
    group_commit = GroupCommit(gated, key=lambda item: 0, max_items=9)

    outcomes = run(group_commit, gated, "a", "b", "c", "d")

    assert gated.calls == [("a", ["a"]), ("b", ["b", "c", "d"])]
    assert outcomes == {"a": "a!", "b": "b!", "c": "c!", "d": "d!"}
    assert group_commit.take("e") == "e!"  # quiet again: alone


def test_with_two_groups_at_once_a_second_item_goes_at_once_and_the_rest_wait():
    gated = Gated(held=2)
    group_commit = GroupCommit(gated, key=lambda item: 0, max_items=9, groups_at_once=2)
    outcomes: dict = {}

    def take(item) -> None:
        outcomes[item] = group_commit.take(item)

    threads = []
    for index, item in enumerate("abcd"):
        threads.append(threading.Thread(target=take, args=(item,), name=item))
        threads[-1].start()
        if index < 2:
            wait_until(lambda n=index + 1: len(gated.calls) == n, threads)
        else:
            wait_until(lambda n=index - 1: group_commit.waiting() == n, threads)
    gated.release.set()
    for thread in threads:
        thread.join(WAIT_S)
        assert not thread.is_alive()

    assert sorted(gated.calls[:2]) == [("a", ["a"]), ("b", ["b"])]
    assert gated.calls[2:] == [("c", ["c", "d"])]
    assert outcomes == {"a": "a!", "b": "b!", "c": "c!", "d": "d!"}
    assert [group_commit.take("e"), group_commit.waiting()] == ["e!", 0]


def test_a_group_holds_at_most_max_items_and_the_next_one_leads_the_rest():
    gated = Gated()
    group_commit = GroupCommit(gated, key=lambda item: 0, max_items=2)

    outcomes = run(group_commit, gated, "a", "b", "c", "d")

    assert gated.calls == [("a", ["a"]), ("b", ["b", "c"]), ("d", ["d"])]
    assert outcomes == {"a": "a!", "b": "b!", "c": "c!", "d": "d!"}


def test_items_of_different_keys_are_applied_apart():
    gated = Gated()
    group_commit = GroupCommit(gated, key=lambda item: item[0], max_items=9)

    run(group_commit, gated, "x0", "x1", "y1", "x2")

    assert gated.calls == [("x0", ["x0"]), ("x1", ["x1", "x2"]), ("x1", ["y1"])]


def test_a_failed_group_is_applied_again_item_by_item_each_keeping_its_own_error():
    def answer(items):
        if len(items) > 1:
            raise RuntimeError("one of them broke the group")
        if items == ["bad"]:
            raise ValueError("bad on its own")
        return [f"{items[0]}!"]

    gated = Gated(answer)
    group_commit = GroupCommit(gated, key=lambda item: 0, max_items=9)

    outcomes = run(group_commit, gated, "a", "b", "bad", "c")

    assert [items for _, items in gated.calls] == [["a"], ["b", "bad", "c"], ["b"], ["bad"], ["c"]]
    assert {k: v for k, v in outcomes.items() if k != "bad"} == {"a": "a!", "b": "b!", "c": "c!"}
    assert isinstance(outcomes["bad"], ValueError)
    assert str(outcomes["bad"]) == "bad on its own"


def test_a_leader_interrupted_mid_group_still_answers_its_group_and_hands_on():
    def answer(items):
        if items == ["b", "c"]:
            raise KeyboardInterrupt  # not an Exception: nothing is applied again
        return [f"{i}!" for i in items]

    gated = Gated(answer)
    group_commit = GroupCommit(gated, key=lambda item: 0, max_items=2)
    outcomes: dict = {}

    def take(item) -> None:
        try:
            outcomes[item] = group_commit.take(item)
        except BaseException as exc:  # noqa: BLE001  compared below
            outcomes[item] = exc

    threads = [threading.Thread(target=take, args=(i,), name=i) for i in "abcd"]
    threads[0].start()
    wait_until(lambda: gated.calls, threads[:1])
    for index, thread in enumerate(threads[1:], start=1):
        thread.start()
        wait_until(lambda n=index: group_commit.waiting() == n, threads[: index + 1])
    gated.release.set()
    for thread in threads:
        thread.join(WAIT_S)
        assert not thread.is_alive()

    assert isinstance(outcomes["b"], KeyboardInterrupt)
    assert isinstance(outcomes["c"], RuntimeError)
    assert outcomes["d"] == "d!"  # handed on all the same
    assert group_commit.waiting() == 0


@pytest.mark.parametrize("size", [1, 3])
def test_every_thread_gets_its_own_result(size):
    gated = Gated(lambda items: [item * 2 for item in items])
    group_commit = GroupCommit(gated, key=lambda item: 0, max_items=9)

    outcomes = run(group_commit, gated, 1, *range(2, 2 + size))

    assert outcomes == {str(i): i * 2 for i in range(1, 2 + size)}
