"""Sending SMS: one interface, two providers.

- ``FileSmsProvider`` appends each SMS as a JSON line to ``SMS_FILE_PATH/sms.jsonl`` (under
  ``var/``): the demo's, and every test-mode order's whatever the settings say.
- ``TwilioSmsProvider`` posts to Twilio's Messages API (a form POST with basic auth,
  ``{TWILIO_API_URL}/2010-04-01/Accounts/{sid}/Messages.json``) through the outbound guard
  (``config.outbound``).

A provider that is down or failing (a 5xx, a 429, a timeout, no connection) raises
``ProviderUnavailable`` (retry later); one that refuses the message itself (another 4xx)
raises ``NotificationRefused``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Protocol

import requests
from django.conf import settings
from django.utils import timezone

from config.outbound import UnsafeTarget, outbound_session
from notifications.errors import NotificationRefused, ProviderUnavailable


class SmsProvider(Protocol):
    name: str

    def send(self, *, to: str, sender: str, text: str, reference: str) -> str:
        """Send one SMS; the provider's id of it."""


class FileSmsProvider:
    name = "file"

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, *, to: str, sender: str, text: str, reference: str) -> str:
        provider_id = f"file-{uuid.uuid4()}"
        line = {
            "id": provider_id,
            "reference": reference,
            "from": sender,
            "to": to,
            "text": text,
            "at": timezone.now().isoformat(),
        }
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with (self.path / "sms.jsonl").open("a", encoding="utf-8") as file:
                file.write(json.dumps(line, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise ProviderUnavailable(f"Could not write the SMS file: {exc}") from exc
        return provider_id


class TwilioSmsProvider:
    name = "twilio"

    def __init__(self) -> None:
        self.url = (
            f"{settings.TWILIO_API_URL.rstrip('/')}/2010-04-01/Accounts/"
            f"{settings.TWILIO_ACCOUNT_SID}/Messages.json"
        )
        self.auth = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)

    def send(self, *, to: str, sender: str, text: str, reference: str) -> str:
        try:
            response = outbound_session().post(
                self.url,
                data={"To": to, "From": sender, "Body": text},
                auth=self.auth,
                timeout=settings.SMS_TIMEOUT_S,
            )
        except UnsafeTarget as exc:
            raise NotificationRefused(f"The SMS provider's URL is refused: {exc}") from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"The SMS provider did not answer: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnavailable(f"The SMS provider answered {response.status_code}.")
        if response.status_code >= 400:
            raise NotificationRefused(
                f"The SMS provider refused the message ({response.status_code}): "
                f"{_provider_message(response)}"
            )
        try:
            return str(response.json().get("sid") or "")
        except (ValueError, AttributeError):
            return ""


def _provider_message(response: requests.Response) -> str:
    try:
        return str(response.json().get("message") or "")[:300]
    except (ValueError, AttributeError):
        return response.text[:300]


PROVIDERS = {"file": FileSmsProvider, "twilio": TwilioSmsProvider}


def sms_provider(*, test_mode: bool) -> SmsProvider:
    """The provider of ``settings.SMS_PROVIDER``; the file provider for a test-mode order."""
    if test_mode:
        return FileSmsProvider()
    return PROVIDERS[settings.SMS_PROVIDER]()
