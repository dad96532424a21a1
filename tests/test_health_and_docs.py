import re

import pytest

pytestmark = pytest.mark.django_db


def test_it_reports_healthy_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_it_reports_unhealthy_when_the_broker_is_unreachable(client, settings):
    from config.celery_app import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = previous

    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


def test_it_publishes_an_openapi_schema_with_every_endpoint_and_examples(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    assert {
        "/api/v1/orders",
        "/api/v1/orders/bulk",
        "/api/v1/orders/ref/{creator_order_id}",
        "/api/v1/orders/{order_id}",
        "/api/v1/orders/{order_id}/cancel",
        "/api/v1/pos/events",
    } <= set(schema["paths"])
    create = schema["paths"]["/api/v1/orders"]["post"]
    assert "A dining set" in str(create["requestBody"])
    assert "ApiKey" in schema["components"]["securitySchemes"]
    components = schema["components"]["schemas"]
    assert {
        "OrderCreatedV1_0Event",
        "OrderAddedToRouteV2_0Event",
        "NotificationOrderSmsSentV1_0Event",
    } <= set(components)
    route_event = components["OrderAddedToRouteV2_0Event"]["properties"]["data"]
    assert route_event["properties"]["route"] == {
        "$ref": "#/components/schemas/WebhookPayloadRouteRef"
    }
    order = schema["components"]["schemas"]["Order"]["properties"]
    assert {"creatorOrderId", "pickupLocation", "deliveryTimeFrame", "collis"} <= set(order)


def test_it_serves_the_api_docs_page_offline(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    # Every script and stylesheet from this server (the page's random CSRF token may well
    # spell "cdn"; a link elsewhere may not).
    links = re.findall(rb'(?:src|href)="([^"]*)"', response.content)
    assert links and all(link.startswith(b"/") for link in links), links
    assert not re.search(rb"jsdelivr|unpkg|cdnjs", response.content)


def test_the_document_keys_match_the_documented_schema(client_a):
    from orders.api.serializers import OrderSerializer
    from tests.factories import order_payload

    body = client_a.post("/api/v1/orders", order_payload(), format="json").json()

    assert set(body) == set(OrderSerializer().fields)


def test_the_schema_generates_and_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))

    assert "/api/v1/orders/bulk" in (tmp_path / "s.yml").read_text()
