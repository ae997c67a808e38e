"""Encrypt the ID numbers already stored and fill their digests (reversible)."""

from django.db import migrations

from core.crypto import table_encrypt


def encrypt_rows(apps, schema_editor):
    table_encrypt(schema_editor.connection, table="residents_resident", columns=["id_number"],
                  digests={"id_number_digest": "id_number"})


def decrypt_rows(apps, schema_editor):
    table_encrypt(schema_editor.connection, table="residents_resident", columns=["id_number"],
                  digests={"id_number_digest": "id_number"}, decrypting=True)


class Migration(migrations.Migration):

    dependencies = [
        ("residents", "0002_id_number_encrypted"),
    ]

    operations = [
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=True),
    ]
