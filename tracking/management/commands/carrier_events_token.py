"""Issue (or revoke) the token a carrier's platform posts events with: ``?token=…``."""

from django.core.management.base import BaseCommand, CommandError

from carriers.models import Carrier
from tracking.models import CarrierEventsToken
from tracking.services import carrier_events_token_issue, carrier_events_token_revoke


class Command(BaseCommand):
    help = (
        "Issue a carrier events token (shown once) for POST /api/v1/carrier/events?token=…, "
        "or revoke one by its prefix."
    )

    def add_arguments(self, parser):
        parser.add_argument("carrier", help="The carrier's slug.")
        parser.add_argument("--live", action="store_true", help="A live-mode token.")
        parser.add_argument("--revoke", metavar="PREFIX", help="Revoke the token with this prefix.")

    def handle(self, *args, carrier: str, live: bool, revoke: str | None, **options):
        found = Carrier.objects.filter(slug=carrier).first()
        if found is None:
            raise CommandError(f"No carrier '{carrier}'.")
        if revoke:
            token = CarrierEventsToken.objects.filter(carrier=found, prefix=revoke).first()
            if token is None:
                raise CommandError(f"{found} has no token {revoke}….")
            carrier_events_token_revoke(token=token)
            self.stdout.write(f"Revoked {token.prefix}… of {found}.")
            return
        token, plain = carrier_events_token_issue(carrier=found, live_mode=live)
        mode = "live" if live else "test"
        self.stdout.write(f"Events token for {found} ({mode}), shown once:\n{plain}")
