import json
from typing import Any

from django.contrib import admin, messages
from django.utils.html import format_html

from accounts.models import ApiKey, ApiKeyMode, IdempotencyRecord, Shipper
from accounts.services import api_key_create, api_key_revoke
from orders.models import PosIntegration


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fk_name = "shipper"
    fields = ("prefix", "name", "mode", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class PosIntegrationInline(admin.TabularInline):
    """Shown, not edited, here: integrations are saved on their own page, through the service
    that checks the URL and keeps the auth value write-only."""

    model = PosIntegration
    fields = ("live_mode", "base_url", "auth_header_name", "active")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shipper)
class ShipperAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "contact_email", "active", "created_at")
    search_fields = ("name", "slug", "contact_email")
    list_filter = ("active",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = [PosIntegrationInline, ApiKeyInline]
    actions = ["issue_test_key", "issue_live_key"]

    def _issue(self, request, queryset, mode):
        for shipper in queryset:
            issued = api_key_create(shipper=shipper, mode=mode, name=f"admin:{request.user}")
            messages.warning(
                request,
                f"New {mode} key for {shipper}: {issued.raw_key} (copy it now: shown only once)",
            )

    @admin.action(description="Issue a test API key (shown once)", permissions=["issue_key"])
    def issue_test_key(self, request, queryset):
        self._issue(request, queryset, ApiKeyMode.TEST)

    @admin.action(description="Issue a live API key (shown once)", permissions=["issue_key"])
    def issue_live_key(self, request, queryset):
        self._issue(request, queryset, ApiKeyMode.LIVE)

    def has_issue_key_permission(self, request) -> bool:
        # Keys cannot be added on their own page, so "add API key" means "may issue one" here.
        return request.user.has_perm("accounts.add_apikey")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "tenant", "mode", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("mode", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "name", "shipper__name", "carrier__name")
    readonly_fields = (
        "prefix",
        "shipper",
        "carrier",
        "mode",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    fields = ("name", *readonly_fields)
    actions = ["revoke"]

    def has_add_permission(self, request):
        # Keys are issued from the shipper's page so the raw key can be shown once.
        return False

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        messages.success(request, f"Revoked {queryset.count()} key(s).")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "scope", "status_code", "created_at")
    search_fields = ("key", "scope")
    readonly_fields = (
        "scope",
        "key",
        "request_fingerprint",
        "status_code",
        "answer",
        "created_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    @admin.display(description="Stored answer")
    def answer(self, record: IdempotencyRecord) -> str:
        # The first answer to a subscription create or rotation carries its signing secret.
        body = json.dumps(_redacted(record.response_body), indent=2, ensure_ascii=False)
        return format_html("<pre>{}</pre>", body)


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            # Any "…secret" key, at any depth: the admin never shows a signing secret again.
            k: "(hidden)" if str(k).lower().endswith("secret") and v else _redacted(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value
