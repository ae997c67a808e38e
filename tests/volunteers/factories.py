from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from volunteers.models import Activity, ServicePost, Team, Volunteer


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    compound = None  # pass a Compound
    name = factory.Sequence(lambda n: f"志愿队{n}")
    kind = Team.Kind.SERVICE


class VolunteerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Volunteer

    compound = None  # pass a Compound
    name = factory.Sequence(lambda n: f"志愿者{n}")
    phone = factory.Sequence(lambda n: f"137{n:08d}")


class ServicePostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServicePost

    compound = None
    kind = ServicePost.Kind.POLICY_PUBLICITY
    name = "政策宣传岗"


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    compound = None
    title = factory.Sequence(lambda n: f"洁净家园{n}")
    kind = Activity.Kind.CLEANING
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda obj: obj.starts_at + timedelta(hours=3))
    capacity = 10
    checkin_code = "123456"
