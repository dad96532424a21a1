"""`make run`: prepare the database and demo data, then serve the portal with a real Celery
worker and beat beside it, until Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import ApiKeyMode, Shipper
from accounts.services import api_key_create
from config.queues import LONG_KINDS, SHORT_KINDS, queue_names

DEMO_ADMIN = ("admin", "admin")


class Command(BaseCommand):
    help = "Migrate, load demo data, and run web, Celery worker and beat together."

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Prepare only.")

    def handle(self, *args, addrport, no_serve, **options):
        call_command("migrate", verbosity=0)
        call_command("load_demo")
        self._ensure_admin()
        shipper = Shipper.objects.order_by("created_at").first()
        issued = api_key_create(shipper=shipper, mode=ApiKeyMode.TEST, name="make run")
        self.stdout.write(
            "\nWaybill is starting.\n"
            f"  Portal:   http://{addrport}/admin/  (login {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]})\n"
            f"  API docs: http://{addrport}/api/docs/\n"
            f"  Demo shipper '{shipper.slug}' test API key (shown once):\n"
            f"  {issued.raw_key}\n"
        )
        if no_serve:
            return
        self._serve(addrport)

    def _ensure_admin(self) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username=DEMO_ADMIN[0]).exists():
            user = user_model.objects.create_superuser(
                DEMO_ADMIN[0], "admin@localhost", DEMO_ADMIN[1]
            )
            user.groups.add(*Group.objects.filter(name__in=["dispatcher", "finance"]))

    def _serve(self, addrport: str) -> None:
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", addrport, "--noreload", "--insecure"],
            "worker": _worker(python, "short", SHORT_KINDS, concurrency=2),
            # A route optimisation runs for its whole time budget: on a worker of its own.
            "routing": _worker(python, "routing", LONG_KINDS, concurrency=1),
            "beat": [python, "-m", "celery", "-A", "config", "beat", "-l", "info"],
        }
        env = os.environ.copy()
        # The demo's emails and SMS link the receiver's tracking page on this server.
        env.setdefault("TRACKING_PAGE_BASE_URL", f"http://{addrport}")
        processes = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
        stop = False

        def _stop(*_):
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stop:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping.")
                        stop = True
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in processes.values():
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def _worker(python: str, name: str, kinds: tuple[str, ...], *, concurrency: int) -> list[str]:
    return [
        *(python, "-m", "celery", "-A", "config", "worker", "-l", "info"),
        *("-n", f"{name}@%h", "-Q", queue_names(kinds), "--concurrency", str(concurrency)),
    ]
