import django_filters

from carriers.models import Plan
from config.api.fields import BoundedDateFilter
from orders.models import OrderStatus


class ManifestFilter(django_filters.FilterSet):
    pickupDay = BoundedDateFilter(field_name="pickup_day")  # noqa: N815
    pickupDayFrom = BoundedDateFilter(field_name="pickup_day", lookup_expr="gte")  # noqa: N815
    pickupDayTo = BoundedDateFilter(field_name="pickup_day", lookup_expr="lte")  # noqa: N815
    status = django_filters.MultipleChoiceFilter(
        field_name="order__status", choices=OrderStatus.choices
    )
    service = django_filters.CharFilter(field_name="service__code", help_text="A service code.")

    class Meta:
        model = Plan
        fields: list[str] = []
