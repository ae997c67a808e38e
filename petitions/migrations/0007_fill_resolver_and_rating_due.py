"""Rows from before 0004: fill the resolver and the rating window. Apart from 0004, since
PostgreSQL refuses to add 0004's index in a transaction that has just updated the table."""

import datetime

from django.db import migrations
from django.db.models import F, OuterRef, Subquery


def fill_resolver_and_rating_due(apps, schema_editor):
    """Rows from before: the resolver from the latest resolved event, and a 7-day window from
    verification (the default), so a petition verified earlier waits as a new one would."""
    Petition = apps.get_model("petitions", "Petition")
    PetitionEvent = apps.get_model("petitions", "PetitionEvent")
    latest_resolver = (PetitionEvent.objects.filter(petition=OuterRef("pk"), kind="resolved")
                       .order_by("-created_at", "-id").values("actor")[:1])
    Petition.objects.filter(resolved_at__isnull=False).update(
        resolved_by=Subquery(latest_resolver))
    Petition.objects.filter(verified_at__isnull=False).update(
        rating_due_at=F("verified_at") + datetime.timedelta(days=7))


class Migration(migrations.Migration):

    dependencies = [
        ("petitions", "0006_rating_window_and_resolver"),
    ]

    operations = [
        migrations.RunPython(fill_resolver_and_rating_due, migrations.RunPython.noop),
    ]
