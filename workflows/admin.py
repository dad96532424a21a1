from django.contrib import admin

from workflows.models import OrderEvent


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    """What shippers registered against their orders: facts, read here, written by the API."""

    list_display = ("event_reference", "event_type", "order", "event_date", "updated_at")
    list_filter = ("event_type", "order__live_mode")
    search_fields = ("event_reference", "order__creator_order_id")
    list_select_related = ("order",)
    readonly_fields = [f.name for f in OrderEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
