from django.contrib import admin

from webhooks.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("type", "version", "live_mode", "shipper", "carrier", "entity_ref", "date_time")
    list_filter = ("type", "live_mode", "category", "shipper")
    search_fields = ("=id", "entity_ref", "=entity_id", "=root_entity_id", "root_entity_ref")
    date_hierarchy = "date_time"
    readonly_fields = [f.name for f in Event._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
