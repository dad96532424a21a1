"""The published OpenAPI document tells the truth: schemathesis against the live schema.

Every operation of `/api/schema/` is called in-process through the WSGI application with
generated valid and invalid requests, as a shipper, a carrier and a dispatcher would, and
every answer is checked against the document: no 5xx, only documented status codes, content
types and headers, bodies that match their schema, invalid data refused, valid data taken.

`WAYBILL_SCHEMATHESIS_EXAMPLES` raises the budget per operation for a deeper run.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import os
import re
from collections import Counter
from decimal import Decimal

import pytest
import schemathesis
from django.contrib.auth.models import Group, User
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from accounts.models import ApiKeyMode
from accounts.services import api_key_create
from carriers.services import order_plan
from config.wsgi import application
from finance import services as finance_services
from finance.audit import LineSpec
from orders.api.serializers import order_spec_from
from orders.models import PosIntegration
from orders.services import order_create
from routing import services as routing_services
from routing.models import Depot, Gate, VehicleGroup
from tests.carriers.conftest import plannable_payload
from tests.factories import CarrierFactory, ServiceFactory, ShipperFactory, order_payload
from webhooks.models import Delivery, Event
from webhooks.services import subscription_create

EXAMPLES_PER_OPERATION = int(os.environ.get("WAYBILL_SCHEMATHESIS_EXAMPLES", "25"))
SEED = 20261123
ROUTE_DAY = datetime.date(2030, 6, 3)
STAFF_PASSWORD = "conformance-pw"

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "valid_data_accepted",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
]

# Rules that JSON Schema cannot state, by operation, as (field, rule): a schema-valid request
# refused with a 400 or 422 whose errors all name such a field is what the document says (the
# rules are in its descriptions). A refusal for anything else is a mismatch.
ORDER_RULES = [
    (r"(pickup|delivery)Contact\.phone(\..+)?", "a phone number is possible in its country"),
    (r"(pickup|delivery)TimeFrame\.from", "a time frame's from is not after its to"),
    (r"collis", "barcodes are unique within an order"),
]
UNSTORABLE_TEXT = "no text anywhere holds NUL or an unpaired surrogate"
URL_RULES = [(r"url", "Waybill calls only http(s) URLs of public hosts (DNS decides)")]
RULES_BEYOND_THE_SCHEMA = {
    "*": [
        (r"cursor", "a cursor is a token Waybill issued, not any string"),
        (r"Idempotency-Key", "a key is bound to the first request sent with it"),
        # schemathesis keeps NUL out of generated values, not out of free-form keys.
        (r".*", UNSTORABLE_TEXT),
    ],
    "POST /api/v1/orders": ORDER_RULES,
    "PATCH /api/v1/orders/{order_id}": [
        *ORDER_RULES,
        (r"creatorOrderId", "an order's creatorOrderId never changes"),
    ],
    "PUT /api/v1/orders/ref/{creator_order_id}": [
        *ORDER_RULES,
        (r"creatorOrderId", "the body's creatorOrderId, if given, is the URL's"),
    ],
    "POST /api/v1/pos/events": [(r"entityId", "'.' and '..' are not entity ids")],
    "POST /api/v1/carrier/events": [
        (r"dateTime|timeOfEvent|eta\.(from|to)|actual\.(start|end)Time", "a real time, 1970-2200"),
        (r"data(\..+)?", "a seed 004 event's data holds its fact's fields, as in the seed"),
        (r"orderId|barcode|routeId|eta", "an event names its order, collo or route (and window)"),
    ],
    "POST /api/v1/routing/jobs": [
        (r"vehicleGroups|gates|orders|ownerId", "what a job names exists, in the job's mode"),
    ],
    "POST /api/v1/carrier/cost-additions": [
        (r"currency", "an order's cost addition is in its price's currency"),
        (r"orderId", "orderId or routeId, one of them"),
    ],
    "POST /api/v1/carrier/invoices": [
        (r"period\.to", "a period ends after it starts"),
        (r"issueDate|period\.(from|to)", "a day that is in the calendar (not 2030-02-30)"),
        (r"lines", "an invoice has 1 to 1,000 lines"),
    ],
    "POST /api/v1/carrier/cost-additions/{cost_addition_id}/evidence": [
        (r"evidence(\[\d+\])?", "evidence is a PNG, JPEG or WebP image"),
    ],
    "POST /api/v1/finance/cost-additions/{cost_addition_id}/approve": [
        (r"amount", "at most the amount asked"),
    ],
    "POST /api/v1/finance/cost-additions/{cost_addition_id}/reject": [
        (r"reason", "a reason is more than white space"),
    ],
    "POST /api/v1/finance/invoices/{invoice_id}/approve": [
        (r"lines\[\d+\]\.(position|reason)", "an adjustment names a line, with a reason"),
    ],
    "POST /api/v1/finance/invoices/{invoice_id}/dispute": [
        (r"reason", "a reason is more than white space"),
        (r"lines\[\d+\]", "a disputed line exists"),
    ],
    "POST /api/v1/webhooks/subscriptions": URL_RULES,
    "PATCH /api/v1/webhooks/subscriptions/{subscription_id}": URL_RULES,
    "POST /api/v1/webhooks/subscriptions/{subscription_id}/replay": [
        (r"from", "from is before to"),
    ],
}


@schemathesis.check
def valid_data_accepted(ctx, response, case):
    """positive_data_acceptance, but a refusal for a rule of RULES_BEYOND_THE_SCHEMA passes."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code in (400, 422) and _only_rules_beyond_the_schema(case, response):
            return None
        raise


