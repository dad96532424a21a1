"""Demo data: two shippers, three carriers and a few hundred test-mode orders around Copenhagen."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Shipper
from carriers.demo import demo_services_load
from carriers.models import Carrier
from carriers.services import orders_plan
from finance.demo import demo_finance_load
from orders.api.serializers import OrderSerializer
from orders.models import Collo, Order, PosIntegration
from orders.services import order_create
from routing.demo import demo_fleet_load

ORDER_COUNT = 300
ZONE = ZoneInfo("Europe/Copenhagen")
POS_URL = "http://127.0.0.1:8000/demo-pos"

# fmt: off
# slug: (name, email, pickup street, town, latitude, longitude, order prefix, first number)
SHIPPERS: dict[str, tuple[str, str, str, str, float, float, str, int]] = {
    "nordic-home": ("Nordic Home A/S", "logistik@nordichome.example.dk", "Stamholmen 151",
                    "2650 Hvidovre", 55.6215, 12.4790, "NH", 100000),
    "kbh-kaffe": ("KBH Kaffe ApS", "ordre@kbhkaffe.example.dk", "Flæsketorvet 68",
                  "1711 København V", 55.6685, 12.5612, "KK", 200000),
}
CARRIERS = [
    ("dao-express", "DAO Express A/S", "trafik@dao-express.example.dk"),
    ("bring-cargo", "Bring Cargo Danmark", "planning@bring-cargo.example.dk"),
    ("cph-bikes", "CPH Bike Couriers ApS", "dispatch@cphbikes.example.dk"),
]
STREETS = [
    ("Vesterbrogade", "1620 København V", 55.6722, 12.5525),
    ("Istedgade", "1650 København V", 55.6695, 12.5545),
    ("Nørrebrogade", "2200 København N", 55.6935, 12.5445),
    ("Jagtvej", "2200 København N", 55.6968, 12.5512),
    ("Rantzausgade", "2200 København N", 55.6882, 12.5470),
    ("Fælledvej", "2200 København N", 55.6903, 12.5588),
    ("Østerbrogade", "2100 København Ø", 55.7030, 12.5782),
    ("Strandboulevarden", "2100 København Ø", 55.7068, 12.5880),
    ("Nordre Frihavnsgade", "2100 København Ø", 55.6982, 12.5858),
    ("Blegdamsvej", "2100 København Ø", 55.6960, 12.5698),
    ("Amagerbrogade", "2300 København S", 55.6602, 12.6038),
    ("Holmbladsgade", "2300 København S", 55.6652, 12.6102),
    ("Englandsvej", "2300 København S", 55.6498, 12.6082),
    ("Øresundsvej", "2300 København S", 55.6618, 12.6218),
    ("Islands Brygge", "2300 København S", 55.6642, 12.5782),
    ("Amager Strandvej", "2300 København S", 55.6622, 12.6378),
    ("Frederiksberg Allé", "1820 Frederiksberg C", 55.6745, 12.5420),
    ("Gammel Kongevej", "1850 Frederiksberg C", 55.6770, 12.5450),
    ("H.C. Ørsteds Vej", "1879 Frederiksberg C", 55.6800, 12.5470),
    ("Falkoner Allé", "2000 Frederiksberg", 55.6830, 12.5330),
    ("Godthåbsvej", "2000 Frederiksberg", 55.6880, 12.5200),
    ("Nordre Fasanvej", "2000 Frederiksberg", 55.6850, 12.5210),
    ("Peter Bangs Vej", "2000 Frederiksberg", 55.6800, 12.5080),
    ("Roskildevej", "2000 Frederiksberg", 55.6712, 12.5205),
    ("Valby Langgade", "2500 Valby", 55.6640, 12.5060),
    ("Vigerslev Allé", "2500 Valby", 55.6620, 12.5150),
    ("Ålholmvej", "2500 Valby", 55.6720, 12.4960),
    ("Enghavevej", "2450 København SV", 55.6630, 12.5420),
    ("Mozartsvej", "2450 København SV", 55.6472, 12.5338),
    ("Frederikssundsvej", "2400 København NV", 55.7050, 12.5180),
    ("Tomsgårdsvej", "2400 København NV", 55.7100, 12.5250),
    ("Tuborgvej", "2400 København NV", 55.7170, 12.5380),
    ("Store Kongensgade", "1264 København K", 55.6842, 12.5888),
    ("Bredgade", "1260 København K", 55.6838, 12.5912),
    ("Gothersgade", "1123 København K", 55.6830, 12.5780),
    ("Nørre Voldgade", "1358 København K", 55.6830, 12.5660),
    ("Strandvejen", "2900 Hellerup", 55.7330, 12.5800),
    ("Jægersborg Allé", "2920 Charlottenlund", 55.7530, 12.5700),
    ("Lyngby Hovedgade", "2800 Kongens Lyngby", 55.7710, 12.5040),
    ("Søborg Hovedgade", "2860 Søborg", 55.7300, 12.5150),
    ("Vanløse Allé", "2720 Vanløse", 55.6860, 12.4930),
    ("Hvidovrevej", "2650 Hvidovre", 55.6460, 12.4770),
]
FIRST_NAMES = [
    "Mette", "Anne", "Sofie", "Camilla", "Louise", "Ida", "Freja", "Emma", "Maria", "Signe",
    "Lars", "Jens", "Mikkel", "Søren", "Rasmus", "Anders", "Frederik", "Mads", "Jonas", "Niels",
]
LAST_NAMES = [
    "Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
    "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Poulsen",
    "Johansen", "Møller", "Mortensen", "Holm",
]
COMPANIES = [
    "Café Solsikken", "Bageriet Brød & Co", "Kontorhuset Havnen", "Studio Nord ApS",
    "Amager Kaffebar", "Vesterbro Tandklinik", "Kaffestuen på Jagtvej", "Frederiksberg Revision",
]
NOTES = [
    "Ring twice; the door bell is broken.", "Call 30 minutes before arrival.",
    "3rd floor, no lift.", "Leave at the back door if nobody answers.", "Use the gate code 1942.",
]
# sku, description, unit price (DKK, tax excluded), kg, m³, collo tags
CATALOGUES: dict[str, list[tuple[str, str, int, float, float, list[str]]]] = {
    "nordic-home": [
        ("NH-1001", "Oak dining table", 4995, 42.0, 0.45, ["Handling:2person"]),
        ("NH-1002", "Dining chair, oak", 899, 6.5, 0.12, []),
        ("NH-1101", "Three-seater sofa, grey wool", 8495, 58.0, 1.20, ["Handling:2person"]),
        ("NH-1201", "Bookcase, white ash", 2295, 31.0, 0.35, ["Handling:2person"]),
        ("NH-1301", "Sideboard, walnut", 5995, 48.0, 0.52, ["Handling:2person"]),
        ("NH-1401", "Pendant lamp, opal glass", 1195, 3.2, 0.08, ["Fragile"]),
        ("NH-1501", "Wool rug 200x300", 2795, 14.0, 0.15, []),
        ("NH-1601", "Bed frame 180x200", 6495, 55.0, 0.80, ["Handling:2person"]),
        ("NH-1701", "Mirror, round 90 cm", 1495, 9.5, 0.10, ["Fragile"]),
        ("NH-1801", "Coffee table, smoked oak", 2495, 18.0, 0.25, []),
    ],
    "kbh-kaffe": [
        ("KK-C001", "Espresso blend, whole beans 1 kg", 189, 1.0, 0.003, []),
        ("KK-C002", "Filter roast Ethiopia 1 kg", 219, 1.0, 0.003, []),
        ("KK-C003", "Decaf Colombia 1 kg", 199, 1.0, 0.003, []),
        ("KK-E101", "Espresso machine, 2 groups", 28995, 62.0, 0.35,
         ["Fragile", "Handling:2person"]),
        ("KK-E102", "Coffee grinder, commercial", 6495, 14.0, 0.06, ["Fragile"]),
        ("KK-E103", "Batch brewer", 4995, 9.0, 0.05, ["Fragile"]),
        ("KK-A201", "Paper cups 8 oz, 1000 pcs", 395, 7.0, 0.09, []),
        ("KK-A202", "Milk jug set", 249, 1.2, 0.01, []),
    ],
}
# fmt: on


def _ean13(digits12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits12))
    return digits12 + str((10 - total % 10) % 10)


def _phone(rng: random.Random) -> dict[str, str]:
    number = str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(7))
    return {"countrycallingCode": "45", "nationalNumber": number}


def _ascii(text: str) -> str:
    return text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa").replace(" ", "")


def _frame(day: date, start_hour: int) -> dict[str, str]:
    start = datetime(day.year, day.month, day.day, start_hour, tzinfo=ZONE)
    return {"from": start.isoformat(), "to": (start + timedelta(hours=2)).isoformat()}


def _demo_goods(
    rng: random.Random, slug: str, ref: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An order's lines, one to four items of the shipper's catalogue, and its collis."""
    items = rng.sample(CATALOGUES[slug], rng.randint(1, 4))
    lines = [
        {
            "reference": sku,
            "description": text,
            "taxRate": "25",
            "quantity": rng.randint(1, 4) if kg < 10 else 1,
            "price": f"{price:.2f}",
        }
        for sku, text, price, kg, _m3, _tags in items
    ]
    collis = []
    for i in range(rng.randint(1, 3)):
        _sku, text, _price, kg, m3, tags = items[i % len(items)]
        collis.append(
            {
                "barcode": _ean13(f"57{ref[3:]}{i:04d}"),
                "description": text,
                "weight": f"{kg * rng.uniform(0.9, 1.15):.1f}",
                "volume": f"{m3 * rng.uniform(0.9, 1.2):.3f}",
                "tags": tags
                + (["Fragile"] if "Fragile" not in tags and rng.random() < 0.1 else []),
            }
        )
    return lines, collis


