"""The embedded broker: kombu's filesystem transport, made safe to read while others write.

kombu writes a message file in place, so a worker listing the folder can open one that is
half written, fail to decode it and stop ("Unrecoverable error: JSONDecodeError"). Here a
message is written under ``staging/`` and renamed into the queue folder, which is atomic on
one filesystem: a reader sees a whole message or none. A file that still cannot be decoded
(written by something else, truncated by a full disk) is set aside under ``rejected/`` and
logged instead of ending the worker; the stored rows and their sweepers redo its work.

Registered as the ``waybillfs://`` transport (see ``config/celery_app.py``).
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    @property
    def _broker_folder(self) -> Path:
        return Path(self.data_folder_out).parent

    def _put(self, queue, payload, **kwargs) -> None:
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        staging = self._broker_folder / "staging"
        staging.mkdir(exist_ok=True)
        staged = staging / name
        try:
            with open(staged, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(staged, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            staged.unlink(missing_ok=True)
            raise filesystem.ChannelError(f"Cannot add message {name!r} to the queue") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            path = os.path.join(self.data_folder_in, name)
            try:
                with open(path, "rb") as f:
                    raw = f.read()
                # Whoever removes the file owns the message; a competing worker moves on.
                os.remove(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise filesystem.ChannelError(f"Cannot read message {name!r}") from exc
            try:
                return loads(bytes_to_str(raw))
            except (ValueError, UnicodeDecodeError) as exc:
                self._reject(name, raw, exc)
        raise Empty()

    def _reject(self, name: str, raw: bytes, exc: Exception) -> None:
        rejected = self._broker_folder / "rejected"
        rejected.mkdir(exist_ok=True)
        (rejected / name).write_bytes(raw)
        logger.error(
            "Set aside an unreadable broker message %s (%d bytes): %s; its work is redone "
            "by the sweepers.",
            rejected / name,
            len(raw),
            exc,
        )


class Transport(filesystem.Transport):
    Channel = Channel
    driver_type = "waybillfs"
    driver_name = "waybillfs"
