import contextlib
import re
from datetime import date

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from config.api.fields import in_accepted_range

# str.isdigit() also accepts "²" and "٣", which int() then refuses or reads differently.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,7}")


class CreatedCursorPagination(CursorPagination):
    """Stable paging for lists that grow while being read: newest first, by opaque cursor.

    A cursor comes back from the client, so it is input like any other: a position that
    does not fit the ordering field is a 400 naming ``cursor``, never a failing query.
    """

    ordering = ("-created_at", "-id")
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
    _position_field = None

    def paginate_queryset(self, queryset, request, view=None):
        self._position_field = None
        ordering = self.get_ordering(request, queryset, view)
        with contextlib.suppress(FieldDoesNotExist):
            self._position_field = queryset.model._meta.get_field(ordering[0].lstrip("-"))
        return super().paginate_queryset(queryset, request, view)

    def _invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: ["Invalid cursor."]})

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise self._invalid_cursor() from exc
        if cursor is None or cursor.position is None or self._position_field is None:
            return cursor
        try:
            position = self._position_field.to_python(cursor.position)
        except (DjangoValidationError, ValueError, TypeError, OverflowError) as exc:
            raise self._invalid_cursor() from exc
        if position is None or (isinstance(position, date) and not in_accepted_range(position)):
            raise self._invalid_cursor()
        return cursor

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and (
            not _WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= self.max_page_size
        ):
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return super().get_page_size(request)
