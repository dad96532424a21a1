import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import BaseParser

from config.api.text import document_errors, json_object_from_pairs


def _no_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def json_document(raw: bytes) -> object:
    """Parse a JSON body the way every Waybill endpoint reads one, or raise ``ParseError``."""
    try:
        return json.loads(
            raw.decode("utf-8"),
            parse_float=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=json_object_from_pairs,
        )
    except UnicodeDecodeError as exc:
        raise ParseError("The request body is not valid UTF-8.") from exc
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"Malformed JSON: {exc}.") from exc


class BoundedJSONParser(BaseParser):
    """JSON with a size cap (per view: ``max_body_bytes``) and exact decimals.

    Numbers are parsed as Decimal so money and weights never pass through a float. Repeated
    keys, NUL characters and unpaired surrogates are a 400 naming where they are, checked
    here once for every body; a view that sets ``json_items_checked_alone`` checks the items
    of that list itself, so that one bad item fails alone.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        view = (parser_context or {}).get("view")
        limit = getattr(view, "max_body_bytes", None) or settings.API_MAX_BODY_BYTES
        if stream is None:
            return {}
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise ParseError(f"The request body is larger than {limit} bytes.")
        if not raw.strip():
            raise ParseError("The request body is empty; a JSON document was expected.")
        document = json_document(raw)
        errors = document_errors(
            document, items_checked_alone=getattr(view, "json_items_checked_alone", None)
        )
        if errors:
            raise ValidationError(errors)
        return document
