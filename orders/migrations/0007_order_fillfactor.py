"""Room on each page for an order's new versions: a status move then rewrites the row in
place (a HOT update) instead of adding an entry to each of the order's nine indexes."""

from django.db import migrations

FILLFACTOR = 75


def fillfactor(apps, schema_editor, value):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite has no such setting
    table = schema_editor.quote_name("orders_order")
    schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {value})")


class Migration(migrations.Migration):
    dependencies = [("orders", "0006_order_needs_geocoding")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: fillfactor(apps, editor, FILLFACTOR),
            lambda apps, editor: fillfactor(apps, editor, 100),
        )
    ]
