"""The two ways a notification is not sent: refused (never retry) or the provider unavailable
(retry with the same key). ``notifications.services`` exports both."""

from config.errors import WaybillError


class NotificationRefused(WaybillError):
    """Not sent and not worth retrying: the receiver opted out, has no address or phone, the
    template is unknown or inactive, a merge tag is wrong, or the provider refused it."""

    status_code = 409
    code = "notification_refused"


class ProviderUnavailable(Exception):
    """The SMTP server or SMS provider failed or was down: retry later with the same key."""
