"""Sub-shapes that recur across the seed webhook payloads (seeds/004, the webhook contract).

Field names are the JSON keys verbatim (camelCase), except ``from``, a Python keyword, which is
``from_`` with ``alias="from"``. Dump with ``by_alias=True`` to get the wire keys back.

Two families of shapes coexist in the contract:

* the current ("v2") shapes used by the ``Order*`` tracking events and most others: contacts
  with ``preferredName``/``fullName`` and a ``countrycallingCode``/``nationalNumber`` phone;
* the older ("v1") shapes used by the ``Collo*`` events: contacts with ``firstName`` and a
  ``countryPrefix``/``number`` phone.

They are kept as separate models rather than one loosened model, so each validates exactly the
keys its events send.
"""

from pydantic import BaseModel, ConfigDict, Field


class PayloadModel(BaseModel):
    """Base for every payload model: unknown keys are rejected, aliases and names both accepted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- references ------------------------------------------------------------------------------


class OrderRef(PayloadModel):
    """Short reference to an order, as embedded in most events."""

    id: str
    creatorOrderId: str
    creatorId: str
    relationalId: str | None
    tags: list[str]


class RouteRef(PayloadModel):
    """Short reference to a route and the executors (carriers) assigned to it."""

    id: str
    slug: str
    reference: str
    tags: list[str]
    executors: list[str]


class ColloRef(PayloadModel):
    """Short reference to a collo (parcel), as sent by the CollectionPoint* events."""

    id: str
    barcode: str
    tags: list[str]


# --- places and times ------------------------------------------------------------------------


class Address(PayloadModel):
    """Two-line address; ``secondary`` is null when the whole address fits on one line."""

    primary: str
    secondary: str | None


class Position(PayloadModel):
    """WGS84 coordinates in decimal degrees (0, 0 when geocoding failed)."""

    latitude: float
    longitude: float


class Location(PayloadModel):
    """An address with its coordinates and IANA time zone."""

    address: Address
    position: Position
    timeZone: str


class CollectionPointAddress(PayloadModel):
    """One-line address of a collection point (no ``secondary`` key)."""

    primary: str


class CollectionPointLocation(PayloadModel):
    """Location of a collection point, with its one-line address."""

    address: CollectionPointAddress
    position: Position
    timeZone: str


class TimeFrame(PayloadModel):
    """A window of time; both ends are ISO 8601 text with offset."""

    from_: str = Field(alias="from")
    to: str


# --- people ----------------------------------------------------------------------------------


class PhoneV2(PayloadModel):
    """Phone number split into calling code and national number (v2 shape)."""

    countrycallingCode: str
    nationalNumber: str
    countryCode: str


class ContactV2(PayloadModel):
    """Pickup or delivery contact (v2 shape)."""

    preferredName: str
    fullName: str
    phone: PhoneV2
    email: str | None
    company: str | None


class Executor(PayloadModel):
    """The carrier a driver works for."""

    id: str
    name: str


class DriverV2(PayloadModel):
    """The driver handling the stop (v2 shape): no ``company``, but the ``executor``."""

    preferredName: str
    fullName: str
    phone: PhoneV2
    email: str | None
    executor: Executor


class PhoneV1(PayloadModel):
    """Phone number as prefix and number (v1 shape)."""

    countryPrefix: str
    number: str


class ContactV1(PayloadModel):
    """Pickup or delivery contact (v1 shape); every field may be null."""

    firstName: str | None
    phone: PhoneV1 | None
    email: str | None
    company: str | None


class DriverV1(PayloadModel):
    """The driver handling the stop (v1 shape: same keys as ``ContactV1``)."""

    firstName: str
    phone: PhoneV1
    email: str | None
    company: str | None


# --- outcomes --------------------------------------------------------------------------------


class Deviation(PayloadModel):
    """Why a stop failed, with the ids of the photos the driver took."""

    description: str
    imageIds: list[str]