def demo_order_data(rng: random.Random, slug: str, ref: str, today: date) -> dict[str, Any]:
    """One order in the API's camelCase shape, for ``OrderSerializer``."""
    street, town, lat, lon = rng.choice(STREETS)
    primary = f"{street} {rng.randint(1, 180)}"
    if rng.random() < 0.3:
        primary += f", {rng.randint(1, 5)}. {rng.choice(['th', 'tv', 'mf'])}"
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = rng.choice(COMPANIES) if slug == "kbh-kaffe" and rng.random() < 0.6 else None
    day = rng.choice([d for n in range(1, 8) if (d := today + timedelta(days=n)).weekday() < 5])
    pickup_hour = rng.randint(8, 12)
    # Most orders go out the same day, the rest the next weekday.
    delivery_day = (
        day if rng.random() < 0.6 else day + timedelta(days=3 if day.weekday() == 4 else 1)
    )
    delivery_hour = rng.randint(pickup_hour + 2, 16) if delivery_day == day else rng.randint(8, 16)
    lines, collis = _demo_goods(rng, slug, ref)
    tags = ["Outbound"] + [t for t, p in (("Express", 0.15), ("Mainland", 0.5)) if rng.random() < p]
    return {
        "creatorOrderId": ref,
        "relationalId": f"SO-{rng.randint(100000, 999999)}",
        "tags": tags,
        "notes": rng.choice(NOTES) if rng.random() < 0.4 else "",
        "deliveryLocation": {
            "address": {
                "primary": primary,
                "secondary": town,
                "postalCode": town.split()[0],
                "countryCode": "DK",
            },
            "position": {
                "latitude": round(lat + rng.uniform(-0.002, 0.002), 6),
                "longitude": round(lon + rng.uniform(-0.003, 0.003), 6),
            },
            "timeZone": "Europe/Copenhagen",
        },
        "deliveryContact": {
            "preferredName": first,
            "fullName": f"{first} {last}",
            "phone": _phone(rng),
            "email": f"{_ascii(first)}.{_ascii(last)}@example.dk",
            "company": company,
        },
        "pickupTimeFrame": _frame(day, pickup_hour),
        "deliveryTimeFrame": _frame(delivery_day, delivery_hour),
        "lines": lines,
        "collis": collis,
    }