def _only_rules_beyond_the_schema(case, response) -> bool:
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return False
    rules = RULES_BEYOND_THE_SCHEMA["*"] + RULES_BEYOND_THE_SCHEMA.get(case.operation.label, [])
    return bool(errors) and all(_breaks_only(error, rules) for error in errors)


def _breaks_only(error: dict, rules: list[tuple[str, str]]) -> bool:
    unstorable = re.search(r"Must not contain (NUL characters|unpaired surrogates)\.", str(error))
    return any(
        re.fullmatch(field, error.get("field", "")) and (why != UNSTORABLE_TEXT or unstorable)
        for field, why in rules
    )


CONFIG = {
    "seed": SEED,
    "generation": {
        "mode": "all",
        "max-examples": EXAMPLES_PER_OPERATION,
        "deterministic": True,
        "database": "none",
        # No string may hold NUL or an unpaired surrogate, anywhere (config.api.text): a rule
        # of the whole API that schemathesis states here rather than in every string's schema.
        "allow-x00": False,
        "codec": "utf-8",
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
    "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
}


@pytest.fixture
def wsgi_requests_in_the_test_transaction():
    # The real WSGI handler closes the database connection after each request, which would
    # end the test's transaction; Django's own test client unhooks the same two receivers.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, httpserver, settings, wsgi_requests_in_the_test_transaction):
    """Two shippers, a carrier with a service, a dispatcher, and one of everything to read."""
    # The dispatcher signs every request in with Basic auth: hash its password cheaply.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    httpserver.expect_request("/hook").respond_with_data("ok")
    httpserver.expect_request("/pos").respond_with_json({})
    shipper = ShipperFactory(name="Nordic Home", slug="nordic-home")
    ShipperFactory(name="KBH Kaffe", slug="kbh-kaffe")
    shipper_key = api_key_create(shipper=shipper, mode=ApiKeyMode.LIVE).raw_key
    carrier = CarrierFactory(name="Bybud", slug="bybud")
    ServiceFactory(carrier=carrier, code="next-day", name="Next day")
    carrier_key = api_key_create(carrier=carrier, mode=ApiKeyMode.LIVE).raw_key
    PosIntegration.objects.create(
        shipper=shipper, live_mode=True, base_url=httpserver.url_for("/pos")
    )

    subscription = subscription_create(
        shipper=shipper, live_mode=True, url=httpserver.url_for("/hook"), event_types=["*"]
    )
    order = order_create(
        shipper=shipper,
        live_mode=True,
        spec=order_spec_from(_routed_payload(0)),
        actor="test",
    )
    order_create(
        shipper=shipper, live_mode=True, spec=order_spec_from(_routed_payload(1)), actor="test"
    )
    order_plan(order_id=order.id)

    user = User.objects.create_user("dispatch", password=STAFF_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="dispatcher"))
    money = User.objects.create_user("finance", password=STAFF_PASSWORD, is_staff=True)
    money.groups.add(Group.objects.get(name="finance"))
    carried = order_create(
        shipper=shipper, live_mode=True, spec=order_spec_from(plannable_payload()), actor="test"
    )
    order_plan(order_id=carried.id)
    addition, invoice = _finance_rows(carrier, carried)
    depot = Depot.objects.create(name="Glostrup hub", latitude=55.6645, longitude=12.4013)
    vans = VehicleGroup.objects.create(
        name="Van", depot=depot, vehicle_type="van", vehicles=2, max_weight_kg=800
    )
    gate = Gate.objects.create(
        name="Gate 1", depot=depot, slots=[{"start": "07:00", "end": "08:00", "departures": 2}]
    )
    job = routing_services.job_create(
        name="Monday",
        day=ROUTE_DAY,
        live_mode=True,
        vehicle_groups=[vans],
        gates=[gate],
        time_budget_s=1,
        job_settings={"maxIterations": 200},
        actor="test",
    )
    routing_services.job_run(job_id=job.id)
    job.refresh_from_db()
    routes = routing_services.job_approve(job=job, actor="test")

    event = Event.objects.filter(entity_id=str(order.id)).first()
    delivery = Delivery.objects.filter(subscription=subscription).first()
    basic = base64.b64encode(f"dispatch:{STAFF_PASSWORD}".encode()).decode()
    finance = base64.b64encode(f"finance:{STAFF_PASSWORD}".encode()).decode()
    return {
        "headers": {
            "shipper": {"Authorization": f"Bearer {shipper_key}"},
            "carrier": {"Authorization": f"Bearer {carrier_key}"},
            "staff": {"Authorization": f"Basic {basic}"},
            "finance": {"Authorization": f"Basic {finance}"},
        },
        "ids": {
            "order_id": str(order.id),
            "creator_order_id": order.creator_order_id,
            "event_id": str(event.id) if event else None,
            "subscription_id": str(subscription.id),
            "delivery_id": str(delivery.id) if delivery else None,
            "job_id": str(job.id),
            "route_id": str(routes[0].id) if routes else None,
            "cost_addition_id": str(addition.id),
            "invoice_id": str(invoice.id),
        },
    }


