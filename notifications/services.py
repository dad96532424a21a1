"""Sending customer notifications: ``notification_send`` (what workflow actions call), the
seed 004 schedule trigger (the ETA window SMS) and queueing it when an ETA changes.

A send is idempotent on its key: the first call claims a ``NotificationMessage`` row for the
key; a call with the key of a message sent (or being sent) returns that row; one after a
failure or refusal tries again. Rendering and the provider's call happen outside any lock;
the row is marked sent, and for an SMS ``NotificationOrderSmsSent`` appended, together.

A test-mode order (``live_mode`` False) is only ever written to the demo backends: the file
email backend (``EMAIL_FILE_PATH``) and the file SMS provider (``SMS_FILE_PATH``).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.queue import enqueue_row
from config.sweeping import rows_take
from notifications import selectors
from notifications.errors import NotificationRefused, ProviderUnavailable
from notifications.models import (
    SCHEDULE_TRIGGER,
    Channel,
    EtaNotice,
    MessageStatus,
    NotificationMessage,
    NotificationTemplate,
    ReceiverOptOut,
    address_normalise,
)
from notifications.rendering import (
    TemplateProblem,
    UnknownLine,
    merge_tags,
    receiver_phone,
    template_render,
)
from notifications.sms import sms_provider
from orders.documents import tracking_url
from orders.events import order_event_target
from webhooks.catalogue import EventName
from webhooks.services import event_append

__all__ = ["NotificationRefused", "ProviderUnavailable", "notification_send"]

FILE_EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
# A claim older than this is taken to have crashed: a retry may claim the key again.
CLAIM_LEASE = timedelta(minutes=5)
RETRYABLE = (MessageStatus.FAILED, MessageStatus.REFUSED)


@dataclass
class Rendered:
    """A notification ready for its provider."""

    template: NotificationTemplate
    to: str
    sender: str
    subject: str
    text: str
    html: str


def notification_send(
    *,
    order,
    channel: str,
    template: str,
    key: str,
    message: str = "",
    custom_fields: dict | None = None,
    lines: list[dict] | None = None,
    trigger: str = "",
    eta_window: tuple | None = None,
) -> NotificationMessage:
    """Render template ``template`` (its code) of ``channel`` ("email" or "sms") for ``order``
    with merge tags and send it; idempotent on ``key`` (a retried action sends once: the same
    key returns the message already sent). Returns the stored NotificationMessage row.

    Raises ``NotificationRefused`` (opted out, no address or phone, unknown or inactive
    template, bad merge tag: not worth retrying) or ``ProviderUnavailable`` (retry)."""
    if channel not in Channel.values:
        raise NotificationRefused(f"Unknown channel '{channel}'; use email or sms.")
    row, claimed = _claim(order=order, channel=channel, template=template, key=key)
    if not claimed:
        return row
    try:
        rendered = _render(row, order, message, custom_fields, lines, eta_window)
        provider, provider_id = _deliver(row, rendered)
    except NotificationRefused as exc:
        _finish(row, MessageStatus.REFUSED, error=exc.detail)
        raise
    except ProviderUnavailable as exc:
        _finish(row, MessageStatus.FAILED, error=str(exc))
        raise
    return _sent(row, order, rendered, provider, provider_id, trigger, eta_window)


def _claim(*, order, channel: str, template: str, key: str) -> tuple[NotificationMessage, bool]:
    """The key's row and whether this call may send it (compare-and-set on its status)."""
    now = timezone.now()
    row, created = NotificationMessage.objects.get_or_create(
        key=key,
        defaults={
            "order": order,
            "channel": channel,
            "template_code": template,
            "status": MessageStatus.SENDING,
            "test_mode": not order.live_mode,
            "claimed_at": now,
            "attempts": 1,
        },
    )
    if created:
        return row, True
    if row.order_id != order.id or row.channel != channel:
        raise NotificationRefused(f"The key '{key}' was used for another notification.")
    claimable = Q(status__in=RETRYABLE) | Q(
        status=MessageStatus.SENDING, claimed_at__lt=now - CLAIM_LEASE
    )
    taken = NotificationMessage.objects.filter(claimable, id=row.id).update(
        status=MessageStatus.SENDING, claimed_at=now, attempts=row.attempts + 1, error=""
    )
    row.refresh_from_db()
    return row, bool(taken)


def _finish(row: NotificationMessage, status: str, *, error: str = "") -> None:
    row.status, row.error = status, error[:2000]
    row.save(
        update_fields=[
            "status",
            "error",
            "to",
            "from_address",
            "subject",
            "body",
            "html_body",
            "template",
            "provider",
        ]
    )


