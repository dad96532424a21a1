import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKeyMode
from accounts.services import api_key_create
from tests.factories import CarrierFactory, ShipperFactory


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
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _allow_local_targets(settings):
    # Test servers listen on loopback; the refusal itself is tested by switching this off.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
