"""Request and response examples for the API docs, in the seeds' shape."""

from drf_spectacular.utils import OpenApiExample

ORDER_REQUEST = {
    "creatorOrderId": "AB20201112",
    "relationalId": "SO-123123",
    "tags": ["Outbound", "Mainland"],
    "notes": "Ring twice; the door bell is broken.",
    "pickupLocation": {
        "address": {
            "primary": "Søtorvet 5",
            "secondary": "1371 København K",
            "postalCode": "1371",
            "countryCode": "DK",
        },
        "position": {"latitude": 55.685396, "longitude": 12.564829},
        "timeZone": "europe/copenhagen",
    },
    "deliveryLocation": {
        "address": {
            "primary": "Artillerivej 86",
            "secondary": "2300 København",
            "postalCode": "2300",
            "countryCode": "DK",
        },
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

ORDER_RESPONSE = {
    "id": "531721db-6b15-4e81-a8d5-9e0843c75dd1",
    "creatorId": "71865f82-712a-4452-8b09-d6069092e774",
    "liveMode": False,
    "status": "created",
    "currency": "DKK",
    "customFields": {},
    **{k: v for k, v in ORDER_REQUEST.items() if k not in ("lines", "collis")},
    "pickupLocation": {**ORDER_REQUEST["pickupLocation"], "timeZone": "Europe/Copenhagen"},
    "lines": [
        {
            "reference": "SKU-1001",
            "description": "Oak dining table",
            "quantity": "1",
            "price": "4995.00",
            "taxRate": "25",
            "total": "6243.75",
        }
    ],
    "collis": [
        {
            "id": "2f86465f-43cf-494f-a0bd-d0b7f9858a1a",
            "barcode": "5701234000011",
            "description": "",
            "weight": "38.5",
            "volume": "0.42",
            "dimensions": {"length": "180", "width": "90", "height": "12"},
            "tags": ["Handling:2person"],
        }
    ],
    "totalWeight": "38.5",
    "cancelReason": "",
    "cancelledAt": None,
    "goneFromPosAt": None,
    "createdAt": "2026-11-23T09:12:44.123456+00:00",
    "updatedAt": "2026-11-23T09:12:44.123456+00:00",
}

ORDER_RESPONSE_EXAMPLE = OpenApiExample(
    "An order", value=ORDER_RESPONSE, response_only=True, status_codes=["200", "201"]
)

CONFLICT = OpenApiExample(
    "Duplicate creatorOrderId",
    value={
        "type": "duplicate_creator_order_id",
        "detail": "An order with creatorOrderId 'AB20201112' exists already; "
        "use PUT /api/v1/orders/ref/AB20201112 to upsert.",
        "errors": [{"field": "creatorOrderId", "code": "duplicate", "message": "Already used."}],
        "existingOrderId": "531721db-6b15-4e81-a8d5-9e0843c75dd1",
    },
    response_only=True,
    status_codes=["409"],
)

CANCEL_EXAMPLE = OpenApiExample(
    "Customer cancelled", value={"reason": "The customer cancelled"}, request_only=True
)

BULK_EXAMPLES = [
    OpenApiExample("Two orders", value={"orders": [ORDER_REQUEST]}, request_only=True),
    OpenApiExample(
        "Per-item results",
        value={
            "created": 1,
            "updated": 0,
            "unchanged": 0,
            "failed": 1,
            "results": [
                {
                    "index": 0,
                    "outcome": "created",
                    "id": "531721db-6b15-4e81-a8d5-9e0843c75dd1",
                    "creatorOrderId": "AB20201112",
                    "error": None,
                },
                {
                    "index": 1,
                    "outcome": "error",
                    "id": None,
                    "creatorOrderId": "AB20201113",
                    "error": VALIDATION_ERROR.value,
                },
            ],
        },
        response_only=True,
        status_codes=["200"],
    ),
]

POS_EVENT_EXAMPLES = [
    OpenApiExample(
        "Order updated in the POS",
        value={"eventType": "OrderUpdated", "entityId": "AB20201112"},
        request_only=True,
    ),
    OpenApiExample(
        "Accepted",
        value={"id": "0b5a0a43-45d1-4ac4-8f57-2b1c3f9a1a10", "status": "pending"},
        response_only=True,
        status_codes=["202"],
    ),
]
