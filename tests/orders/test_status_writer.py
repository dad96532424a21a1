"""One writer of ``Order.status``: ``orders.services.order_statuses_move`` (and its one-order
form). It checks ``ORDER_TRANSITIONS``, writes the history and the move's event; the source
tree is searched so that no other code writes the status."""

import ast
import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from config.api.errors import Conflict
from orders.models import Order, OrderHistory, OrderStatus
from orders.services import order_status_move, order_statuses_move
from tests.factories import order_payload
from webhooks.models import Event

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "carriers", "config", "orders", "routing", "tracking", "webhooks", "bench")
# The writer: the only functions allowed to write Order.status.
WRITER = ("orders/services.py", "order_statuses_move")


def _create(client, count: int = 1) -> list[Order]:
    ids = [
        client.post("/api/v1/orders", order_payload(), format="json").json()["id"]
        for _ in range(count)
    ]
    return list(Order.objects.select_related("shipper").filter(id__in=ids))


@pytest.mark.django_db
def test_an_illegal_move_is_refused_with_a_conflict_and_changes_nothing(client_a):
    [order] = _create(client_a)
    Order.objects.filter(id=order.id).update(status=OrderStatus.DELIVERED)
    order.refresh_from_db()

    with pytest.raises(Conflict) as refused:
        order_status_move(order=order, to=OrderStatus.PLANNED, actor="test", reason="r")

    assert refused.value.code == "illegal_status_move"
    assert Order.objects.get(id=order.id).status == OrderStatus.DELIVERED
    assert not OrderHistory.objects.filter(order=order, action=OrderStatus.PLANNED).exists()


@pytest.mark.django_db
def test_a_bulk_move_writes_status_history_and_event_in_a_few_statements(
    client_a, django_assert_max_num_queries
):
    orders = _create(client_a, 5)

    with django_assert_max_num_queries(4):
        order_statuses_move(
            orders=orders, to=OrderStatus.CANCELLED, actor="test", reason="Shop closed"
        )

    for order in Order.objects.filter(id__in=[o.id for o in orders]):
        assert order.status == OrderStatus.CANCELLED
        assert order.cancel_reason == "Shop closed" and order.cancelled_at is not None
        history = OrderHistory.objects.get(order=order, action=OrderStatus.CANCELLED)
        assert history.changes == {"status": ["created", "cancelled"]}
    assert Event.objects.filter(type="OrderCancelled").count() == 5


@pytest.mark.django_db
def test_a_move_from_a_stale_status_is_refused(client_a):
    [order] = _create(client_a)
    Order.objects.filter(id=order.id).update(status=OrderStatus.PICKED_UP)

    # ``order`` still says created: the compare-and-set finds the row moved on.
    with pytest.raises(Conflict):
        order_status_move(order=order, to=OrderStatus.CANCELLED, actor="test", reason="r")
    assert Order.objects.get(id=order.id).status == OrderStatus.PICKED_UP


# --- the source tree has one writer -------------------------------------------------------


def _root_name(node: ast.AST) -> str:
    """The name an expression hangs from: ``orders[i].x`` → ``orders``, ``Order.objects``
    → ``Order``, ``stop.order`` → ``order`` (the last attribute of a plain chain)."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _root_name(node.value)
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _chain_root(node: ast.AST) -> str:
    """The first name of a call chain: ``Order.objects.filter(…).update`` → ``Order``."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def _is_order(name: str) -> bool:
    return "order" in name.lower()


def _mentions_order_status(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "OrderStatus" for n in ast.walk(node))


def _assigned_status(node: ast.AST) -> str | None:
    """``order.status = …`` (or any ``x.status = OrderStatus.…``)."""
    if not isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        return None
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        is_status = isinstance(target, ast.Attribute) and target.attr == "status"
        if is_status and (
            _is_order(_root_name(target.value)) or _mentions_order_status(node.value)
        ):
            return f"{ast.unparse(target)} ="
    return None


def _lists_status(node: ast.AST | None) -> bool:
    return node is not None and "'status'" in ast.unparse(node)


