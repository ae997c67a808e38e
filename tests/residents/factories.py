from __future__ import annotations

from datetime import date

import factory

from core.masking import id_number_check_character
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
    is_public = False
    # A public member has consented (the model refuses is_public without a consent date).
    public_consent_on = factory.LazyAttribute(
        lambda member: date(2026, 3, 1) if member.is_public else None)


def residents_populate(households: list[Household], *, per_household: int = 3,
                       id_numbers: bool = True) -> list[Resident]:
    """Several residents per household (with ID numbers), for masking and query-count tests."""
    residents = []
    for household in households:
        for index in range(per_household):
            resident = ResidentFactory(household=household, is_household_head=index == 0,
                                       tags=["elder_alone"] if index == 1 else [])
            if id_numbers:
                # A valid check character, so that the leak scan (tests/leakscan.py) knows it.
                first17 = f"37021119600101{resident.pk:03d}"[-17:]
                resident.id_number = first17 + id_number_check_character(first17)
                resident.save(update_fields=["id_number"])
            residents.append(resident)
    return residents