def _finance_rows(carrier, order) -> tuple:
    """A pending cost addition and a received invoice of the carrier, on the order."""
    addition, _ = finance_services.cost_addition_request(
        carrier=carrier,
        live_mode=True,
        spec=finance_services.CostAdditionSpec(
            reference="CA-1", amount=Decimal("45.00"), currency="DKK", reason_code="toll",
            order_reference=str(order.id),
        ),
        actor="test",
    )  # fmt: skip
    invoice, _ = finance_services.invoice_receive(
        carrier=carrier,
        live_mode=True,
        spec=finance_services.InvoiceSpec(
            number="INV-1", issue_date=ROUTE_DAY, period_from=ROUTE_DAY, period_to=ROUTE_DAY,
            currency="DKK",
            lines=[LineSpec(kind="order", reference=str(order.id), amount=Decimal("99.00"))],
        ),
        actor="test",
    )  # fmt: skip
    return addition, invoice


def _routed_payload(index: int) -> dict:
    payload = order_payload(
        pickupTimeFrame=None,
        deliveryTimeFrame={
            "from": f"{ROUTE_DAY.isoformat()}T09:00:00+02:00",
            "to": f"{ROUTE_DAY.isoformat()}T15:00:00+02:00",
        },
    )
    payload["deliveryLocation"]["position"] = {
        "latitude": 55.64 + index * 0.01,
        "longitude": 12.45 + index * 0.02,
    }
    return payload


