import re
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from config.errors import InvalidInput
from orders.admin import URL_FORM_FIELD, https_by_default
from webhooks import selectors, services
from webhooks.models import Delivery, DeliveryAttempt, Event, Subscription

HEALTH_WINDOW = timedelta(days=7)
# Where the service's error fields (the API's names) show on the subscription form.
SUBSCRIPTION_FORM_FIELDS = {"url": "url", "eventTypes": "event_types", "versions": "versions"}
# What the form may change once the subscription exists; its tenant and mode stay.
SUBSCRIPTION_CHANGEABLE = ("url", "event_types", "versions", "description", "active")


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


class SubscriptionForm(forms.ModelForm):
    """Checked by the same service checks as the API, before anything is saved."""

    class Meta:
        model = Subscription
        fields = ["shipper", "live_mode", "url", "event_types", "versions", "description", "active"]
        formfield_callback = https_by_default

    def clean(self):
        cleaned = super().clean()
        event_types = cleaned.get("event_types")
        versions = cleaned.get("versions") or {}
        if event_types is not None and not (
            isinstance(event_types, list) and all(isinstance(t, str) for t in event_types)
        ):
            self.add_error("event_types", 'A JSON list of event types, or ["*"].')
        if not isinstance(versions, dict) or not all(isinstance(v, str) for v in versions.values()):
            self.add_error("versions", 'A JSON object of event type to version, e.g. {"x": "1"}.')
        if self.errors:
            return cleaned  # the service checks need all three fields well formed
        url_is_new = self.instance._state.adding or "url" in self.changed_data
        try:
            services.subscription_check(
                url=cleaned["url"] if url_is_new else None,
                event_types=event_types,
                versions=versions,
            )
        except InvalidInput as exc:
            for error in exc.errors:
                field = re.split(r"[.\[]", error["field"], maxsplit=1)[0]
                self.add_error(SUBSCRIPTION_FORM_FIELDS.get(field), error["message"])
        return cleaned


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    formfield_overrides = URL_FORM_FIELD
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
    # The signing secret is shown once, when it is made (on creation and on rotation), and
    # never again: no field, column or history entry of this admin carries it.
    readonly_fields = (
        "signing_secret",
        "previous_secret_expires_at",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "updated_at",
    )
    actions = ["replay_failed_last_week", "rotate_secret", "switch_on"]

    def get_fields(self, request, obj=None):
        editable = ["shipper", "live_mode", "url", "event_types", "versions", "description"]
        if obj is None:
            return editable
        return [*editable, "active", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "shipper", "live_mode"] if obj else []

    @admin.display(description="Signing secret")
    def signing_secret(self, obj) -> str:
        return "set (hidden; rotate it to get a new one)" if obj.secret else "none"

    def save_model(self, request, obj, form, change):
        # Saved by the services the API uses, so the URL and event types get the same checks.
        data = form.cleaned_data
        if change:
            changes = {f: data[f] for f in form.changed_data if f in SUBSCRIPTION_CHANGEABLE}
            if changes:
                services.subscription_update(subscription=obj, changes=changes)
            return
        created = services.subscription_create(
            shipper=data["shipper"],
            live_mode=data["live_mode"],
            url=data["url"],
            event_types=data["event_types"],
            versions=data.get("versions") or {},
            description=data.get("description", ""),
        )
        obj.pk = created.pk
        obj._state.adding = False
        messages.warning(
            request,
            f"Signing secret of {created.url}: {created.secret} (copy it now: shown only once)",
        )

    def delete_model(self, request, obj):
        services.subscription_delete(subscription=obj)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            services.subscription_delete(subscription=subscription)

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

    @admin.action(
        description="Replay failed and dead deliveries of the last 7 days", permissions=["replay"]
    )
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

    @admin.action(
        description="Rotate the signing secret (the old one signs for 24 h more)",
        permissions=["change"],
    )
    def rotate_secret(self, request, queryset):
        for subscription in queryset:
            rotated = services.subscription_rotate_secret(subscription=subscription)
            messages.warning(
                request,
                f"New signing secret of {rotated.url}: {rotated.secret} "
                "(copy it now: shown only once)",
            )

    @admin.action(description="Switch on again", permissions=["change"])
    def switch_on(self, request, queryset):
        for subscription in queryset:
            services.subscription_update(subscription=subscription, changes={"active": True})
        messages.success(request, f"Switched on {queryset.count()} subscription(s).")

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.replay_delivery")


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

    @admin.action(description="Replay the selected deliveries", permissions=["replay"])
    def replay(self, request, queryset):
        replays = services.deliveries_replay(deliveries=list(queryset))
        messages.success(request, f"Queued {len(replays)} replay(s).")

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.replay_delivery")