class Command(BaseCommand):
    help = "Load demo shippers, carriers and test-mode orders around Copenhagen (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        shippers: dict[str, Shipper] = {}
        for slug, (name, email, primary, secondary, lat, lon, _, _) in SHIPPERS.items():
            shippers[slug], _ = Shipper.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "contact_email": email,
                    "default_pickup_address_primary": primary,
                    "default_pickup_address_secondary": secondary,
                    "default_pickup_postal_code": secondary.split()[0],
                    "default_pickup_country_code": "DK",
                    "planning_policy": "balanced" if slug == "nordic-home" else "cheapest",
                    "default_pickup_latitude": lat,
                    "default_pickup_longitude": lon,
                    "default_pickup_time_zone": "Europe/Copenhagen",
                },
            )
            PosIntegration.objects.get_or_create(
                shipper=shippers[slug],
                live_mode=False,
                defaults={"base_url": POS_URL, "active": False},
            )
        for slug, name, email in CARRIERS:
            Carrier.objects.get_or_create(
                slug=slug, defaults={"name": name, "contact_email": email}
            )
        services = demo_services_load()

        demo = list(shippers.values())
        created = 0
        if Order.objects.filter(shipper__in=demo).exists():
            self.stdout.write("The demo shippers have orders already; no orders created.")
        else:
            created = self._create_orders(shippers)
            # Planned here rather than waiting for the worker, so the portal opens planned.
            orders_plan(
                order_ids=list(
                    Order.objects.filter(shipper__in=demo, needs_planning=True).values_list(
                        "id", flat=True
                    )
                ),
                actor="demo",
            )
        self.stdout.write(demo_finance_load())
        self.stdout.write(demo_fleet_load(timezone.localtime(timezone.now(), ZONE).date()))
        carriers = Carrier.objects.filter(slug__in=[c[0] for c in CARRIERS]).count()
        pos = PosIntegration.objects.filter(shipper__in=demo).count()
        orders = Order.objects.filter(shipper__in=demo).count()
        collis = Collo.objects.filter(order__shipper__in=demo).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {len(demo)} shippers, {carriers} carriers ({services} services "
                f"created now), {pos} POS integrations, "
                f"{orders} orders with {collis} collis ({created} orders created now)."
            )
        )

    @transaction.atomic
    def _create_orders(self, shippers: dict[str, Shipper]) -> int:
        rng = random.Random(42)
        today = timezone.localtime(timezone.now(), ZONE).date()
        numbers = {slug: spec[7] for slug, spec in SHIPPERS.items()}
        for _ in range(ORDER_COUNT):
            slug = "nordic-home" if rng.random() < 0.55 else "kbh-kaffe"
            numbers[slug] += 1
            ref = f"{SHIPPERS[slug][6]}-{numbers[slug]}"
            # The one import of the API package here (allowed in tests/test_layering.py):
            # demo orders go in as a client sends them, through the Order API's validator,
            # so the demo never holds an order the API would refuse.
            serializer = OrderSerializer(data=demo_order_data(rng, slug, ref, today))
            serializer.is_valid(raise_exception=True)
            order_create(
                shipper=shippers[slug],
                live_mode=False,
                spec=serializer.validated_data,
                actor="demo",
            )
        return ORDER_COUNT
