from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from config.api.errors import error_response, validation_body
from config.api.text import unstorable_problem

API_PREFIX = "/api/"
# Headers of an error answer that tell the client what to do next; kept when it is rewritten.
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def _is_json(response: HttpResponse) -> bool:
    return "json" in response.get("Content-Type", "")


def _is_browsable(response: HttpResponse) -> bool:
    return getattr(getattr(response, "accepted_renderer", None), "format", None) == "api"


def _query_errors(request: HttpRequest) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, values in request.GET.lists():
        problem = unstorable_problem(name) or next(
            (p for p in map(unstorable_problem, values) if p), None
        )
        if problem:
            errors[ascii(name)[1:-1]] = [problem]
    return errors


class ApiEdgeMiddleware:
    """The edge of ``/api/``: every answer under it is JSON in the one error shape, whichever
    part of Django produced it (an unknown path, a CSRF refusal, a server error), and query
    parameters holding text no store accepts are a 400 naming the parameter, before any
    view or filter reads them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        errors = _query_errors(request)
        if errors:
            return JsonResponse(validation_body(errors), status=400)
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response) and not _is_browsable(response):
            answer = error_response(response.status_code)
            for header in _KEPT_HEADERS:
                if header in response:
                    answer[header] = response[header]
            return answer
        return response
