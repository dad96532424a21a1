"""Decisions are claimed with a compare-and-set: of several approvals at once, one wins."""

import threading

import pytest
from django.db import connection, connections

from config.errors import Conflict
from finance import selectors, services
from finance.models import CostAdditionStatus
from tests.finance.conftest import cost_addition_body
from webhooks.models import Event


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_approve_once_and_send_one_event(carrier_api, carried_order):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL")
    order = carried_order()
    body = cost_addition_body(str(order.id))
    asked = carrier_api.post("/api/v1/carrier/cost-additions", body, format="json").json()
    workers = 8
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []

    def approve(amount: str):
        barrier.wait()
        try:
            addition = selectors.cost_addition_for_staff(asked["id"])
            services.cost_addition_approve(cost_addition=addition, actor="t", amount=amount)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # noqa: BLE001  collected and asserted below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(f"{38 + i}.00",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["approved"] + ["conflict"] * (workers - 1)
    addition = selectors.cost_addition_for_staff(asked["id"])
    assert addition.status == CostAdditionStatus.APPROVED
    assert Event.objects.filter(type="CostAdditionApproved").count() == 1
