from django.contrib import admin, messages

from accounts.models import ApiKey, ApiKeyMode
from accounts.services import api_key_create
from carriers.models import Carrier


class CarrierApiKeyInline(admin.TabularInline):
    model = ApiKey
    fk_name = "carrier"
    fields = ("prefix", "name", "mode", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "contact_email", "active")
    search_fields = ("name", "slug")
    list_filter = ("active",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = [CarrierApiKeyInline]
    actions = ["issue_live_key"]

    @admin.action(description="Issue a live API key (shown once)")
    def issue_live_key(self, request, queryset):
        for carrier in queryset:
            issued = api_key_create(
                carrier=carrier, mode=ApiKeyMode.LIVE, name=f"admin:{request.user}"
            )
            messages.warning(request, f"New key for {carrier}: {issued.raw_key} — shown only now.")
