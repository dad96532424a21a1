from django import forms
from django.contrib import admin

from workflows.actions import ACTION_CHOICES, ACTIONS
from workflows.conditions import OPERATORS, SUBJECTS
from workflows.engine import triggers_forget
from workflows.models import OrderEvent, Workflow, WorkflowAction, WorkflowCondition, WorkflowRun


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


# --- workflows --------------------------------------------------------------------------


def _action_help() -> str:
    lines = []
    for action in ACTIONS.values():
        params = ", ".join(
            f"{p.name}{'' if p.required else '?'}"
            + (f" ({'|'.join(p.choices)})" if p.choices else "")
            for p in action.params
        )
        lines.append(f"{action.kind}: {{{params}}} — retried as {action.retry_kind}")
    return "Parameters per kind (? = optional): " + "; ".join(lines)


class WorkflowActionForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=ACTION_CHOICES)
    params = forms.JSONField(required=False, initial=dict, help_text=_action_help())

    class Meta:
        model = WorkflowAction
        fields = ("position", "kind", "params")

    def clean_params(self):
        return self.cleaned_data.get("params") or {}


class WorkflowConditionForm(forms.ModelForm):
    subject = forms.ChoiceField(choices=[(s, s) for s in SUBJECTS])
    operator = forms.ChoiceField(choices=[(o, o) for o in OPERATORS])

    class Meta:
        model = WorkflowCondition
        fields = ("subject", "key", "operator", "value")
        help_texts = {
            "key": "The attribute's name, for event.attribute (dotted for nested ones).",
            "value": "A shipper slug, a tag, a status, true/false, a country code; "
            "a comma-separated list for in / not_in.",
        }


class WorkflowConditionInline(admin.TabularInline):
    model = WorkflowCondition
    form = WorkflowConditionForm
    extra = 0


class WorkflowActionInline(admin.TabularInline):
    model = WorkflowAction
    form = WorkflowActionForm
    extra = 0
    ordering = ("position", "id")


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    """Staff workflows: a trigger, conditions that must all hold, and actions run in order."""

    list_display = ("name", "active", "trigger_kind", "trigger_name", "updated_at")
    list_filter = ("active", "trigger_kind")
    search_fields = ("name", "trigger_name")
    inlines = [WorkflowConditionInline, WorkflowActionInline]
    fields = ("name", "active", "trigger_kind", "trigger_name", "description")

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        triggers_forget()


@admin.register(WorkflowRun)
class WorkflowRunAdmin(admin.ModelAdmin):
    """What each workflow run did: read only; its steps are audited as events."""

    list_display = ("workflow", "status", "trigger_key", "order", "depth", "created_at", "outcome")
    list_filter = ("status", "workflow")
    search_fields = ("trigger_key", "order__creator_order_id", "workflow__name")
    list_select_related = ("workflow", "order")
    readonly_fields = [f.name for f in WorkflowRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
