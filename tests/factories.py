import copy
import itertools

import factory

from accounts.models import Shipper
from carriers.models import Carrier
from orders.api.examples import ORDER_REQUEST

_sequence = itertools.count(1)


class ShipperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipper

    name = factory.Sequence(lambda n: f"Shipper {n}")
    slug = factory.Sequence(lambda n: f"shipper-{n}")
    contact_email = factory.Sequence(lambda n: f"ops{n}@shipper.example")
    default_pickup_address_primary = "Køgevej 120"
    default_pickup_address_secondary = "2600 Glostrup"
    default_pickup_postal_code = "2600"
    default_pickup_country_code = "DK"
    default_pickup_latitude = 55.6645
    default_pickup_longitude = 12.4013


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier

    name = factory.Sequence(lambda n: f"Carrier {n}")
    slug = factory.Sequence(lambda n: f"carrier-{n}")


def order_payload(**overrides) -> dict:
    """A valid order in the Order API's shape, with a fresh creatorOrderId."""
    payload = copy.deepcopy(ORDER_REQUEST)
    payload["creatorOrderId"] = f"T-{next(_sequence):06d}"
    for barcode_index, collo in enumerate(payload["collis"]):
        collo["barcode"] = f"{payload['creatorOrderId']}-{barcode_index}"
    payload.update(overrides)
    return payload
