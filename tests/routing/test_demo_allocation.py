"""The demo, as `make run` seeds it, after approving its optimisation job: no order is both
on an own-fleet route and on a carrier's manifest, and no capacity stays booked for it."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from accounts.tenancy import Tenant
from carriers.models import CapacityLoad, Carrier, Plan, PlanStatus
from carriers.selectors import carrier_manifest
from orders.models import Order, OrderStatus
from routing import services
from routing.models import ROUTE_OPEN_STATUSES, JobStatus, OptimizationJob, Stop

pytestmark = pytest.mark.django_db


def test_after_approving_the_demo_job_no_order_is_on_a_route_and_a_manifest():
    call_command("load_demo", stdout=StringIO())
    job = OptimizationJob.objects.get()
    # A short run: the allocation rule, not the plan's quality, is under test.
    job.settings = {**job.settings, "maxIterations": 200}
    job.time_budget_s = 5
    job.save(update_fields=["settings", "time_budget_s"])
    services.job_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.SOLVED, job.error

    services.job_approve(job=job, actor="test")

    routed = set(
        Stop.objects.filter(route__status__in=ROUTE_OPEN_STATUSES).values_list(
            "order_id", flat=True
        )
    )
    assert routed
    on_manifests = {
        plan.order_id
        for carrier in Carrier.objects.all()
        for plan in carrier_manifest(tenant=Tenant.of_carrier(carrier, live_mode=False))
    }
    assert on_manifests, "the demo keeps some orders with carriers"
    assert routed.isdisjoint(on_manifests)
    current = Plan.objects.filter(order_id__in=routed, is_current=True)
    assert set(current.values_list("status", flat=True)) == {PlanStatus.ROUTED}
    assert set(Order.objects.filter(id__in=routed).values_list("status", flat=True)) == {
        OrderStatus.ON_ROUTE
    }
    # The capacity booked is exactly that of the plans still holding it.
    held = (
        Plan.objects.filter(capacity_held=True)
        .values("service_id", "pickup_day")
        .annotate(orders=Count("id"), kg=Sum("reserved_weight_kg"))
    )
    booked = {
        (str(load.service_id), load.day): (load.orders, load.weight_kg)
        for load in CapacityLoad.objects.exclude(orders=0)
    }
    assert booked == {
        (str(row["service_id"]), row["pickup_day"]): (row["orders"], row["kg"]) for row in held
    }
