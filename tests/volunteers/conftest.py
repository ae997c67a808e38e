"""The volunteers cast: a volunteer with an account, a party member, a caring-team member."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import User
from governance.models import OrgNode
from residents.models import PartyMember
from tests.accounts.factories import UserFactory
from tests.conftest import Territory
from tests.governance.factories import org_root
from tests.residents.factories import PartyMemberFactory, ResidentFactory
from tests.volunteers.factories import TeamFactory, VolunteerFactory
from volunteers.models import Team, TeamMembership, Volunteer


@dataclass
class Cast:
    volunteer: Volunteer
    volunteer_user: User
    member: PartyMember
    member_user: User
    caring_team: Team
    carer: Volunteer
    carer_user: User


def resident_account(territory: Territory, username: str, *, household=None) -> User:
    user = UserFactory(username=username, role=User.Role.RESIDENT)
    ResidentFactory(household=household or territory.household1, name=username, user=user)
    return user


@pytest.fixture
def org(territory: Territory) -> OrgNode:
    return org_root(area=territory.community)


@pytest.fixture
def cast(territory: Territory, org: OrgNode) -> Cast:
    volunteer_user = resident_account(territory, "vol")
    volunteer = VolunteerFactory(compound=territory.compound, user=volunteer_user,
                                 resident=volunteer_user.residents.get(), name="志愿者小张")
    member_user = resident_account(territory, "member", household=territory.household2)
    member = PartyMemberFactory(resident=member_user.residents.get(), org_node=org, is_public=True)
    caring_team = TeamFactory(compound=territory.compound, name="爱心管家", kind=Team.Kind.CARING)
    carer_user = resident_account(territory, "carer")
    carer = VolunteerFactory(compound=territory.compound, user=carer_user, name="管家小李")
    TeamMembership.objects.create(team=caring_team, volunteer=carer)
    return Cast(volunteer=volunteer, volunteer_user=volunteer_user, member=member,
                member_user=member_user, caring_team=caring_team, carer=carer,
                carer_user=carer_user)
