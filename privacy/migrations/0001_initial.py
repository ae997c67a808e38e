import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Takes over DeletionRequest and its table from accounts (accounts/migrations/0005 created
    the table, 0007 lets go of the model): state only, so a database that already has the
    table, and one migrated from zero, end the same."""

    initial = True

    dependencies = [
        ('accounts', '0005_deletion_request'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DeletionRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='创建时间')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                        ('status', models.CharField(choices=[('pending', '待审核'), ('approved', '已注销'), ('rejected', '未通过'), ('cancelled', '已撤回')], db_index=True, default='pending', max_length=10, verbose_name='状态')),
                        ('reason', models.CharField(blank=True, max_length=200, verbose_name='原因')),
                        ('household_path', models.CharField(blank=True, db_index=True, max_length=255, verbose_name='区域路径')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='审核时间')),
                        ('decision_note', models.CharField(blank=True, max_length=200, verbose_name='审核意见')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='审核人')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='deletion_requests', to=settings.AUTH_USER_MODEL, verbose_name='账户')),
                    ],
                    options={
                        'db_table': 'accounts_deletionrequest',
                        'verbose_name': '注销申请',
                        'verbose_name_plural': '注销申请',
                        'ordering': ['-created_at', '-id'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('user',), name='deletion_request_one_pending')],
                    },
                ),
            ],
        ),
    ]
