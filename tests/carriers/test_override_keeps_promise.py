"""A dispatcher's override keeps the order's promise: a waiver relaxes only the rule waived,
the pickup and delivery days still come from the order's time frames, and the chosen service
is an option, never at the same time ruled out."""

import datetime
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.utils import timezone

from carriers.models import Plan, Service
from carriers.services import orders_plan, plan_override
from orders.models import Order
from tests.factories import ServiceFactory, order_payload

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Europe/Copenhagen")
TWO_PERSON = "Handling:2person"


@pytest.fixture
def dispatcher(client):
    user = User.objects.create_user("dispatcher", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="dispatcher"))
    client.force_login(user)
    return client


@pytest.fixture
def new_order(client_a):
    def create(*, pickup: dict, delivery: dict, tags: tuple = ()) -> Order:
        payload = order_payload(
            pickupTimeFrame=pickup, deliveryTimeFrame=delivery, tags=["Outbound", *tags]
        )
        for collo in payload["collis"]:
            collo["tags"] = []
        response = client_a.post("/api/v1/orders", payload, format="json")
        assert response.status_code == 201, response.json()
        return Order.objects.get(id=response.json()["id"])

    return create


def _frame(day: datetime.date, start: int, end: int) -> dict[str, str]:
    return {
        "from": datetime.datetime(day.year, day.month, day.day, start, tzinfo=ZONE).isoformat(),
        "to": datetime.datetime(day.year, day.month, day.day, end, tzinfo=ZONE).isoformat(),
    }


def _today() -> datetime.date:
    return timezone.now().astimezone(ZONE).date()


