"""The notifications admin: templates checked field by field on save, the live preview for
an order (text and HTML), the log read only; a dispatcher may edit templates."""

import pytest
from django.contrib.auth.models import Group, User

from notifications.models import NotificationMessage, NotificationTemplate
from notifications.services import notification_send

pytestmark = pytest.mark.django_db

ADD = "/admin/notifications/notificationtemplate/add/"


@pytest.fixture
def dispatcher(client):
    user = User.objects.create_user("dispatch", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="dispatcher"))
    client.force_login(user)
    return client


def _form(**overrides) -> dict:
    form = {
        "code": "shipped",
        "channel": "email",
        "name": "Shipped",
        "active": "on",
        "subject": "Order {{ order.reference }}",
        "text_body": "Hi {{ receiver.firstName }}",
        "html_body": "<p>Hi {{ receiver.firstName }}</p>",
        "trigger_event": "",
        "time_subtracted_from_estimate": "900",
        "time_added_to_estimate": "900",
        "schedule_id": "",
    }
    return {**form, **overrides}


def test_a_dispatcher_adds_a_template(dispatcher):
    response = dispatcher.post(ADD, _form())
    assert response.status_code == 302, response.content.decode()[:2000]
    assert NotificationTemplate.objects.get().code == "shipped"


@pytest.mark.parametrize(
    "overrides, field, says",
    [
        ({"text_body": "Hi {% if %}"}, "text_body", "if"),
        ({"html_body": "{{ receiver.frstName }}"}, "html_body", "receiver.frstName"),
        ({"subject": "{% load static %}"}, "subject", "'load'"),
        ({"subject": "{% include 'x.html' %}"}, "subject", "include"),
        ({"subject": ""}, "subject", "needs a subject"),
        ({"channel": "sms"}, "html_body", "An SMS has no"),
        ({"time_added_to_estimate": "-5"}, "time_added_to_estimate", "greater than"),
    ],
)
def test_a_bad_template_is_an_error_naming_its_field(dispatcher, overrides, field, says):
    response = dispatcher.post(ADD, _form(**overrides))
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert says in " ".join(errors[field])
    assert not NotificationTemplate.objects.exists()


def test_the_preview_renders_text_and_html_for_the_latest_order(dispatcher, order, email_template):
    email_template.html_body = "<p>Hi {{ receiver.firstName }}</p><script>x</script>"
    email_template.save()
    url = f"/admin/notifications/notificationtemplate/{email_template.id}/preview/"
    response = dispatcher.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Your order {order.creator_order_id} is on its way" in page
    assert "Hi Jane, order" in page  # the text part
    # The HTML part, escaped into a sandboxed frame: nothing of it runs in the admin.
    assert 'sandbox srcdoc="&lt;p&gt;Hi Jane&lt;/p&gt;&lt;script&gt;x&lt;/script&gt;"' in page
    assert "<script>x</script>" not in page
    assert not NotificationMessage.objects.exists()  # nothing was sent


def test_the_preview_takes_an_order_and_says_when_it_is_not_one(dispatcher, order, email_template):
    url = f"/admin/notifications/notificationtemplate/{email_template.id}/preview/"
    assert order.creator_order_id in dispatcher.get(url, {"order": str(order.id)}).content.decode()
    page = dispatcher.get(url, {"order": "nope"}).content.decode()
    assert "is not an order id" in page


def test_the_log_is_read_only(dispatcher, order, email_template):
    sent = notification_send(order=order, channel="email", template="order-shipped", key="k")
    change = dispatcher.get(f"/admin/notifications/notificationmessage/{sent.id}/change/")
    assert change.status_code == 200
    assert dispatcher.get("/admin/notifications/notificationmessage/add/").status_code == 403
    posted = dispatcher.post(
        f"/admin/notifications/notificationmessage/{sent.id}/change/", {"to": "x@y.z"}
    )
    assert posted.status_code == 403


def test_an_opt_out_is_added_in_the_admin(dispatcher, shipper_a):
    response = dispatcher.post(
        "/admin/notifications/receiveroptout/add/",
        {"shipper": str(shipper_a.id), "channel": "sms", "address": "+45 22 34 56 78"},
    )
    assert response.status_code == 302
    assert shipper_a.receiver_opt_outs.get().address == "+4522345678"
