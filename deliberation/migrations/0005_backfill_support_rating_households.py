"""Give each existing support and rating its household, one a household, deleting nothing.

Before 0003 a support or rating was one a user. For each topic, the earliest row of each
household gets the household; a later row of the same household, or the row of a user with no
household in the topic's compound, keeps household NULL: it stays and still counts (it was
valid when given), and the new rule (one a household) holds for every row written from now on.
Reversing clears the column.
"""

from __future__ import annotations

from django.db import migrations


def _backfill(apps, schema_editor, model_name):
    Model = apps.get_model("deliberation", model_name)
    Resident = apps.get_model("residents", "Resident")
    rows = list(Model.objects.filter(household__isnull=True)
                .values("id", "topic_id", "topic__compound_id", "user_id")
                .order_by("topic_id", "created_at", "id"))
    households = {}
    for resident in (Resident.objects.filter(user_id__in={row["user_id"] for row in rows})
                     .values("user_id", "household_id", "household__building__compound_id")
                     .order_by("id")):
        households.setdefault(
            (resident["user_id"], resident["household__building__compound_id"]),
            resident["household_id"])
    taken = set(Model.objects.filter(household__isnull=False)
                .values_list("topic_id", "household_id"))
    for row in rows:
        household_id = households.get((row["user_id"], row["topic__compound_id"]))
        if household_id is None or (row["topic_id"], household_id) in taken:
            continue
        taken.add((row["topic_id"], household_id))
        Model.objects.filter(pk=row["id"]).update(household_id=household_id)


def forwards(apps, schema_editor):
    _backfill(apps, schema_editor, "TopicSupport")
    _backfill(apps, schema_editor, "TopicRating")


def backwards(apps, schema_editor):
    for model_name in ("TopicSupport", "TopicRating"):
        apps.get_model("deliberation", model_name).objects.update(household=None)


class Migration(migrations.Migration):

    dependencies = [
        ("deliberation", "0004_resident_participation"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
