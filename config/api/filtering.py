"""Query parameters of the API's lists, read one way by every reader."""

from __future__ import annotations

from django_filters import MultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings


class StrictQueryFilterBackend(DjangoFilterBackend):
    """A list refuses query parameters it does not know, and one-value parameters given twice.

    `?stauts=planned` would otherwise list every order, and for `?type=a&type=b` Django reads
    the last while a proxy or cache in front may read the first: two readers, two lists. Filters
    that take several values (`status`) may repeat; a view names any other parameter it reads
    in `extra_query_params`.
    """

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        filters = filterset.filters if filterset is not None else {}
        paginator = getattr(view, "paginator", None)
        one_value = {name for name, f in filters.items() if not isinstance(f, MultipleChoiceFilter)}
        one_value |= {
            getattr(paginator, attribute)
            for attribute in ("cursor_query_param", "page_size_query_param")
            if getattr(paginator, attribute, None)
        }
        one_value |= set(getattr(view, "extra_query_params", ()))
        known = one_value | set(filters) | {api_settings.URL_FORMAT_OVERRIDE}
        errors = {name: ["Unknown query parameter."] for name in request.query_params}
        errors = {name: message for name, message in errors.items() if name not in known}
        for name in one_value:
            if len(request.query_params.getlist(name)) > 1:
                errors[name] = ["Give this parameter once."]
        if errors:
            raise ValidationError(dict(sorted(errors.items())))
        return super().filter_queryset(request, queryset, view)
