import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import IdempotencyRecord
from accounts.services import idempotency_records_purge
from orders.models import Order
from tests.factories import order_payload
from webhooks.models import Event


@pytest.mark.django_db
def test_it_replays_the_first_answer_for_the_same_key_and_body(client_a):
    payload = order_payload()

    first = client_a.post("/api/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client_a.post("/api/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert Event.objects.filter(type="OrderCreated").count() == 1


@pytest.mark.django_db
def test_it_answers_422_when_a_key_is_reused_with_another_body(client_a):
    client_a.post("/api/v1/orders", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    response = client_a.post(
        "/api/v1/orders", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )

    assert response.status_code == 422
    assert response.json()["type"] == "idempotency_key_reused"
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.django_db
def test_it_scopes_keys_to_the_tenant(client_a, client_b):
    payload = order_payload()

    a = client_a.post("/api/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    b = client_b.post("/api/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


@pytest.mark.django_db
def test_it_forgets_keys_after_24_hours(client_a):
    payload = order_payload()
    client_a.post("/api/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    replay = client_a.post("/api/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert replay.status_code == 409  # the key is forgotten, so the create runs (and conflicts)

    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_records_purge() == 1


@pytest.mark.django_db
def test_it_refuses_an_overlong_key(client_a):
    response = client_a.post(
        "/api/v1/orders", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 300
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.django_db(transaction=True)
def test_it_creates_one_order_for_20_concurrent_identical_posts(client_a):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL")
    payload = order_payload()
    barrier = threading.Barrier(20)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {client_a.raw_key}")
        barrier.wait()
        try:
            response = client.post(
                "/api/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY="race"
            )
            with lock:
                answers.append((response.status_code, response.json().get("id")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(answers) == 20
    assert {status for status, _ in answers} == {201}
    assert len({order_id for _, order_id in answers}) == 1
    assert Order.objects.filter(creator_order_id=payload["creatorOrderId"]).count() == 1
    assert Event.objects.filter(type="OrderCreated").count() == 1
