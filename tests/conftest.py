import uuid
from contextlib import ExitStack

import pytest
from django.contrib.auth.models import Group, User
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiKeyMode
from accounts.services import api_key_create
from tests.factories import CarrierFactory, ShipperFactory
from webhooks.catalogue import EventType


def _client(**tenant) -> APIClient:
    mode = tenant.pop("mode", ApiKeyMode.TEST)
    issued = api_key_create(mode=mode, **tenant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
    client.api_key = issued.api_key
    client.raw_key = issued.raw_key
    return client


@pytest.fixture
def shipper_a(db):
    return ShipperFactory(name="Nordic Home", slug="nordic-home")


@pytest.fixture
def shipper_b(db):
    return ShipperFactory(name="KBH Kaffe", slug="kbh-kaffe")


@pytest.fixture
def carrier(db):
    return CarrierFactory()


@pytest.fixture
def client_a(shipper_a) -> APIClient:
    return _client(shipper=shipper_a)


@pytest.fixture
def client_a_live(shipper_a) -> APIClient:
    return _client(shipper=shipper_a, mode=ApiKeyMode.LIVE)


@pytest.fixture
def client_b(shipper_b) -> APIClient:
    return _client(shipper=shipper_b)


@pytest.fixture
def carrier_client(carrier) -> APIClient:
    return _client(carrier=carrier)


@pytest.fixture
def dispatcher_api(db):
    """A staff user of the dispatcher group, on the staff API."""
    user = User.objects.create_user("dispatch", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="dispatcher"))
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _allow_local_targets(settings):
    # Test servers listen on loopback; the refusal itself is tested by switching this off.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture(autouse=True)
def _queues_of_its_own(settings):
    # A sweeper queues nothing while its queue is full, and nothing consumes the test
    # broker: what earlier tests left there must not count against this one's sweeps.
    prefix = f"test-{uuid.uuid4().hex[:8]}-"
    settings.WORK_QUEUES = {kind: prefix + kind for kind in settings.WORK_QUEUES}


@pytest.fixture(autouse=True)
def _api_never_answers_5xx(monkeypatch):
    """Whatever a test sends, an /api/ answer in the 5xx range fails it: bad input is a 4xx,
    so a 5xx means an exception that the error handler does not map yet."""
    request = Client.request

    def guarded(self, **environ):
        response = request(self, **environ)
        path = environ.get("PATH_INFO", "")
        if path.startswith("/api/") and response.status_code >= 500:
            pytest.fail(
                f"{environ.get('REQUEST_METHOD')} {path} answered {response.status_code}: "
                f"{response.content[:500]!r}"
            )
        return response

    monkeypatch.setattr(Client, "request", guarded)


class BuilderQueried(AssertionError):
    pass


@pytest.fixture(autouse=True)
def _event_builders_run_no_query(monkeypatch):
    """Every event builder is a pure function of what it is given: a query inside one, in any
    test that emits its event, fails the test (the caller loads what the builder reads)."""
    build = EventType.build

    def refuse(execute, sql, params, many, context):
        raise BuilderQueried(f"An event builder ran a query: {sql[:300]}")

    def guarded(self, version, **builder_args):
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(refuse))
            return build(self, version, **builder_args)

    monkeypatch.setattr(EventType, "build", guarded)


@pytest.fixture
def failing_inserts(db):
    """Make every INSERT into a model's table fail in the database itself (a trigger, rolled
    back with the test), to prove what a service writes commits or rolls back as one."""
    from django.db import connection

    def install(model) -> None:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "CREATE OR REPLACE FUNCTION waybill_test_refuse() RETURNS trigger AS "
                    "$$ BEGIN RAISE EXCEPTION 'insert refused by the test'; END $$ "
                    "LANGUAGE plpgsql"
                )
                cursor.execute(
                    f'CREATE TRIGGER waybill_test_refuse BEFORE INSERT ON "{table}" '
                    "FOR EACH ROW EXECUTE FUNCTION waybill_test_refuse()"
                )
            else:
                cursor.execute(
                    f'CREATE TRIGGER waybill_test_refuse BEFORE INSERT ON "{table}" '
                    "BEGIN SELECT RAISE(ABORT, 'insert refused by the test'); END"
                )

    return install
