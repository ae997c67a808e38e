"""黄牌/红牌 (CardRule, PetitionCard, the card columns) and 延期 (PetitionExtension).

Seeds one default card rule per step and tier, and leaves only open petitions for the card
sweep to look at (a finished one has no clock to watch)."""

import django.db.models.deletion
import django.db.models.functions.datetime
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


OPEN_STATES = ["dispatched", "on_site", "reopened", "returned", "submitted"]
# (step, tier, yellow unit, yellow before, red unit, red after)
DEFAULT_RULES = [
    ("arrival", "microgrid", "percent", 20, "hours", 1),
    ("arrival", "grid", "percent", 20, "hours", 1),
    ("arrival", "street", "percent", 20, "hours", 1),
    ("resolve", "microgrid", "percent", 20, "hours", 4),
    ("resolve", "grid", "percent", 20, "days", 1),
    ("resolve", "street", "percent", 20, "hours", 0),
]


def seed(apps, schema_editor):
    CardRule = apps.get_model("petitions", "CardRule")
    Petition = apps.get_model("petitions", "Petition")
    CardRule.objects.bulk_create([
        CardRule(step=step, tier=tier, yellow_unit=yellow_unit, yellow_before=yellow_before,
                 red_unit=red_unit, red_after=red_after)
        for step, tier, yellow_unit, yellow_before, red_unit, red_after in DEFAULT_RULES])
    Petition.objects.exclude(state__in=OPEN_STATES).update(card_check_at=None)


