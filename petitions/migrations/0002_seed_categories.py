from __future__ import annotations

from django.db import migrations

CATEGORIES = [
    ("环境卫生", [{"key": "spot", "label": "具体位置（如楼道、绿化带）", "required": False}]),
    ("物业设施", [{"key": "facility", "label": "设施名称（电梯、门禁、路灯等）", "required": True}]),
    ("停车充电", [{"key": "plate", "label": "涉及车牌（可选）", "required": False}]),
    ("噪音扰民", [{"key": "time", "label": "通常发生的时间段", "required": False}]),
    ("邻里纠纷", []),
    ("安全隐患", [{"key": "urgent", "label": "是否危及人身安全", "required": True}]),
    ("养老服务", [{"key": "elder_age", "label": "老人年龄", "required": False}]),
    ("其他", []),
]


def seed(apps, schema_editor):
    Category = apps.get_model("petitions", "Category")
    SlaPolicy = apps.get_model("petitions", "SlaPolicy")
    for order, (name, questions) in enumerate(CATEGORIES, start=1):
        Category.objects.get_or_create(
            name=name, parent=None, defaults={"extra_questions": questions, "sort_order": order}
        )
    SlaPolicy.objects.get_or_create(pk=1)


def unseed(apps, schema_editor):
    apps.get_model("petitions", "Category").objects.filter(
        name__in=[name for name, _questions in CATEGORIES], petitions__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("petitions", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
