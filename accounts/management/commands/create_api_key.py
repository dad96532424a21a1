from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiKeyMode
from accounts.services import api_key_create, carrier_get_or_create, shipper_get_or_create


class Command(BaseCommand):
    help = "Issue an API key for a shipper or carrier (created if missing); the key prints last."

    def add_arguments(self, parser):
        tenant = parser.add_mutually_exclusive_group(required=True)
        tenant.add_argument("--shipper", metavar="SLUG")
        tenant.add_argument("--carrier", metavar="SLUG")
        parser.add_argument(
            "--mode", choices=[m.value for m in ApiKeyMode], default=ApiKeyMode.TEST
        )
        parser.add_argument("--name", default="created with manage.py create_api_key")

    def handle(self, *args, shipper=None, carrier=None, mode, name, **options):
        if shipper:
            tenant = shipper_get_or_create(slug=shipper)
            issued = api_key_create(shipper=tenant, mode=mode, name=name)
        elif carrier:
            tenant = carrier_get_or_create(slug=carrier)
            issued = api_key_create(carrier=tenant, mode=mode, name=name)
        else:
            raise CommandError("Name --shipper or --carrier.")
        self.stdout.write(f"{mode} key for {tenant} ({tenant.slug}); it is shown only now:")
        self.stdout.write(issued.raw_key)
