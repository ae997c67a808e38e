"""Who counts as deliberation staff for a compound, and who is a resident of it."""

from __future__ import annotations

import pytest
from django.http import Http404

from deliberation import rules, selectors
from tests.deliberation.factories import TopicFactory


def test_community_staff_in_scope_and_street_admins_run_the_compound(territory, community_staff,
                                                                      street_admin):
    assert rules.user_is_deliberation_staff(community_staff, territory.compound.pk)
    assert not rules.user_is_deliberation_staff(community_staff,
                                                    territory.other_compound.pk)
    assert set(rules.staff_compounds(street_admin)) == {territory.compound,
                                                             territory.other_compound}


def test_the_branch_secretary_runs_only_their_compound(territory, secretary):
    assert list(rules.staff_compounds(secretary)) == [territory.compound]
    assert rules.user_is_compound_resident(secretary, territory.compound.pk)


def test_grid_workers_residents_and_outsiders_are_not_staff(territory, grid_worker,
                                                            resident_user, outsider):
    for user in (grid_worker, resident_user, outsider):
        assert not rules.user_is_deliberation_staff(user, territory.compound.pk)


def test_a_resident_sees_topics_of_their_compound_only(territory, resident_user):
    mine = TopicFactory(compound=territory.compound)
    theirs = TopicFactory(compound=territory.other_compound)
    assert list(selectors.topic_list(user=resident_user)) == [mine]
    with pytest.raises(Http404):
        selectors.topic_get_for_user(user=resident_user, topic_id=theirs.pk)
    with pytest.raises(Http404):
        selectors.topic_get_for_staff(user=resident_user, topic_id=mine.pk)


def test_anonymous_users_see_nothing(territory, topic):
    from django.contrib.auth.models import AnonymousUser

    assert not rules.visible_compounds(AnonymousUser()).exists()
    with pytest.raises(Http404):
        selectors.topic_get_for_user(user=AnonymousUser(), topic_id=topic.pk)