def _local_day(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(ZONE).date()


def test_an_override_with_a_waiver_books_the_days_of_the_orders_frames(new_order):
    # Days ahead; the one service there is lacks the order's handling tag (waived) and takes
    # two days, which the frames allow.
    service = ServiceFactory(transit_days=2)
    day = _today() + timedelta(days=3)
    order = new_order(
        pickup=_frame(day, 10, 12),
        delivery=_frame(day + timedelta(days=2), 14, 16),
        tags=[TWO_PERSON],
    )
    orders_plan(order_ids=[order.id])
    assert Plan.objects.get(order=order, is_current=True).status == "unplanned"

    plan = plan_override(order=order, service=service, reason="Two of them go", actor="u:ops")

    assert [w["code"] for w in plan.options[0]["waived"]] == ["tag-not-handled"]
    assert plan.pickup_day == day
    assert _local_day(plan.promised_delivery_from) == day + timedelta(days=2)


def test_waiving_a_too_slow_service_never_books_before_the_orders_frames(new_order):
    # The NH-100042 case: wanted days ahead, picked up and delivered the same day, put on a
    # next-day service outside its area. It was booked for a pickup now and delivery tomorrow.
    elsewhere = ServiceFactory(transit_days=1)
    elsewhere.areas.update(country_code="SE")
    day = _today() + timedelta(days=3)
    order = new_order(pickup=_frame(day, 10, 12), delivery=_frame(day, 14, 16))

    plan = plan_override(order=order, service=elsewhere, reason="Agreed", actor="u:ops")

    assert {w["code"] for w in plan.options[0]["waived"]} == {"outside-area", "too-slow"}
    # Picked up in the order's own frame; delivered as soon after as the service can.
    assert plan.pickup_day == day
    assert _local_day(plan.promised_pickup_from) == day
    assert _local_day(plan.promised_delivery_from) == day + timedelta(days=1)


def test_waiving_a_service_faster_than_the_frames_delivers_on_the_wanted_day(new_order):
    # Ready on day 1, wanted on day 4: a next-day service would deliver three days early.
    fast = ServiceFactory(transit_days=1)
    day = _today() + timedelta(days=1)
    order = new_order(pickup=_frame(day, 10, 12), delivery=_frame(day + timedelta(days=3), 9, 11))

    plan = plan_override(order=order, service=fast, reason="Only one we have", actor="u:ops")

    assert _local_day(plan.promised_delivery_from) == day + timedelta(days=3)
    assert plan.pickup_day == day + timedelta(days=2)


@time_machine.travel(datetime.datetime.combine(_today(), datetime.time(10), ZONE), tick=True)
def test_waiving_the_cut_off_picks_up_today_within_the_frames(new_order):
    # Ready today until late; the service's cut-off passed at midnight. Waiving the cut-off
    # is today's pickup after all, not a pickup outside the frames. At 10:00 local time,
    # whatever the hour the suite runs: the frame closes at 23:00.
    now = timezone.now().astimezone(ZONE)
    late = ServiceFactory(transit_days=1, cutoff_time=datetime.time(0, 0))
    today = now.date()
    order = new_order(
        pickup={
            "from": now.replace(minute=0, second=0, microsecond=0).isoformat(),
            "to": now.replace(hour=23, minute=0, second=0, microsecond=0).isoformat(),
        },
        delivery=_frame(today + timedelta(days=1), 8, 20),
    )

    plan = plan_override(order=order, service=late, reason="They squeeze it in", actor="u:ops")

    assert [w["code"] for w in plan.options[0]["waived"]] == ["past-cut-off"]
    assert plan.pickup_day == today
    assert plan.promised_pickup_from >= now - timedelta(seconds=1)
    assert _local_day(plan.promised_delivery_from) == today + timedelta(days=1)


# A service breaking each waivable rule, for an order picked up on day 2 and delivered on
# day 3 that needs two people.
BREAKING = {
    "outside-area": {},
    "tag-not-handled": {"handled_tags": []},
    "over-weight": {"max_total_weight_kg": Decimal("1")},
    "too-many-collis": {"max_collis": 1},
    "too-slow": {"transit_days": 4},
    "outside-area+too-slow": {"transit_days": 4},
}


def _row(service: Service) -> str:
    return f"<tr><td>{service.carrier.name} · {service.name}</td>"


@pytest.mark.parametrize("broken", list(BREAKING))
def test_no_service_is_both_an_option_and_ruled_out(new_order, dispatcher, broken):
    """Whichever rule the chosen service breaks, the plan and the admin page show it once,
    as the option, and its days are not before the order's frames."""
    ServiceFactory(name="Fine", handled_tags=[TWO_PERSON])
    services = {}
    for rule, fields in BREAKING.items():
        services[rule] = ServiceFactory(
            name=f"Breaks {rule}", **{"handled_tags": [TWO_PERSON], **fields}
        )
        if "outside-area" in rule:
            services[rule].areas.update(country_code="SE")
    chosen = services[broken]
    day = _today() + timedelta(days=2)
    order = new_order(
        pickup=_frame(day, 10, 12),
        delivery=_frame(day + timedelta(days=1), 9, 17),
        tags=[TWO_PERSON],
    )
    orders_plan(order_ids=[order.id])

    plan = plan_override(order=order, service=chosen, reason="Because", actor="u:ops")

    options = [o["service"]["id"] for o in plan.options]
    ruled_out = [r["service"]["id"] for r in plan.rejections]
    assert options[0] == str(chosen.id)
    assert set(broken.split("+")) == {w["code"] for w in plan.options[0]["waived"]}
    assert not set(options) & set(ruled_out)
    assert len(options) + len(ruled_out) == Service.objects.count()
    assert plan.pickup_day >= day
    assert plan.promised_delivery_to > order.delivery_from
    if "too-slow" not in broken:  # the service can meet the frames: it does
        assert plan.pickup_day == day
        assert _local_day(plan.promised_delivery_from) == day + timedelta(days=1)
    page = dispatcher.get(f"/admin/orders/order/{order.id}/change/").content.decode()
    assert page.count(_row(chosen)) == 1


def test_the_admin_shows_a_plan_overridden_earlier_once(new_order, dispatcher):
    # Plans overridden before this was mended keep the chosen service among the ruled out.
    elsewhere = ServiceFactory(name="Elsewhere")
    elsewhere.areas.update(country_code="SE")
    day = _today() + timedelta(days=2)
    order = new_order(pickup=_frame(day, 10, 12), delivery=_frame(day + timedelta(days=1), 9, 17))
    plan = plan_override(order=order, service=elsewhere, reason="Agreed", actor="u:ops")
    reference = {k: plan.options[0][k] for k in ("carrier", "service")}
    plan.rejections = [{**reference, "reasons": [{"code": "outside-area", "message": "…"}]}]
    plan.save(update_fields=["rejections"])

    page = dispatcher.get(f"/admin/orders/order/{order.id}/change/").content.decode()

    assert page.count(_row(elsewhere)) == 1
