import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


def _no_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class BoundedJSONParser(BaseParser):
    """JSON with a size cap (per view: ``max_body_bytes``) and exact decimals.

    Numbers are parsed as Decimal so money and weights never pass through a float.
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
        try:
            return json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_no_constant)
        except UnicodeDecodeError as exc:
            raise ParseError("The request body is not valid UTF-8.") from exc
        except json.JSONDecodeError as exc:
            raise ParseError(
                f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
            ) from exc
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"Malformed JSON: {exc}.") from exc
