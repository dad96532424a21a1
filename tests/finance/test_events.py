"""CostAdditionApproved and InvoiceApproved reach a real receiver, signed, in the shape their
published JSON Schema states."""

import json

import jsonschema
import pytest
from standardwebhooks.webhooks import Webhook

from tests.finance.conftest import cost_addition_body, invoice_body, order_line
from webhooks import sending
from webhooks.models import Delivery, Event
from webhooks.services import subscription_create

pytestmark = pytest.mark.django_db


def _subscribe(shipper, httpserver, path: str):
    return subscription_create(
        shipper=shipper,
        live_mode=False,
        url=httpserver.url_for(f"{path}?token=s3cret"),
        event_types=["CostAdditionApproved", "InvoiceApproved"],
    )


def _published_schema(client, name: str, version: str) -> dict:
    types = client.get("/api/v1/webhooks/event-types").json()["eventTypes"]
    [entry] = [t for t in types if t["type"] == name]
    [published] = [v for v in entry["versions"] if v["version"] == version]
    assert published["available"]
    return published["schema"]


def _received(httpserver, subscription, client) -> list[dict]:
    ids = [str(i) for i in Delivery.objects.values_list("id", flat=True)]
    assert sending.deliveries_send(delivery_ids=ids) == len(ids)
    envelopes = []
    for request, _ in httpserver.log:
        body = request.get_data(as_text=True)
        envelope = Webhook(subscription.secret).verify(body, dict(request.headers))
        schema = _published_schema(client, envelope["type"], envelope["version"])
        jsonschema.validate(envelope, schema, format_checker=jsonschema.FormatChecker())
        envelopes.append(envelope)
    return envelopes


def test_cost_addition_approved_reaches_the_shipper_with_the_updated_cost(
    shipper_a, client_a, carrier_api, carried_order, finance_api, httpserver
):
    httpserver.expect_request("/hooks").respond_with_data("ok")
    subscription = _subscribe(shipper_a, httpserver, "/hooks")
    order = carried_order()
    body = cost_addition_body(str(order.id), reasonCode="extra-stop", reason="A second dock.")
    asked = carrier_api.post("/api/v1/carrier/cost-additions", body, format="json").json()
    finance_api.post(
        f"/api/v1/finance/cost-additions/{asked['id']}/approve", {"amount": "40.00"}, format="json"
    )

    [envelope] = _received(httpserver, subscription, client_a)

    assert envelope["type"] == "CostAdditionApproved" and envelope["version"] == "1.0"
    data = envelope["data"]
    assert data["order"]["id"] == str(order.id)
    assert data["costAddition"]["reasonCode"] == "extra-stop"
    assert data["costAddition"]["reason"] == "A second dock."
    assert data["costAddition"]["requestedAmount"] == {"amount": "45.00", "currency": "DKK"}
    assert data["costAddition"]["amount"] == {"amount": "40.00", "currency": "DKK"}
    assert data["cost"]["current"] == {"amount": "140.00", "currency": "DKK"}
    assert data["costAddition"]["approvedBy"] == "user:fin"
    assert request_token(httpserver) == "token=s3cret"


def request_token(httpserver) -> str:
    return httpserver.log[0][0].query_string.decode()


def test_a_rejection_sends_nothing(shipper_a, carrier_api, carried_order, finance_api):
    order = carried_order()
    asked = carrier_api.post(
        "/api/v1/carrier/cost-additions", cost_addition_body(str(order.id)), format="json"
    ).json()

    finance_api.post(
        f"/api/v1/finance/cost-additions/{asked['id']}/reject", {"reason": "No"}, format="json"
    )

    assert not Event.objects.filter(type="CostAdditionApproved").exists()


def test_invoice_approved_reaches_each_shipper_with_its_own_lines(
    shipper_a, shipper_b, client_a, client_b, carrier_api, carried_order, finance_api, httpserver
):
    httpserver.expect_request("/a").respond_with_data("ok")
    httpserver.expect_request("/b").respond_with_data("ok")
    sub_a = _subscribe(shipper_a, httpserver, "/a")
    sub_b = _subscribe(shipper_b, httpserver, "/b")
    mine, theirs = carried_order(client_a), carried_order(client_b)
    lines = [order_line(mine, "100.00"), order_line(theirs, "104.00")]
    invoice = carrier_api.post("/api/v1/carrier/invoices", invoice_body(lines), format="json")
    finance_api.post(
        f"/api/v1/finance/invoices/{invoice.json()['id']}/approve",
        {"lines": [{"position": 2, "amount": "100.00", "reason": "The planned price."}]},
        format="json",
    )

    ids = [str(i) for i in Delivery.objects.values_list("id", flat=True)]
    assert sending.deliveries_send(delivery_ids=ids) == 2
    by_path = {}
    for request, _ in httpserver.log:
        subscription = sub_a if request.path == "/a" else sub_b
        envelope = Webhook(subscription.secret).verify(
            request.get_data(as_text=True), dict(request.headers)
        )
        schema = _published_schema(client_a, "InvoiceApproved", "1.0")
        jsonschema.validate(envelope, schema, format_checker=jsonschema.FormatChecker())
        by_path[request.path] = envelope["data"]["invoice"]

    assert [ln["order"]["id"] for ln in by_path["/a"]["lines"]] == [str(mine.id)]
    assert [ln["order"]["id"] for ln in by_path["/b"]["lines"]] == [str(theirs.id)]
    assert by_path["/a"]["total"] == {"amount": "100.00", "currency": "DKK"}
    line_b = by_path["/b"]["lines"][0]
    assert (line_b["invoiced"]["amount"], line_b["amount"]["amount"]) == ("104.00", "100.00")
    assert line_b["finding"] == "over-tolerance"
    assert line_b["adjustmentReason"] == "The planned price."
    assert str(mine.id) not in json.dumps(by_path["/b"])
