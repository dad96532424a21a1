import secrets

from django.db import migrations, models

import orders.models


def tokens_fill(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    for order in Order.objects.filter(tracking_token__isnull=True).only("id").iterator():
        Order.objects.filter(id=order.id).update(tracking_token=secrets.token_urlsafe(32))


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_planning_and_pos_fetch_queued_at")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="tracking_token",
            field=models.CharField(max_length=43, null=True),
        ),
        migrations.RunPython(tokens_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="order",
            name="tracking_token",
            field=models.CharField(
                default=orders.models.tracking_token_new, max_length=43, unique=True
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="geo_location_failed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="order",
            name="status",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("unplanned", "Unplanned"),
                    ("planned", "Planned"),
                    ("on_route", "On route"),
                    ("picked_up", "Picked up"),
                    ("partially_delivered", "Partially delivered"),
                    ("delivered", "Delivered"),
                    ("delivery_failed", "Delivery failed"),
                    ("returned", "Returned"),
                    ("cancelled", "Cancelled"),
                ],
                default="created",
                max_length=20,
            ),
        ),
    ]
