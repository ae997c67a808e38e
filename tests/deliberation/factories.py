from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from deliberation.models import ActionItem, Session, Topic


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    compound = None  # pass a Compound
    kind = Session.Kind.JOINT
    title = factory.Sequence(lambda n: f"议事会{n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    place = "党群服务站"
    sign_in_code = "123456"


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    compound = None  # pass a Compound
    title = factory.Sequence(lambda n: f"议题{n}")
    proposer_name = "王阿姨"


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    topic = None
    title = factory.Sequence(lambda n: f"事项{n}")
    owner_name = "物业公司"
    deadline = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
