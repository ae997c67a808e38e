"""Who reads a petition's notes (issue 13): the notes of staff-only actions become internal, as
they are now written (petitions.models.INTERNAL_KINDS), so residents stop reading the staff's
wording on rows written before (a return's reason, a dispatch note). The steps stay on their
timeline. The sweep's escalations (no actor) keep their notice for everyone."""

from django.db import migrations, models

# petitions.models.INTERNAL_KINDS when this was written (a migration keeps its own copy).
INTERNAL_KINDS = ["triaged", "dispatched", "placed", "checked_in", "arrival_missed",
                  "verify_failed", "verified", "returned", "rerouted", "escalated", "referred"]


def hide_staff_notes(apps, schema_editor):
    PetitionEvent = apps.get_model("petitions", "PetitionEvent")
    (PetitionEvent.objects.filter(kind__in=INTERNAL_KINDS, is_internal=False)
     .exclude(kind="escalated", actor__isnull=True).update(is_internal=True))


class Migration(migrations.Migration):

    dependencies = [
        ("petitions", "0011_petition_callback"),
    ]

    operations = [
        migrations.AlterField(
            model_name="petitionevent",
            name="is_internal",
            field=models.BooleanField(default=False, help_text="说明和照片仅工作人员可见；居民和外部系统只看到这一步（办理记录则整条不可见）。", verbose_name="仅内部可见"),
        ),
        migrations.RunPython(hide_staff_notes, migrations.RunPython.noop),
    ]
