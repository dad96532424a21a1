import copy
import datetime
import itertools
from decimal import Decimal

import factory

from accounts.models import Shipper
from carriers.models import AreaKind, Carrier, RateCard, Service, ServiceArea
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


class ServiceFactory(factory.django.DjangoModelFactory):
    """A next-day service covering all of Denmark, Monday to Friday, cut-off 23:59."""

    class Meta:
        model = Service
        skip_postgeneration_save = True

    carrier = factory.SubFactory(CarrierFactory)
    code = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    transit_days = 1
    cutoff_time = datetime.time(23, 59, 59)
    operating_days = factory.LazyFunction(lambda: [1, 2, 3, 4, 5, 6, 7])
    pickup_window_start = datetime.time(0, 0)
    pickup_window_end = datetime.time(23, 59, 59)

    @factory.post_generation
    def area(self, create, extracted, **kwargs):
        if create and extracted is not False:
            ServiceArea.objects.create(service=self, kind=AreaKind.COUNTRY, country_code="DK")

    @factory.post_generation
    def rate(self, create, extracted, **kwargs):
        if create and extracted is not False:
            RateCardFactory(service=self, **(extracted or {}))


class RateCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateCard

    service = factory.SubFactory(ServiceFactory, rate=False)
    valid_from = datetime.date(2020, 1, 1)
    currency = "DKK"
    weight_breaks = factory.LazyFunction(
        lambda: [{"upToKg": "5", "price": "50.00"}, {"upToKg": "30", "price": "90.00"}]
    )
    per_kg = Decimal("2.00")
    per_collo = Decimal("5.00")
