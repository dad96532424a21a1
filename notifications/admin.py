"""Notifications in the admin: templates edited by staff with a live preview, the sent log
read-only, receivers' opt-outs editable."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from config.times import admin_time
from notifications import selectors
from notifications.models import NotificationMessage, NotificationTemplate, ReceiverOptOut
from notifications.services import notification_preview, template_problems


class NotificationTemplateForm(forms.ModelForm):
    class Meta:
        model = NotificationTemplate
        fields = (
            "shipper",
            "code",
            "channel",
            "name",
            "active",
            "subject",
            "text_body",
            "html_body",
            "trigger_event",
            "time_subtracted_from_estimate",
            "time_added_to_estimate",
            "schedule_id",
            "update_pickup_promise",
            "update_delivery_promise",
        )
        widgets = {
            "text_body": forms.Textarea(attrs={"rows": 10, "cols": 100}),
            "html_body": forms.Textarea(attrs={"rows": 14, "cols": 100}),
        }

    def clean(self) -> dict:
        """A template that does not compile, names an unknown merge tag or has fields its
        channel does not take is an error on that field."""
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = NotificationTemplate(
            **{
                name: cleaned.get(name, "")
                for name in ("channel", "subject", "text_body", "html_body", "trigger_event")
            }
        )
        for problem in template_problems(candidate):
            self.add_error(problem.field, problem.message)
        return cleaned


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    form = NotificationTemplateForm
    list_display = ("name", "code", "channel", "shipper", "trigger_event", "active", "preview")
    list_filter = ("channel", "active", "trigger_event")
    search_fields = ("name", "code")
    list_select_related = ("shipper",)
    readonly_fields = ("preview",)
    fieldsets = (
        (None, {"fields": ("shipper", "code", "channel", "name", "active", "preview")}),
        ("Content", {"fields": ("subject", "text_body", "html_body")}),
        (
            "Trigger (seed 004's schedule trigger: the ETA window SMS)",
            {
                "fields": (
                    "trigger_event",
                    ("time_subtracted_from_estimate", "time_added_to_estimate"),
                    "schedule_id",
                    ("update_pickup_promise", "update_delivery_promise"),
                )
            },
        ),
    )

    @admin.display(description="Preview")
    def preview(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "Save the template to preview it."
        url = reverse("admin:notifications_notificationtemplate_preview", args=[obj.pk])
        return format_html('<a href="{}">Preview with the latest order</a>', url)

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path(
                "<uuid:template_id>/preview/",
                preview,
                name="notifications_notificationtemplate_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, template_id):
        """The template rendered for an order (``?order=<id>``, else the latest): subject,
        text and HTML, as the receiver would get them. Nothing is sent."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        template = get_object_or_404(NotificationTemplate, pk=template_id)
        asked = request.GET.get("order", "").strip()
        error = ""
        try:
            order_id = uuid.UUID(asked) if asked else None
        except ValueError:
            order_id, error = None, f"'{asked}' is not an order id."
        order = selectors.preview_order(template=template, order_id=order_id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {template}",
            "template_obj": template,
            "order": order,
            "asked": asked,
            "error": error or ("" if order else "No such order to preview with."),
            "preview": notification_preview(template=template, order=order) if order else None,
        }
        return TemplateResponse(request, "admin/notifications/preview.html", context)


@admin.register(NotificationMessage)
class NotificationMessageAdmin(admin.ModelAdmin):
    """The log of what was sent (or refused, or failed): read only."""

    list_display = ("created_at", "channel", "to", "template_code", "status", "order", "test_mode")
    list_filter = ("channel", "status", "test_mode", "trigger")
    search_fields = ("to", "key", "order__creator_order_id", "provider_id")
    list_select_related = ("order",)
    sent_at_local = admin_time(
        "sent_at", lambda m: m.order.delivery_time_zone, "Sent (the receiver's zone)"
    )
    readonly_fields = ["sent_at_local", *(f.name for f in NotificationMessage._meta.fields)]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReceiverOptOut)
class ReceiverOptOutAdmin(admin.ModelAdmin):
    list_display = ("address", "channel", "shipper", "created_at")
    list_filter = ("channel",)
    search_fields = ("address",)
    list_select_related = ("shipper",)
