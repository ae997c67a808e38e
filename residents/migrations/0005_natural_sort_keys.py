"""A natural sort key for room numbers ("301" before "1201"), filled for existing rows."""

from django.db import migrations

import core.fields
from core.fields import natural_sort_key


def fill(apps, schema_editor):
    """One UPDATE per distinct room number: a few hundred, whatever the households' count."""
    household = apps.get_model("residents", "Household")
    rooms = household.objects.order_by().values_list("room", flat=True).distinct()
    for room in list(rooms):
        household.objects.filter(room=room).update(room_sort=natural_sort_key(room))


class Migration(migrations.Migration):

    dependencies = [
        ("residents", "0004_phone_ascii_digits"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="household",
            options={"ordering": ["building_id", "unit_id", "room_sort", "room"],
                     "verbose_name": "户", "verbose_name_plural": "户"},
        ),
        migrations.AddField(
            model_name="household",
            name="room_sort",
            field=core.fields.NaturalSortKeyField(source="room"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
