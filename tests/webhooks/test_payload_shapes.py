"""Golden tests: the seed payload models describe exactly the seed fixtures (seeds/004).

Each file in ``tests/fixtures/seed-events/`` is a valid envelope named ``<type>.v<version>.json``.
Its ``data`` must validate against ``SEED_PAYLOADS[(type, version)]`` and dump back to the same
shape, and the model's JSON Schema must name exactly the fixture's keys, at every level.
No database is needed.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from webhooks.payloads import SEED_PAYLOADS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EVENT_FILES = sorted((FIXTURES / "seed-events").glob("*.json"))
MALFORMED_FILES = sorted((FIXTURES / "seed-events-malformed").glob("*.json"))
ENVELOPE_KEYS = {"id", "type", "version", "liveMode", "dateTime", "data"}

events = pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.name)


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def model_for(envelope: dict[str, Any]) -> type[BaseModel]:
    return SEED_PAYLOADS[(envelope["type"], envelope["version"])]


# --- shapes ----------------------------------------------------------------------------------


def shape(value: Any) -> Any:
    """Dicts to {key: shape}, lists to [shape of each element], scalars to their JSON type."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"  # JSON has one number type: 0 and 0.0 are the same shape
    if isinstance(value, str):
        return "string"
    raise TypeError(f"not a JSON value: {value!r}")


def _describe(node: Any) -> str:
    if isinstance(node, dict):
        return "object"
    if isinstance(node, list):
        return "array"
    return str(node)


def shape_difference(expected: Any, actual: Any, path: str = "data") -> str | None:
    """The first place two shapes differ, or None; ``null`` on either side matches anything."""
    if expected == "null" or actual == "null":
        return None
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            missing = sorted(expected.keys() - actual.keys())
            unexpected = sorted(actual.keys() - expected.keys())
            return f"{path}: keys differ, missing {missing}, unexpected {unexpected}"
        for key in expected:
            difference = shape_difference(expected[key], actual[key], f"{path}.{key}")
            if difference:
                return difference
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path}: {len(expected)} items expected, got {len(actual)}"
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            difference = shape_difference(left, right, f"{path}[{index}]")
            if difference:
                return difference
        return None
    if expected != actual:
        return f"{path}: expected {_describe(expected)}, got {_describe(actual)}"
    return None


# --- JSON Schema -----------------------------------------------------------------------------


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and unwrap ``X | None`` (``anyOf`` with a null branch) to X's schema."""
    while True:
        if "$ref" in node:
            node = defs[node["$ref"].removeprefix("#/$defs/")]
        elif "anyOf" in node:
            branches = [branch for branch in node["anyOf"] if branch.get("type") != "null"]
            assert len(branches) == 1, f"unexpected union in schema: {node}"
            node = branches[0]
        else:
            return node


def schema_key_difference(
    value: Any, node: dict[str, Any], defs: dict[str, Any], path: str = "data"
) -> str | None:
    """The first object whose schema properties (or required keys) differ from the value's."""
    if value is None:
        return None
    node = _resolve(node, defs)
    if isinstance(value, dict):
        properties = node.get("properties")
        if properties is None:
            return f"{path}: schema describes no properties, fixture has {sorted(value)}"
        if set(properties) != set(value):
            missing = sorted(set(value) - set(properties))
            unexpected = sorted(set(properties) - set(value))
            return f"{path}: schema properties differ, missing {missing}, unexpected {unexpected}"
        if set(node.get("required", [])) != set(value):
            optional = sorted(set(value) - set(node.get("required", [])))
            return f"{path}: keys not required by the schema: {optional}"
        for key, item in value.items():
            difference = schema_key_difference(item, properties[key], defs, f"{path}.{key}")
            if difference:
                return difference
    elif isinstance(value, list):
        for index, item in enumerate(value):
            difference = schema_key_difference(item, node["items"], defs, f"{path}[{index}]")
            if difference:
                return difference
    return None


def object_schemas(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The top-level schema and every ``$defs`` entry, named."""
    return [(schema["title"], schema), *schema.get("$defs", {}).items()]


# --- tests -----------------------------------------------------------------------------------


def test_it_has_the_fixture_files() -> None:
    assert len(EVENT_FILES) == len(SEED_PAYLOADS) == 22
    assert len(MALFORMED_FILES) == 4


@events
def test_it_reads_a_known_envelope(path: Path) -> None:
    envelope = load(path)

    assert set(envelope) == ENVELOPE_KEYS
    assert (envelope["type"], envelope["version"]) in SEED_PAYLOADS
    assert path.name == f"{envelope['type']}.v{envelope['version']}.json"


@events
def test_it_validates_the_fixture_data(path: Path) -> None:
    envelope = load(path)

    model_for(envelope).model_validate(envelope["data"])


@events
def test_it_dumps_the_same_shape_as_the_fixture(path: Path) -> None:
    envelope = load(path)
    data = envelope["data"]

    dumped = model_for(envelope).model_validate(data).model_dump(mode="json", by_alias=True)

    difference = shape_difference(shape(data), shape(dumped))
    assert difference is None, f"{path.name}: dumped shape differs from the fixture at {difference}"


@events
def test_it_dumps_the_fixture_data_back_unchanged(path: Path) -> None:
    envelope = load(path)
    data = envelope["data"]

    dumped = model_for(envelope).model_validate(data).model_dump(mode="json", by_alias=True)

    assert dumped == data


@events
def test_it_names_exactly_the_fixture_keys_in_the_json_schema(path: Path) -> None:
    envelope = load(path)
    data = envelope["data"]
    schema = model_for(envelope).model_json_schema(by_alias=True)

    assert set(schema["properties"]) == set(data)
    difference = schema_key_difference(data, schema, schema.get("$defs", {}))
    assert difference is None, f"{path.name}: JSON Schema differs from the fixture at {difference}"


@pytest.mark.parametrize("key", sorted(SEED_PAYLOADS), ids="{0[0]}.v{0[1]}".format)
def test_it_forbids_unknown_keys_in_every_object(key: tuple[str, str]) -> None:
    schema = SEED_PAYLOADS[key].model_json_schema(by_alias=True)

    lax = [
        name
        for name, node in object_schemas(schema)
        if "properties" in node and node.get("additionalProperties") is not False
    ]
    assert lax == [], f"{key}: these models accept unknown keys: {lax}"


@events
def test_it_rejects_an_unknown_top_level_key(path: Path) -> None:
    envelope = load(path)

    with pytest.raises(ValidationError, match="extra_forbidden|Extra inputs"):
        model_for(envelope).model_validate({**envelope["data"], "unexpectedKey": "x"})


@events
def test_it_rejects_data_missing_a_key(path: Path) -> None:
    envelope = load(path)
    data = dict(envelope["data"])
    data.pop(next(iter(data)))

    with pytest.raises(ValidationError, match="missing"):
        model_for(envelope).model_validate(data)


def test_it_has_a_fixture_for_every_payload_model() -> None:
    fixtures = {(e["type"], e["version"]) for e in map(load, EVENT_FILES)}

    assert set(SEED_PAYLOADS) - fixtures == set(), "models without a fixture"
    assert fixtures - set(SEED_PAYLOADS) == set(), "fixtures without a model"


@pytest.mark.parametrize("path", MALFORMED_FILES, ids=lambda p: p.name)
def test_it_refuses_to_parse_a_malformed_fixture(path: Path) -> None:
    assert path.name in {p.name for p in EVENT_FILES}, "malformed copy of an unknown event"

    with pytest.raises(json.JSONDecodeError):
        json.loads(path.read_text(encoding="utf-8"))
