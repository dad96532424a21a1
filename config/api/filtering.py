"""Query parameters of the API's lists, read one way by every reader."""

from __future__ import annotations

from django_filters import MultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError


class OneValueFilterBackend(DjangoFilterBackend):
    """A query parameter that takes one value, given twice, is a 400 naming it.

    Django reads the last of `?type=a&type=b` while a proxy or cache in front may read the first:
    two readers, two different lists. Filters that take several values (`status`) may repeat.
    """

    def filter_queryset(self, request, queryset, view):
        names = set()
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            names |= {
                name
                for name, query_filter in filterset.filters.items()
                if not isinstance(query_filter, MultipleChoiceFilter)
            }
        paginator = getattr(view, "paginator", None)
        for attribute in ("cursor_query_param", "page_size_query_param"):
            if getattr(paginator, attribute, None):
                names.add(getattr(paginator, attribute))
        repeated = sorted(name for name in names if len(request.query_params.getlist(name)) > 1)
        if repeated:
            raise ValidationError({name: ["Give this parameter once."] for name in repeated})
        return super().filter_queryset(request, queryset, view)
