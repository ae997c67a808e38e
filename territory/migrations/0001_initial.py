# The territory's models, moved from governance: their tables keep the governance_* names.

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

import core.fields


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='Area',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('path', models.CharField(max_length=255, unique=True)),
                ('depth', models.PositiveIntegerField()),
                ('numchild', models.PositiveIntegerField(default=0)),
                ('name', models.CharField(max_length=100, verbose_name='名称')),
                ('kind', models.CharField(choices=[('street', '街道'), ('community', '社区'), ('grid', '网格'), ('microgrid', '微网格')], db_index=True, max_length=12, verbose_name='类型')),
                ('code', models.CharField(blank=True, db_index=True, max_length=32, verbose_name='编码')),
                ('boundary', models.JSONField(blank=True, help_text='GeoJSON Polygon 或 MultiPolygon，坐标为 [经度, 纬度]，例如 {"type": "Polygon", "coordinates": [[[120.18, 35.96], [120.19, 35.96], [120.19, 35.97], [120.18, 35.96]]]}', null=True, verbose_name='边界（GeoJSON）')),
            ],
            options={
                'verbose_name': '区域/网格',
                'verbose_name_plural': '区域/网格',
                'db_table': 'governance_area',
            },
        ),
        migrations.CreateModel(
            name='Compound',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='创建时间')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                ('name', models.CharField(max_length=100, verbose_name='小区名称')),
                ('address', models.CharField(blank=True, max_length=200, verbose_name='地址')),
                ('built_year', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='建成年份')),
                ('area_sqm', models.PositiveIntegerField(blank=True, null=True, verbose_name='占地面积(平方米)')),
                ('latitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True, validators=[django.core.validators.MinValueValidator(-90), django.core.validators.MaxValueValidator(90)], verbose_name='中心纬度')),
                ('longitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True, validators=[django.core.validators.MinValueValidator(-180), django.core.validators.MaxValueValidator(180)], verbose_name='中心经度')),
                ('community', models.ForeignKey(limit_choices_to={'kind': 'community'}, on_delete=django.db.models.deletion.PROTECT, related_name='compounds', to='territory.area', verbose_name='所属社区')),
            ],
            options={
                'verbose_name': '小区',
                'verbose_name_plural': '小区',
                'db_table': 'governance_compound',
            },
        ),
        migrations.CreateModel(
            name='CompoundAlias',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('alias', models.CharField(help_text='旧名、俗称或门牌号，例如“富春江路88号”', max_length=100, verbose_name='别名')),
                ('compound', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='aliases', to='territory.compound', verbose_name='小区')),
            ],
            options={
                'verbose_name': '小区别名',
                'verbose_name_plural': '小区别名',
                'db_table': 'governance_compoundalias',
                'ordering': ['compound_id', 'alias'],
                'constraints': [models.UniqueConstraint(fields=('compound', 'alias'), name='compound_alias_unique')],
            },
        ),
        migrations.CreateModel(
            name='Building',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='创建时间')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                ('number', models.CharField(max_length=20, verbose_name='楼号')),
                ('number_sort', core.fields.NaturalSortKeyField(source='number')),
                ('floors', models.PositiveSmallIntegerField(default=18, verbose_name='层数')),
                ('latitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True, validators=[django.core.validators.MinValueValidator(-90), django.core.validators.MaxValueValidator(90)], verbose_name='纬度')),
                ('longitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True, validators=[django.core.validators.MinValueValidator(-180), django.core.validators.MaxValueValidator(180)], verbose_name='经度')),
                ('compound', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='buildings', to='territory.compound', verbose_name='小区')),
                ('micro_grid', models.ForeignKey(limit_choices_to={'kind': 'microgrid'}, on_delete=django.db.models.deletion.PROTECT, related_name='buildings', to='territory.area', verbose_name='微网格')),
            ],
            options={
                'verbose_name': '楼栋',
                'verbose_name_plural': '楼栋',
                'db_table': 'governance_building',
                'ordering': ['compound_id', 'number_sort', 'number'],
                'constraints': [models.UniqueConstraint(fields=('compound', 'number'), name='building_unique_number')],
            },
        ),
        migrations.CreateModel(
            name='Unit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(max_length=10, verbose_name='单元号')),
                ('number_sort', core.fields.NaturalSortKeyField(source='number')),
                ('building', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='units', to='territory.building', verbose_name='楼栋')),
            ],
            options={
                'verbose_name': '单元',
                'verbose_name_plural': '单元',
                'db_table': 'governance_unit',
                'ordering': ['building_id', 'number_sort', 'number'],
                'constraints': [models.UniqueConstraint(fields=('building', 'number'), name='unit_unique_number')],
            },
        ),
    ]
