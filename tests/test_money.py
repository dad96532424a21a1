from datetime import date
from decimal import Decimal

import pytest

from config.money import money_round, money_text


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("0.125", "DKK", "0.13"),  # half up, where half-even gave 0.12
        ("0.135", "DKK", "0.14"),
        ("0.145", "EUR", "0.15"),
        ("0.124", "DKK", "0.12"),
        ("-0.125", "DKK", "-0.13"),  # away from zero, symmetric for credits
        ("-0.135", "DKK", "-0.14"),
        ("-0.001", "DKK", "0.00"),  # never "-0.00"
        ("79.375", "dkk", "79.38"),
        ("12", "DKK", "12.00"),
        ("1234.5", "JPY", "1235"),  # no minor unit
        ("-1234.5", "ISK", "-1235"),
        ("999.4", "KRW", "999"),
    ],
)
def test_money_is_rounded_half_up_to_the_currencys_minor_unit(amount, currency, text):
    assert money_text(Decimal(amount), currency) == text
    assert money_round(Decimal(amount), currency) == Decimal(text)


def test_a_line_and_a_rate_card_round_the_same_amount_alike():
    from carriers.market import Parcel, Place, Rate, Shipment
    from orders.documents import line_document
    from orders.models import OrderLine

    line = OrderLine(reference="L1", quantity=1, price=Decimal("0.125"), tax_rate=Decimal(0))
    assert line_document(line, currency="DKK")["price"] == "0.13"
    rate = Rate(
        valid_from=date(2020, 1, 1),
        valid_to=None,
        currency="DKK",
        weight_breaks=(),
        per_kg=Decimal("0.125"),
        per_collo=Decimal(0),
        distance_bands=(),
        tag_surcharges={},
        minimum_charge=Decimal(0),
        fuel_surcharge_pct=Decimal(0),
        volumetric_kg_per_m3=Decimal(0),
    )
    shipment = Shipment(pickup=Place(), delivery=Place(), parcels=(Parcel(Decimal(1)),))
    total, breakdown = rate.price(shipment)
    assert (total, breakdown["weight"], breakdown["total"]) == (Decimal("0.13"), "0.13", "0.13")