@pytest.fixture(scope="module")
def generated_cases(request):
    """Counts the cases per operation and says how many there were, past output capturing."""
    counts: Counter[str] = Counter()
    yield counts
    summary = (
        f"schemathesis: {sum(counts.values())} generated cases over {len(counts)} operations "
        f"(up to {EXAMPLES_PER_OPERATION} fuzzed examples per operation and mode)"
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(summary)
        return
    with capture.global_and_fixture_disabled():
        reporter.ensure_newline()
        reporter.write_line(summary)


schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", application, config=schemathesis.Config.from_dict(CONFIG)
)
_alternate = itertools.count()


def _who(path: str) -> str:
    if path.startswith("/api/v1/routing/"):
        return "staff"
    if path.startswith("/api/v1/finance/"):
        return "finance"
    if path.startswith("/api/v1/carrier/"):
        return "carrier"
    return "shipper"


def _leaves_out_the_credentials(case) -> bool:
    """An invalid request that drops the Authorization header on purpose is sent without it."""
    component = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    negative = component is not None and component.mode == GenerationMode.NEGATIVE
    return negative and "authorization" not in {name.lower() for name in case.headers or {}}


def _checks_the_transport_defeats(case) -> list:
    """The WSGI transport sends an object-valued query parameter as its Python repr, which is a
    valid string: that request is not the invalid one the case describes, so its rejection is
    not checked (the object never reaches Waybill)."""
    values = (case.query or {}).values()
    if any(isinstance(v, dict) or (isinstance(v, list) and dict in map(type, v)) for v in values):
        return [negative_data_rejection]
    return []


@schema.parametrize()
# The seeded world is meant to live across the examples of an operation.
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_it_answers_every_generated_request_as_the_published_schema_says(
    case, world, generated_cases
):
    generated_cases[case.operation.label] += 1
    positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and case.path_parameters and next(_alternate) % 2 == 0:
        # Every other valid request reads what was seeded, so detail paths answer 200 too.
        for name in case.path_parameters:
            if world["ids"].get(name):
                case.path_parameters[name] = world["ids"][name]
    headers = world["headers"][_who(case.path)]
    if _leaves_out_the_credentials(case):
        headers = {}
    case.call_and_validate(headers=headers, excluded_checks=_checks_the_transport_defeats(case))


# --- the document itself ------------------------------------------------------------------------

PAGINATED_LISTS = (
    "orders_list",
    "events_list",
    "webhooks_subscriptions_list",
    "webhooks_deliveries_list",
    "carrier_orders_list",
)


