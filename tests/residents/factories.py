from __future__ import annotations

import factory

from residents.models import Household, PartyMember, Resident


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    building = factory.SelfAttribute("unit.building")
    unit = None  # pass a Unit
    room = factory.Sequence(lambda n: f"{n // 4 + 1:02d}0{n % 4 + 1}")


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    household = None  # pass a Household
    name = factory.Sequence(lambda n: f"居民{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    gender = Resident.Gender.FEMALE
    birth_year = 1960


class PartyMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartyMember

    resident = None
    org_node = None
    kind = PartyMember.Kind.IN_SERVICE
