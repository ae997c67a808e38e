"""Encrypt the care-file and visit notes already stored (reversible)."""

from django.db import migrations

from core.crypto import table_encrypt


def encrypt_rows(apps, schema_editor):
    connection = schema_editor.connection
    table_encrypt(connection, table="volunteers_carefile",
                  columns=["health_notes", "living_notes"])
    table_encrypt(connection, table="volunteers_carevisit", columns=["notes"])


def decrypt_rows(apps, schema_editor):
    connection = schema_editor.connection
    table_encrypt(connection, table="volunteers_carefile",
                  columns=["health_notes", "living_notes"], decrypting=True)
    table_encrypt(connection, table="volunteers_carevisit", columns=["notes"], decrypting=True)


class Migration(migrations.Migration):

    dependencies = [
        ("volunteers", "0002_care_notes_encrypted"),
    ]

    operations = [
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=True),
    ]
