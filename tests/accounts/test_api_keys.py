import hashlib
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import ApiKey, Shipper
from carriers.models import Carrier

pytestmark = pytest.mark.django_db


def test_it_stores_only_the_hash_of_a_key(client_a):
    stored = ApiKey.objects.get(id=client_a.api_key.id)

    assert client_a.raw_key.startswith("wb_test_")
    assert stored.key_hash == hashlib.sha256(client_a.raw_key.encode()).hexdigest()
    assert client_a.raw_key not in {stored.prefix, stored.key_hash, stored.name}
    assert stored.prefix == client_a.raw_key[:14]


def test_it_issues_a_key_from_the_command_creating_the_shipper():
    out = StringIO()
    call_command("create_api_key", "--shipper", "fjord-foods", "--mode", "live", stdout=out)

    raw_key = out.getvalue().strip().splitlines()[-1]
    assert raw_key.startswith("wb_live_")
    api_key = ApiKey.objects.get(key_hash=hashlib.sha256(raw_key.encode()).hexdigest())
    assert api_key.shipper == Shipper.objects.get(slug="fjord-foods")
    assert api_key.live_mode


def test_it_issues_a_carrier_key_from_the_command():
    out = StringIO()
    call_command("create_api_key", "--carrier", "cph-bikes", "--mode", "test", stdout=out)

    raw_key = out.getvalue().strip().splitlines()[-1]
    assert raw_key.startswith("wb_test_")
    assert ApiKey.objects.get(prefix=raw_key[:14]).carrier == Carrier.objects.get(slug="cph-bikes")


def test_it_creates_the_staff_groups_with_their_permissions():
    from django.contrib.auth.models import Group

    dispatcher = Group.objects.get(name="dispatcher")
    finance = Group.objects.get(name="finance")
    assert dispatcher.permissions.filter(codename="change_order").exists()
    assert finance.permissions.filter(codename="view_order").exists()
    assert not finance.permissions.filter(codename="change_order").exists()
