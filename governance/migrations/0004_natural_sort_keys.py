"""Natural sort keys for building and unit numbers ("2" before "10"), filled for existing rows."""

from django.db import migrations

import core.fields
from core.fields import natural_sort_key


def fill_keys(model, source: str, key: str) -> None:
    """One UPDATE per distinct number: a street has a few dozen, whatever its row count."""
    values = model.objects.order_by().values_list(source, flat=True).distinct()
    for value in list(values):
        model.objects.filter(**{source: value}).update(**{key: natural_sort_key(value)})


def fill(apps, schema_editor):
    for name in ("Building", "Unit"):
        fill_keys(apps.get_model("governance", name), "number", "number_sort")


class Migration(migrations.Migration):

    dependencies = [
        ("governance", "0003_placement_coordinates_aliases_boundary"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="building",
            options={"ordering": ["compound_id", "number_sort", "number"], "verbose_name": "楼栋",
                     "verbose_name_plural": "楼栋"},
        ),
        migrations.AlterModelOptions(
            name="unit",
            options={"ordering": ["building_id", "number_sort", "number"], "verbose_name": "单元",
                     "verbose_name_plural": "单元"},
        ),
        migrations.AddField(
            model_name="building",
            name="number_sort",
            field=core.fields.NaturalSortKeyField(source="number"),
        ),
        migrations.AddField(
            model_name="unit",
            name="number_sort",
            field=core.fields.NaturalSortKeyField(source="number"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
