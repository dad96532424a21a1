import django_filters

from config.api.fields import BoundedIsoDateTimeFilter, ReferenceFilter
from config.api.text import reference_normalised
from orders.models import Order, OrderStatus
from orders.selectors import barcode_filter, tag_filter


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    tag = django_filters.CharFilter(method="filter_tag", help_text="Orders carrying this tag.")
    creatorOrderId = ReferenceFilter(field_name="creator_order_id")  # noqa: N815
    relationalId = ReferenceFilter(field_name="relational_id")  # noqa: N815
    barcode = django_filters.CharFilter(method="filter_barcode", help_text="A collo's barcode.")
    createdFrom = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")  # noqa: N815
    createdTo = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")  # noqa: N815
    updatedFrom = BoundedIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")  # noqa: N815
    updatedTo = BoundedIsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")  # noqa: N815

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tag_filter(value))

    def filter_barcode(self, queryset, name, value):
        return queryset.filter(barcode_filter(reference_normalised(value)))
