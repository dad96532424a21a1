"""Text that Waybill refuses at the edge, wherever in a request it sits.

Two rules. No string anywhere may hold a NUL (PostgreSQL refuses it, C clients cut the string
there) or an unpaired surrogate (it cannot be encoded as UTF-8, so it could be stored by one
database and never written out again). A reference, an id that another system holds for an
order (``creatorOrderId``, ``relationalId``, line references, barcodes), may moreover hold
neither control characters nor the invisible characters that make two references look alike
or read in another order than they sort; and it is stored NFC-normalised, so the two ways of
typing "é" are one reference.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_NOT_IN_REFERENCE = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # control characters
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings and overrides
    "\u200b-\u200d\u2060\ufeff"  # zero-width characters
    "\ud800-\udfff"  # unpaired surrogates
    "]"
)


class JsonObject(dict):
    """A JSON object as parsed, remembering the keys it held more than once."""

    duplicate_keys: tuple[str, ...] = ()


def json_object_from_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a repeated key is kept for ``document_errors`` to report.

    Last-one-wins would let two readers of one body see two different orders.
    """
    document = dict(pairs)
    if len(document) == len(pairs):
        return document
    seen: set[str] = set()
    repeated = [key for key, _ in pairs if key in seen or seen.add(key)]
    marked = JsonObject(document)
    marked.duplicate_keys = tuple(dict.fromkeys(repeated))
    return marked


def unstorable_problem(value: str) -> str | None:
    match = _UNSTORABLE.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return "Must not contain NUL characters."
    return "Must not contain unpaired surrogates."


def reference_problem(value: str) -> str | None:
    """Why ``value`` cannot be a reference, or None."""
    match = _NOT_IN_REFERENCE.search(value)
    if match is None:
        return None
    return (
        f"Must not contain control, bidirectional or zero-width characters "
        f"(found U+{ord(match.group()):04X})."
    )


def reference_normalised(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def document_errors(
    value: Any, path: str = "", *, items_checked_alone: str | None = None
) -> dict[str, list[str]]:
    """Every place in a parsed JSON document with unstorable text or a repeated key, by path.

    Paths read like the API's error paths (``customFields.a.b[2]``). With
    ``items_checked_alone``, the items of that top-level list are skipped: the view checks
    each on its own, so that one bad item of a bulk fails alone.
    """
    errors: dict[str, list[str]] = {}
    if isinstance(value, str):
        problem = unstorable_problem(value)
        if problem:
            errors[path or "body"] = [problem]
    elif isinstance(value, dict):
        for key in getattr(value, "duplicate_keys", ()):
            errors.setdefault(_child(path, key), []).append("This key appears more than once.")
        for key, item in value.items():
            problem = unstorable_problem(key)
            if problem:
                # The key itself cannot be echoed safely: name it escaped.
                errors.setdefault(path or "body", []).append(f"The key {ascii(key)}: {problem}")
                continue
            if key == items_checked_alone and not path and isinstance(item, list):
                continue
            errors.update(document_errors(item, _child(path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            errors.update(document_errors(item, f"{path}[{index}]"))
    return errors