def _render(row, order, message, custom_fields, lines, eta_window) -> Rendered:
    """Find the template, the receiver's address (refused when opted out) and render."""
    template = selectors.template_for(
        shipper=order.shipper, code=row.template_code, channel=row.channel
    )
    if template is None or not template.active:
        raise NotificationRefused(
            f"No active {row.channel} template '{row.template_code}' for this shipper."
        )
    row.template = template
    row.to = _receiver_address(order, row.channel)
    try:
        tags = merge_tags(
            order=order,
            order_lines=list(order.lines.all()),
            tracking_url=tracking_url(order),
            message=message,
            custom_fields=custom_fields,
            lines=lines,
            eta_window=eta_window,
        )
        text = template_render("text_body", template.text_body, tags)
        if row.channel == Channel.SMS:
            subject, html = "", ""
        else:
            subject = " ".join(template_render("subject", template.subject, tags).split())
            html = template_render("html_body", template.html_body, tags, html=True)
    except TemplateProblem as exc:
        raise NotificationRefused(
            f"Template '{template.code}' {exc.field}: {exc.message}", code="bad_merge_tag"
        ) from None
    except UnknownLine as exc:
        raise NotificationRefused(str(exc)) from None
    sender = settings.NOTIFICATION_EMAIL_FROM if row.channel == Channel.EMAIL else settings.SMS_FROM
    row.from_address, row.subject, row.body, row.html_body = sender, subject, text, html
    return Rendered(template, row.to, sender, subject, text, html)


def _receiver_address(order, channel: str) -> str:
    contact = order.delivery_contact or {}
    raw = contact.get("email") if channel == Channel.EMAIL else receiver_phone(contact)
    address = address_normalise(channel, str(raw or ""))
    if not address or (channel == Channel.EMAIL and "@" not in address):
        kind = "email address" if channel == Channel.EMAIL else "phone number"
        raise NotificationRefused(f"The order's receiver has no {kind}.")
    opted_out = ReceiverOptOut.objects.filter(
        shipper_id=order.shipper_id, channel=channel, address=address
    ).exists()
    if opted_out:
        raise NotificationRefused(
            f"The receiver opted out of {channel} notifications.", code="opted_out"
        )
    return address


def _deliver(row: NotificationMessage, rendered: Rendered) -> tuple[str, str]:
    """Hand the message to its backend or provider: (provider name, provider's id)."""
    if row.channel == Channel.SMS:
        provider = sms_provider(test_mode=row.test_mode)
        row.provider = provider.name
        provider_id = provider.send(
            to=rendered.to, sender=rendered.sender, text=rendered.text, reference=row.key
        )
        return provider.name, provider_id
    return _email_send(row, rendered)


