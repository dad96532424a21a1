from datetime import timedelta

from django.contrib import admin, messages
from django.utils import timezone

from webhooks import selectors, services
from webhooks.models import Delivery, DeliveryAttempt, Event, Subscription

HEALTH_WINDOW = timedelta(days=7)


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


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "url",
        "shipper",
        "live_mode",
        "active",
        "success_rate",
        "backlog",
        "last_error",
        "failing_since",
        "disabled_reason",
    )
    list_filter = ("active", "live_mode", "shipper")
    search_fields = ("url", "description", "shipper__name")
    readonly_fields = (
        "secret",
        "previous_secret_expires_at",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "updated_at",
    )
    exclude = ("previous_secret",)
    actions = ["replay_failed_last_week", "rotate_secret", "switch_on"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shipper")

    def changelist_view(self, request, extra_context=None):
        # One aggregate query for the health of every subscription on the page.
        self._health = selectors.subscription_health(
            subscription_ids=list(Subscription.objects.values_list("id", flat=True)[:1000]),
            since=timezone.now() - HEALTH_WINDOW,
        )
        return super().changelist_view(request, extra_context)

    def _row(self, obj) -> dict:
        health = getattr(self, "_health", None)
        if health is None:
            health = selectors.subscription_health(
                subscription_ids=[obj.id], since=timezone.now() - HEALTH_WINDOW
            )
        return health.get(obj.id, {})

    @admin.display(description="success (7 days)")
    def success_rate(self, obj) -> str:
        row = self._row(obj)
        done = row.get("delivered", 0) + row.get("failed", 0)
        return f"{100 * row.get('delivered', 0) / done:.1f} % of {done}" if done else "–"

    @admin.display(description="backlog")
    def backlog(self, obj) -> int:
        return self._row(obj).get("backlog", 0)

    @admin.display(description="last error")
    def last_error(self, obj) -> str:
        failed = (
            obj.deliveries.exclude(last_error="")
            .order_by("-created_at")
            .values_list("last_error", flat=True)
            .first()
        )
        return (failed or "")[:120]

    @admin.action(description="Replay failed and dead deliveries of the last 7 days")
    def replay_failed_last_week(self, request, queryset):
        now = timezone.now()
        count = 0
        for subscription in queryset:
            count += len(
                services.subscription_replay_failed(
                    subscription=subscription, since=now - HEALTH_WINDOW, until=now
                )
            )
        messages.success(request, f"Queued {count} replay(s).")

    @admin.action(description="Rotate the signing secret (the old one signs for 24 h more)")
    def rotate_secret(self, request, queryset):
        for subscription in queryset:
            services.subscription_rotate_secret(subscription=subscription)
        messages.success(request, f"Rotated {queryset.count()} secret(s).")

    @admin.action(description="Switch on again")
    def switch_on(self, request, queryset):
        for subscription in queryset:
            services.subscription_update(subscription=subscription, changes={"active": True})
        messages.success(request, f"Switched on {queryset.count()} subscription(s).")


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("at", "duration_ms", "status_code", "error", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event_type",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    )
    list_filter = ("status", "event__type", "subscription__shipper")
    search_fields = ("=event__id", "=id", "subscription__url")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["replay"]
    list_select_related = ("event", "subscription")

    def has_add_permission(self, request):
        return False

    @admin.display(description="event")
    def event_type(self, obj) -> str:
        return obj.event.type

    @admin.action(description="Replay the selected deliveries")
    def replay(self, request, queryset):
        replays = services.deliveries_replay(deliveries=list(queryset))
        messages.success(request, f"Queued {len(replays)} replay(s).")
