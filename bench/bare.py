"""The floor for the ingest benchmark: Django plus one INSERT, with no API machinery.

``bench/ingest.py`` posts the same bodies here as to ``POST /api/v1/orders``; the ratio of the
two rates says how much the Order API (auth, validation, several tables, events) costs on top
of Django, gunicorn and PostgreSQL themselves.
"""

from django.db import DataError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

# The table is created by bench/ingest.py:
#   bench_bare_order (id bigserial PRIMARY KEY, body jsonb NOT NULL)
_INSERT_SQL = "INSERT INTO bench_bare_order (body) VALUES (%s::jsonb) RETURNING id"


@csrf_exempt
@require_POST
def bare_view(request: HttpRequest) -> JsonResponse:
    """Store the raw JSON body in one row and answer 201 with its id."""
    try:
        body = request.body.decode("utf-8")
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_SQL, [body])
            (row_id,) = cursor.fetchone()
    except (UnicodeDecodeError, DataError):
        return JsonResponse({"detail": "The body is not a JSON document."}, status=400)
    return JsonResponse({"id": row_id}, status=201)