@pytest.fixture
def published(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                yield path, method, operation


def _untyped(document: dict, schema, seen: set[str]) -> list[str]:
    """Places where a response may be any object at all: no properties, nothing required."""
    if isinstance(schema, list):
        return [place for item in schema for place in _untyped(document, item, seen)]
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return [
            f"{name}: {p}"
            for p in _untyped(document, document["components"]["schemas"][name], seen)
        ]
    found = []
    free_values = schema.get("additionalProperties", {}) in ({}, True)
    # Free-form by contract (custom fields, event payloads) is said so in a description.
    described = bool(schema.get("description"))
    if schema.get("type") == "object" and free_values and not schema.get("properties"):
        found += [] if described else ["an object of anything"]
    for name, value in (schema.get("properties") or {}).items():
        found += [f"{name}.{p}" for p in _untyped(document, value, seen)]
    for key in ("items", "additionalProperties", "oneOf", "anyOf", "allOf"):
        if key in schema:
            found += _untyped(document, schema[key], seen)
    return found


def test_it_describes_every_response_body_with_a_schema_of_its_own(published):
    untyped = {}
    for path, method, operation in _operations(published):
        for status, response in operation["responses"].items():
            for media in (response.get("content") or {}).values():
                found = _untyped(published, media.get("schema", {}), set())
                if found:
                    untyped[f"{method.upper()} {path} {status}"] = found

    assert untyped == {}


def test_it_documents_the_error_answers_of_every_operation_in_the_one_error_shape(published):
    missing = {}
    for path, method, operation in _operations(published):
        expected = {"400", "401", "403", "404"}
        if method != "get":
            expected |= {"409", "422"}
        if "requestBody" in operation:
            expected |= {"413", "415"}
        responses = operation["responses"]
        wrong = sorted(
            code
            for code in expected
            if code not in responses
            or responses[code]["content"]["application/json"]["schema"]
            != {"$ref": "#/components/schemas/Error"}
        )
        if wrong:
            missing[f"{method.upper()} {path}"] = wrong

    assert missing == {}
    error = published["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"type", "detail", "errors"}


def test_it_documents_every_list_as_a_page_with_a_bounded_page_size(published):
    lists = {
        operation["operationId"]: operation
        for _, _, operation in _operations(published)
        if operation["operationId"] in PAGINATED_LISTS
    }
    assert set(lists) == set(PAGINATED_LISTS)
    for operation_id, operation in lists.items():
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert parameters["limit"]["schema"] | {"default": None} == {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000,
            "default": None,
        }, operation_id
        assert "cursor" in parameters, operation_id
        page = operation["responses"]["200"]["content"]["application/json"]["schema"]
        name = page["$ref"].rsplit("/", 1)[-1]
        properties = published["components"]["schemas"][name]["properties"]
        assert properties["results"]["type"] == "array", operation_id
        assert properties["next"]["type"] == ["string", "null"], operation_id


# --- what the deeper runs found ---------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_unknown_and_repeated_query_parameters_of_a_list(client_a):
    # An object-valued parameter is sent as its keys, and a repeated one read last: either way
    # the list silently answered something other than what was asked.
    misspelt = client_a.get("/api/v1/orders", {"stauts": "planned"})
    repeated = client_a.get("/api/v1/events?type=OrderCreated&type=OrderCancelled")
    several = client_a.get("/api/v1/orders?status=created&status=planned")

    assert misspelt.status_code == 400
    assert misspelt.json()["errors"][0]["field"] == "stauts"
    assert repeated.status_code == 400
    assert repeated.json()["errors"][0]["field"] == "type"
    assert several.status_code == 200


@pytest.mark.django_db
def test_it_takes_a_whole_number_written_with_a_point_zero():
    from rest_framework.test import APIClient

    user = User.objects.create_user("dispatch", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="dispatcher"))
    client = APIClient()
    client.force_authenticate(user)
    depot = Depot.objects.create(name="Glostrup hub", latitude=55.6645, longitude=12.4013)
    vans = VehicleGroup.objects.create(name="Van", depot=depot, vehicle_type="van", vehicles=1)
    gate = Gate.objects.create(
        name="Gate 1", depot=depot, slots=[{"start": "07:00", "end": "08:00", "departures": 1}]
    )
    body = {
        "name": "Monday",
        "date": ROUTE_DAY.isoformat(),
        "vehicleGroups": [str(vans.id)],
        "gates": [str(gate.id)],
        "orders": [],
    }

    whole = client.post("/api/v1/routing/jobs", {**body, "seed": 7.0}, format="json")
    fraction = client.post("/api/v1/routing/jobs", {**body, "seed": 7.5}, format="json")

    assert whole.status_code == 201, whole.json()
    assert whole.json()["seed"] == 7
    assert fraction.status_code == 400
    assert fraction.json()["errors"][0]["field"] == "seed"


@pytest.mark.django_db
def test_it_holds_text_to_its_published_length_as_sent(client_a):
    # maxLength is what the document promises; trimming first let 501 characters through.
    longer = order_payload(notes=" " + "n" * 5000)
    exact = order_payload(notes="n" * 5000)

    refused = client_a.post("/api/v1/orders", longer, format="json")
    taken = client_a.post("/api/v1/orders", exact, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "notes"
    assert taken.status_code == 201