def _email_send(row: NotificationMessage, rendered: Rendered) -> tuple[str, str]:
    if row.test_mode:
        backend = FILE_EMAIL_BACKEND
        connection = get_connection(backend, file_path=str(settings.EMAIL_FILE_PATH))
    else:
        backend = settings.EMAIL_BACKEND
        connection = get_connection()
    row.provider = backend.rsplit(".", 2)[-2][:50]
    message_id = make_msgid(domain="waybill")
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=rendered.sender,
        to=[rendered.to],
        headers={"Message-ID": message_id, "X-Waybill-Key": row.key},
        connection=connection,
    )
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise NotificationRefused(f"The mail server refused the address: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ProviderUnavailable(f"The mail server failed: {exc}") from exc
    return row.provider, message_id


def _sent(row, order, rendered, provider, provider_id, trigger, eta_window):
    """Mark the row sent and, for an SMS, tell the shipper's subscribers, together."""
    row.status, row.provider, row.provider_id = MessageStatus.SENT, provider, provider_id[:200]
    row.trigger = trigger or rendered.template.trigger_event
    row.sent_at, row.error = timezone.now(), ""
    if eta_window:
        row.eta_from, row.eta_to = eta_window
    row.update_delivery_promise = bool(
        eta_window and row.trigger == SCHEDULE_TRIGGER and rendered.template.update_delivery_promise
    )
    with transaction.atomic():
        row.save()
        if row.channel == Channel.SMS:
            event_append(
                type=EventName.NOTIFICATION_ORDER_SMS_SENT,
                **order_event_target(order),
                order=order,
                message=row,
                template=rendered.template,
                time_of_event=row.sent_at,
            )
    return row


# --- seed 004's schedule trigger: the ETA window SMS ---------------------------------------


def order_eta_notify(*, order_id, eta_from: datetime, eta_to: datetime | None = None):
    """Send the order's receiver the ETA window (ETA minus and plus the template's padding)
    when an active SMS template with trigger ``OrderScheduleTrigger`` exists for its shipper
    (or globally); once per order, template and ETA. None when nothing is sent."""
    order = selectors.order_for_notification(order_id)
    if order is None:
        return None
    template = selectors.schedule_template_for(shipper=order.shipper)
    if template is None:
        return None
    window = (
        eta_from - timedelta(seconds=template.time_subtracted_from_estimate),
        (eta_to or eta_from) + timedelta(seconds=template.time_added_to_estimate),
    )
    key = f"eta:{order.id}:{template.id}:{eta_from.isoformat()}:{(eta_to or eta_from).isoformat()}"
    try:
        return notification_send(
            order=order,
            channel=Channel.SMS,
            template=template.code,
            key=key,
            trigger=SCHEDULE_TRIGGER,
            eta_window=window,
        )
    except NotificationRefused:
        return None  # kept in the log as refused


def order_etas_changed(*, etas: list[tuple]) -> None:
    """Record, in the caller's transaction, that each ``(order id, eta from, eta to)`` asks
    for the ETA window SMS, and queue it once that commits; nothing is recorded while no
    active schedule template exists (one query, and none without an ETA)."""
    etas = [(order_id, start, end) for order_id, start, end in etas if start is not None]
    if not etas or not selectors.schedule_templates_exist():
        return
    now = timezone.now()
    notices = EtaNotice.objects.bulk_create(
        [EtaNotice(order_id=o, eta_from=start, eta_to=end, queued_at=now) for o, start, end in etas]
    )
    ids = [notice.id for notice in notices]
    transaction.on_commit(lambda: _eta_notices_queue(ids))


def _eta_notices_queue(notice_ids: list) -> None:
    from notifications.tasks import eta_notice_handle

    for notice_id in notice_ids:
        enqueue_row(eta_notice_handle, EtaNotice, notice_id)


def eta_notice_handle(*, notice_id) -> NotificationMessage | None:
    """Send the window SMS an ``EtaNotice`` asks for and mark it done (a provider that is
    down raises ProviderUnavailable and leaves it to its retries and the sweeper)."""
    notice = EtaNotice.objects.filter(id=notice_id, done_at__isnull=True).first()
    if notice is None:
        return None
    message = order_eta_notify(
        order_id=notice.order_id, eta_from=notice.eta_from, eta_to=notice.eta_to
    )
    EtaNotice.objects.filter(id=notice.id).update(done_at=timezone.now())
    return message


def eta_notices_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue the ETA notices whose task is lost: never queued (the broker refused it) or
    queued longer ago than ``ETA_NOTICE_QUEUE_LEASE``. Returns how many were queued."""
    now = now or timezone.now()
    pending = EtaNotice.objects.filter(done_at__isnull=True)
    lost = [
        pending.filter(queued_at__isnull=True).order_by("id"),
        pending.filter(queued_at__lt=now - settings.ETA_NOTICE_QUEUE_LEASE).order_by("queued_at"),
    ]
    with transaction.atomic():
        ids = rows_take(lost, limit=limit, stamp={"queued_at": now})
        transaction.on_commit(lambda: _eta_notices_queue(ids))
    return len(ids)


# --- the admin's preview and checks -------------------------------------------------------


@dataclass
class Preview:
    """A template rendered for an order, as its receiver would get it (nothing is sent)."""

    subject: str = ""
    text: str = ""
    html: str = ""
    problems: list[TemplateProblem] | None = None


def notification_preview(*, template: NotificationTemplate, order) -> Preview:
    """``template`` rendered for ``order`` (an ETA window of the next hour when the template
    is the schedule trigger's); what does not render is listed in ``problems``."""
    eta_window = None
    if template.trigger_event == SCHEDULE_TRIGGER:
        now = timezone.now()
        eta_window = (
            now - timedelta(seconds=template.time_subtracted_from_estimate),
            now + timedelta(seconds=template.time_added_to_estimate),
        )
    tags = merge_tags(
        order=order,
        order_lines=list(order.lines.all()) if order.pk else [],
        tracking_url=tracking_url(order),
        message="(the event's message)",
        eta_window=eta_window,
    )
    preview, problems = Preview(), []
    fields = [("text_body", "text", False)]
    if template.channel == Channel.EMAIL:
        fields += [("subject", "subject", False), ("html_body", "html", True)]
    for field, attribute, html in fields:
        try:
            rendered = template_render(field, getattr(template, field), tags, html=html)
            setattr(preview, attribute, rendered)
        except TemplateProblem as exc:
            problems.append(exc)
    preview.problems = problems
    return preview


def template_problems(template: NotificationTemplate) -> list[TemplateProblem]:
    """What is wrong with a template before it is saved: its syntax, an unknown merge tag
    (rendered for a sample order), the fields its channel takes."""
    from accounts.models import Shipper
    from orders.models import Order

    problems = []
    if template.channel == Channel.SMS:
        problems += [
            TemplateProblem(field, "An SMS has no subject or HTML body.")
            for field in ("subject", "html_body")
            if getattr(template, field).strip()
        ]
    elif not template.subject.strip():
        problems.append(TemplateProblem("subject", "An email needs a subject."))
    sample = Order(shipper=Shipper(name="Sample shipper"), live_mode=False, creator_order_id="S-1")
    return problems + (notification_preview(template=template, order=sample).problems or [])