def _called_status(node: ast.AST) -> str | None:
    """``Order….update(status=…)``, ``Order….bulk_update(…, ['status'])``,
    ``order.save(update_fields=['status'])`` and ``setattr(order, 'status', …)``."""
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Name):
        setting = node.func.id == "setattr" and len(node.args) >= 2
        if setting and _lists_status(node.args[1]) and _is_order(_root_name(node.args[0])):
            return "setattr(order, 'status', …)"
        return None
    if not isinstance(node.func, ast.Attribute):
        return None
    method, root = node.func.attr, _chain_root(node.func.value)
    keywords = {k.arg: k.value for k in node.keywords}
    if method == "update" and "status" in keywords and _is_order(root):
        return f"{root}….update(status=…)"
    fields = node.args[1] if len(node.args) > 1 else keywords.get("fields")
    if method == "bulk_update" and _is_order(root) and _lists_status(fields):
        return f"{root}….bulk_update([…'status'…])"
    saving = method == "save" and _is_order(_root_name(node.func.value))
    if saving and _lists_status(keywords.get("update_fields")):
        return "order.save(update_fields=[…'status'…])"
    return None


def _status_writes(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for every write of an order's status in a module."""
    found = []
    for node in ast.walk(tree):
        what = _assigned_status(node) or _called_status(node)
        if what:
            found.append((node.lineno, what))
    return found


def _writer_lines(tree: ast.AST) -> range:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == WRITER[1]:
            return range(node.lineno, node.end_lineno + 1)
    return range(0)


def _app_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_the_checker_finds_the_writes_it_must_refuse():
    tree = ast.parse(
        "order.status = 'x'\n"
        "orders[0].status = OrderStatus.PLANNED\n"
        "o.status = OrderStatus.CANCELLED\n"
        "Order.objects.filter(id=1).update(status='x')\n"
        "UnplannedOrder.objects.all().update(status='x')\n"
        "Order.objects.bulk_update(rows, ['status', 'updated_at'])\n"
        "order.save(update_fields=['status'])\n"
        "setattr(stop.order, 'status', 'x')\n"
        # and lets these through: other models' statuses
        "fetch.status = PosFetchStatus.DONE\n"
        "job.status = JobStatus.APPROVED\n"
        "Delivery.objects.filter(id=1).update(status='dead')\n"
        "Plan.objects.filter(order=order).update(status='x')\n"
    )
    assert [line for line, _ in _status_writes(tree)] == [1, 2, 3, 4, 5, 6, 7, 8]


def test_nothing_but_the_writer_writes_an_orders_status():
    offenders = []
    for path in _app_modules():
        relative = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(), filename=relative)
        allowed = _writer_lines(tree) if relative == WRITER[0] else range(0)
        offenders += [
            f"{relative}:{line}: {what}"
            for line, what in _status_writes(tree)
            if line not in allowed
        ]
    assert offenders == [], "Order.status is written outside order_statuses_move"
    writer = ast.parse((ROOT / WRITER[0]).read_text())
    assert _writer_lines(writer), f"{WRITER[1]} is missing from {WRITER[0]}"


@pytest.mark.django_db
def test_a_bulk_move_writes_each_order_s_own_values_in_one_update(
    client_a, django_assert_max_num_queries
):
    own, stamped = _create(client_a, 2)
    when = timezone.now() - datetime.timedelta(hours=5)
    # As a carrier's pickup leaves them (the way there is not what this test is about).
    Order.objects.filter(id__in=[own.id, stamped.id]).update(status=OrderStatus.PICKED_UP)
    orders = list(Order.objects.filter(id__in=[own.id, stamped.id]).order_by("created_at"))

    with django_assert_max_num_queries(2):
        order_statuses_move(
            orders=orders,
            to=OrderStatus.DELIVERED,
            actor="test",
            reason="Scanned",
            updates_by_order={own.id: {"delivered_at": when}},
        )

    stored = {o.id: o.delivered_at for o in Order.objects.filter(id__in=[own.id, stamped.id])}
    assert stored[own.id] == when
    assert stored[stamped.id] > when  # the move's own stamp
    assert {o.id: o.delivered_at for o in orders} == stored