def unseed(apps, schema_editor):
    apps.get_model("petitions", "CardRule").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('petitions', '0019_cohandling'),
        ('residents', '0006_party_member_public_consent'),
        ('territory', '0002_outlines'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CardRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('step', models.CharField(choices=[('arrival', '到场'), ('resolve', '办结')], max_length=12, verbose_name='环节')),
                ('tier', models.CharField(choices=[('microgrid', '微网格'), ('grid', '网格'), ('street', '街道')], max_length=12, verbose_name='办理层级')),
                ('yellow_unit', models.CharField(choices=[('percent', '时限的百分比'), ('hours', '小时'), ('days', '天（按时限规则的计算方式）')], default='percent', max_length=8, verbose_name='黄牌单位')),
                ('yellow_before', models.PositiveIntegerField(default=20, help_text='时限前多少亮黄牌，如 20（%）、4（小时）、1（天）；0 表示不亮黄牌。', verbose_name='黄牌提前量')),
                ('red_unit', models.CharField(choices=[('percent', '时限的百分比'), ('hours', '小时'), ('days', '天（按时限规则的计算方式）')], default='hours', max_length=8, verbose_name='红牌单位')),
                ('red_after', models.PositiveIntegerField(default=0, help_text='超过时限多少后亮红牌并列入督办；0 表示到时即亮。', verbose_name='红牌延后量')),
                ('is_active', models.BooleanField(default=True, verbose_name='启用')),
            ],
            options={
                'verbose_name': '黄牌红牌规则',
                'verbose_name_plural': '黄牌红牌规则',
                'ordering': ['step', 'tier', 'category_id', 'id'],
            },
        ),
        migrations.CreateModel(
            name='PetitionCard',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('step', models.CharField(choices=[('arrival', '到场'), ('resolve', '办结')], max_length=12, verbose_name='环节')),
                ('tier', models.CharField(choices=[('microgrid', '微网格'), ('grid', '网格'), ('street', '街道')], max_length=12, verbose_name='办理层级')),
                ('color', models.CharField(choices=[('yellow', '黄牌'), ('red', '红牌')], max_length=8, verbose_name='颜色')),
                ('deadline', models.DateTimeField(verbose_name='对应时限')),
                ('area_path', models.CharField(db_index=True, max_length=255, verbose_name='承办区域路径')),
                ('is_estimated', models.BooleanField(default=False, verbose_name='按周一至周五估算')),
                ('issued_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='亮牌时间')),
            ],
            options={
                'verbose_name': '黄牌红牌',
                'verbose_name_plural': '黄牌红牌',
                'ordering': ['-issued_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='PetitionExtension',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tier', models.CharField(choices=[('microgrid', '微网格'), ('grid', '网格'), ('street', '街道')], max_length=12, verbose_name='办理层级')),
                ('round', models.PositiveSmallIntegerField(default=0, verbose_name='办理轮次')),
                ('days_requested', models.PositiveSmallIntegerField(verbose_name='申请天数')),
                ('reason', models.CharField(max_length=500, verbose_name='申请理由')),
                ('status', models.CharField(choices=[('pending', '待审批'), ('granted', '已批准'), ('refused', '已驳回')], db_index=True, default='pending', max_length=10, verbose_name='审批状态')),
                ('days_granted', models.PositiveSmallIntegerField(default=0, verbose_name='批准天数')),
                ('requested_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='申请时间')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='审批时间')),
                ('decision_note', models.CharField(blank=True, max_length=500, verbose_name='审批意见')),
                ('due_before', models.DateTimeField(verbose_name='原时限')),
                ('due_after', models.DateTimeField(blank=True, null=True, verbose_name='延期后时限')),
                ('grid_path', models.CharField(db_index=True, max_length=255, verbose_name='所在网格路径')),
            ],
            options={
                'verbose_name': '延期申请',
                'verbose_name_plural': '延期申请',
                'ordering': ['-requested_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='petition',
            name='card_check_at',
            field=models.DateTimeField(blank=True, db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now, null=True, verbose_name='亮牌检查时间'),
        ),
        migrations.AddField(
            model_name='petition',
            name='red_card_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='红牌时间'),
        ),
        migrations.AddField(
            model_name='petition',
            name='yellow_card_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='黄牌时间'),
        ),
        migrations.AlterField(
            model_name='petitionevent',
            name='kind',
            field=models.CharField(choices=[('submitted', '提交受理'), ('triaged', '分级'), ('dispatched', '派单'), ('placed', '人工定位'), ('checked_in', '到场'), ('arrival_missed', '超时未到场'), ('note', '办理记录'), ('resolved', '办结'), ('verify_failed', '核实未通过'), ('verified', '核实'), ('rated', '评价'), ('reopened', '重办'), ('returned', '退回'), ('rerouted', '改派'), ('rejected', '不予受理'), ('escalated', '升级'), ('supervised', '督办'), ('referred', '转议事'), ('closed', '关闭'), ('yellow_card', '黄牌预警'), ('red_card', '红牌督办'), ('ext_requested', '申请延期'), ('ext_granted', '批准延期'), ('ext_refused', '驳回延期')], max_length=16, verbose_name='类型'),
        ),
        migrations.AddIndex(
            model_name='petition',
            index=models.Index(condition=models.Q(('card_check_at__isnull', False)), fields=['card_check_at'], name='petition_card_check_idx'),
        ),
        migrations.AddField(
            model_name='cardrule',
            name='category',
            field=models.ForeignKey(blank=True, help_text='留空为该层级的默认规则。', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='card_rules', to='petitions.category', verbose_name='分类'),
        ),
        migrations.AddField(
            model_name='petitioncard',
            name='holder',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='承办人'),
        ),
        migrations.AddField(
            model_name='petitioncard',
            name='petition',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='cards', to='petitions.petition', verbose_name='诉求'),
        ),
        migrations.AddField(
            model_name='petitionextension',
            name='decided_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='审批人'),
        ),
        migrations.AddField(
            model_name='petitionextension',
            name='petition',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='extensions', to='petitions.petition', verbose_name='诉求'),
        ),
        migrations.AddField(
            model_name='petitionextension',
            name='requested_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='申请人'),
        ),
        migrations.AddConstraint(
            model_name='cardrule',
            constraint=models.UniqueConstraint(condition=models.Q(('category__isnull', False)), fields=('step', 'tier', 'category'), name='card_rule_unique_category'),
        ),
        migrations.AddConstraint(
            model_name='cardrule',
            constraint=models.UniqueConstraint(condition=models.Q(('category__isnull', True)), fields=('step', 'tier'), name='card_rule_unique_default'),
        ),
        migrations.AddConstraint(
            model_name='petitioncard',
            constraint=models.UniqueConstraint(fields=('petition', 'step', 'tier', 'color', 'deadline'), name='petition_card_once'),
        ),
        migrations.AddConstraint(
            model_name='petitionextension',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('petition',), name='petition_extension_one_pending'),
        ),
        migrations.AddConstraint(
            model_name='petitionextension',
            constraint=models.CheckConstraint(condition=models.Q(('days_granted__lte', models.F('days_requested'))), name='petition_extension_granted_le_requested'),
        ),
        migrations.RunPython(seed, unseed),
    ]
