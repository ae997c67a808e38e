from django.db import migrations


class Migration(migrations.Migration):
    """DeletionRequest moved to the privacy app, which keeps its table: only the model state
    leaves accounts here (privacy/migrations/0001 takes it over), the database is untouched."""

    dependencies = [
        ('accounts', '0006_phone_ascii_digits'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='DeletionRequest')],
        ),
    ]
