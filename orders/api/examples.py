"""Request and response examples for the API docs, in the seeds' shape."""

from drf_spectacular.utils import OpenApiExample

ORDER_REQUEST = {
    "creatorOrderId": "AB20201112",
    "relationalId": "SO-123123",
    "tags": ["Outbound", "Mainland"],
    "notes": "Ring twice; the door bell is broken.",
    "pickupLocation": {
        "address": {"primary": "Søtorvet 5", "secondary": "1371 København K"},
        "position": {"latitude": 55.685396, "longitude": 12.564829},
        "timeZone": "europe/copenhagen",
    },
    "deliveryLocation": {
        "address": {"primary": "Artillerivej 86", "secondary": "2300 København"},
        "position": {"latitude": 55.662128, "longitude": 12.577972},
        "timeZone": "Europe/Copenhagen",
    },
    "pickupContact": {
        "preferredName": "John Doe",
        "phone": {"countrycallingCode": "45", "nationalNumber": "32121212"},
        "email": "pickup@example.dk",
    },
    "deliveryContact": {
        "preferredName": "Jane Doe",
        "fullName": "Jane Doe",
        "phone": {"countrycallingCode": "45", "nationalNumber": "22345678"},
        "email": "jane@example.dk",
        "company": None,
    },
    "pickupTimeFrame": {"from": "2026-11-24T10:00:00+01:00", "to": "2026-11-24T11:00:00+01:00"},
    "deliveryTimeFrame": {"from": "2026-11-24T13:00:00+01:00", "to": "2026-11-24T15:00:00+01:00"},
    "lines": [
        {
            "reference": "SKU-1001",
            "description": "Oak dining table",
            "quantity": 1,
            "price": "4995.00",
            "taxRate": "25",
        },
        {
            "reference": "SKU-2002",
            "description": "Dining chair",
            "quantity": 4,
            "price": "899.00",
            "taxRate": "25",
        },
    ],
    "collis": [
        {
            "barcode": "5701234000011",
            "weight": "38.5",
            "volume": "0.42",
            "dimensions": {"length": 180, "width": 90, "height": 12},
            "tags": ["Handling:2person"],
        },
        {"barcode": "5701234000028", "weight": "22", "volume": "0.25", "tags": []},
    ],
}

ORDER_EXAMPLES = [OpenApiExample("A dining set", value=ORDER_REQUEST, request_only=True)]

VALIDATION_ERROR = OpenApiExample(
    "Validation error",
    value={
        "type": "validation_error",
        "detail": "Invalid input: deliveryLocation.address.primary.",
        "errors": [
            {
                "field": "deliveryLocation.address.primary",
                "code": "required",
                "message": "This field is required.",
            }
        ],
    },
    response_only=True,
    status_codes=["400"],
)
