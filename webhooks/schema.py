"""Puts every event envelope of the catalogue into the OpenAPI document, as components."""

from webhooks.catalogue import CATALOGUE

PAYLOAD_PREFIX = "WebhookPayload"


def _component_name(name: str, version: str) -> str:
    return f"{name}V{version.replace('.', '_')}Event"


def add_event_schemas(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    for event_type in CATALOGUE.values():
        for version, event_version in event_type.versions.items():
            data = event_version.data_model.model_json_schema(
                by_alias=True, ref_template=f"#/components/schemas/{PAYLOAD_PREFIX}{{model}}"
            )
            for name, definition in data.pop("$defs", {}).items():
                components[f"{PAYLOAD_PREFIX}{name}"] = definition
            envelope = event_type.schema(version)
            components[_component_name(event_type.name, version)] = {
                "title": envelope["title"],
                "description": event_type.description,
                "type": "object",
                "required": envelope["required"],
                "properties": {**envelope["properties"], "data": data},
            }
    return result
