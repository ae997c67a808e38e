"""The residents' evaluation window of a topic (评) and the offline evaluation record.

Topics already in 评 get the window they would have had: from their move to 评, at least
DELIBERATION_EVALUATION_DAYS (7), and not before their review date.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def open_windows(apps, schema_editor):
    topic_model = apps.get_model("deliberation", "Topic")
    change_model = apps.get_model("deliberation", "TopicStatusChange")
    days = int(getattr(settings, "DELIBERATION_EVALUATION_DAYS", 7))
    for topic in topic_model.objects.filter(status="evaluating", evaluation_ends_at__isnull=True):
        moved = (change_model.objects.filter(topic_id=topic.pk, new_status="evaluating")
                 .order_by("-at").values_list("at", flat=True).first()) or timezone.now()
        end = moved + timedelta(days=days)
        if topic.review_on is not None:
            end = max(end, timezone.make_aware(datetime.combine(topic.review_on, time.min)))
        topic_model.objects.filter(pk=topic.pk).update(evaluation_ends_at=end)


class Migration(migrations.Migration):

    dependencies = [
        ("deliberation", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="topic",
            name="evaluation_ends_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="评议截止"),
        ),
        migrations.AddField(
            model_name="topic",
            name="evaluation_note",
            field=models.TextField(blank=True,
                                   help_text="没有居民在线评议时，记录评议会或入户回访的人数和意见",
                                   verbose_name="线下评议记录"),
        ),
        migrations.RunPython(open_windows, migrations.RunPython.noop, elidable=True),
    ]
