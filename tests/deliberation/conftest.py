"""Deliberation cast: a second resident of the compound, the branch secretary, a session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from deliberation.models import Session, Topic
from governance.models import OrgNode
from tests.accounts.factories import UserFactory
from tests.deliberation.factories import SessionFactory, TopicFactory
from tests.governance.factories import org_root
from tests.residents.factories import ResidentFactory


@pytest.fixture
def neighbour(territory) -> User:
    user = UserFactory(username="neighbour", role=User.Role.RESIDENT, phone="13800002222")
    ResidentFactory(household=territory.household2, name="李大爷", user=user)
    return user


@pytest.fixture
def other_resident(territory) -> User:
    user = UserFactory(username="far", role=User.Role.RESIDENT, phone="13800003333")
    ResidentFactory(household=territory.other_household, name="赵先生", user=user)
    return user


@pytest.fixture
def secretary(territory) -> User:
    return make_secretary(territory)


def make_secretary(territory) -> User:
    """The compound branch's secretary: a resident, no staff role, yet runs deliberation."""
    user = UserFactory(username="secretary", role=User.Role.RESIDENT, phone="13800004444",
                       display_name="支部书记")
    resident = ResidentFactory(household=territory.household1, name="陈书记", user=user)
    committee = org_root(area=territory.community)
    OrgNode.objects.add_child(committee, {"name": "长江瑞城党支部",
                                          "kind": OrgNode.Kind.COMPOUND_BRANCH,
                                          "compound": territory.compound, "secretary": resident})
    return user


@pytest.fixture
def session(territory) -> Session:
    """A session under way (it began half an hour ago and is still planned): topics go on its
    agenda and its decisions are recorded now (a decision before a session's start is refused;
    tests/deliberation/test_integrity.py travels in time for the calendar's rules)."""
    return SessionFactory(compound=territory.compound,
                          starts_at=timezone.now() - timedelta(minutes=30))


@pytest.fixture
def topic(territory, resident_user) -> Topic:
    return TopicFactory(compound=territory.compound, proposer=resident_user)
