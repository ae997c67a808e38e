from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from core.exceptions import InvalidTransition
from core.workflow import check_transition
from petitions.models import (
    FINISHED_STATES,
    OPEN_STATES,
    PETITION_TRANSITIONS,
    Category,
    Petition,
    PetitionState,
    SlaPolicy,
    Tier,
)

LABELS = dict(PetitionState.choices)


def test_the_transition_table_covers_every_state():
    assert set(PETITION_TRANSITIONS) == set(PetitionState.values)


@pytest.mark.parametrize("current", PetitionState.values)
@pytest.mark.parametrize("target", PetitionState.values)
def test_the_guard_allows_exactly_the_moves_in_the_table(current, target):
    if target in PETITION_TRANSITIONS[current]:
        check_transition(PETITION_TRANSITIONS, current, target, labels=LABELS)
    else:
        with pytest.raises(InvalidTransition, match=f"不能从“{LABELS[current]}”") as error:
            check_transition(PETITION_TRANSITIONS, current, target, labels=LABELS)
        assert str(LABELS[current]) in error.value.message
        assert "不能从" in error.value.message


def test_rejected_is_final_and_closed_only_reopens():
    assert PETITION_TRANSITIONS[PetitionState.CLOSED] == frozenset({PetitionState.REOPENED})
    assert PETITION_TRANSITIONS[PetitionState.REJECTED] == frozenset()
    assert not {PetitionState.CLOSED, PetitionState.REJECTED, PetitionState.RESOLVED} & OPEN_STATES


def test_merged_is_final_and_only_open_petitions_merge():
    assert PETITION_TRANSITIONS[PetitionState.MERGED] == frozenset()
    assert PetitionState.MERGED in FINISHED_STATES
    merging = {state for state, targets in PETITION_TRANSITIONS.items()
               if PetitionState.MERGED in targets}
    assert merging == OPEN_STATES


def test_every_state_can_reach_an_end():
    ends = {PetitionState.CLOSED, PetitionState.REJECTED, PetitionState.MERGED}
    for state in PetitionState.values:
        seen, frontier = {state}, [state]
        while frontier:
            for nxt in PETITION_TRANSITIONS[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert seen & ends, state


@pytest.mark.django_db
def test_the_eight_categories_are_seeded():
    names = list(Category.objects.filter(parent=None).values_list("name", flat=True))
    assert names == ["环境卫生", "物业设施", "停车充电", "噪音扰民", "邻里纠纷", "安全隐患",
                     "养老服务", "其他"]


@pytest.mark.django_db
def test_a_category_refuses_malformed_extra_questions():
    category = Category(name="测试", extra_questions=[{"label": "缺少 key"}])
    with pytest.raises(ValidationError, match="补充问题须为列表"):
        category.clean()


@pytest.mark.django_db
def test_the_policy_is_a_seeded_singleton_with_the_7135_defaults():
    policy = SlaPolicy.current()
    assert policy.pk == SlaPolicy.SINGLETON_ID
    assert (policy.arrival, policy.microgrid, policy.grid, policy.street) == (
        timedelta(minutes=7), timedelta(days=1), timedelta(days=3), timedelta(days=5))
    assert SlaPolicy.objects.count() == 1


@pytest.mark.django_db
def test_the_policy_refuses_a_grid_deadline_shorter_than_the_microgrid_one():
    policy = SlaPolicy.current()
    policy.grid = timedelta(hours=1)
    with pytest.raises(ValidationError, match="时限须满足：微网格 ≤ 网格 ≤ 街道"):
        policy.clean()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(("field", "values"), [("state", [*PetitionState.values, "bogus"]),
                                               ("tier", [*Tier.values, "bogus"])])
def test_the_fast_display_methods_say_what_djangos_generated_ones_say(field, values, language):
    # Petition overrides get_state_display/get_tier_display (the dashboard's hot path); Django's
    # own _get_FIELD_display is the reference, label for label, in each language.
    with translation.override(language):
        for value in values:
            petition = Petition(**{field: value})
            fast = getattr(petition, f"get_{field}_display")()
            reference = petition._get_FIELD_display(Petition._meta.get_field(field))
            assert (type(fast), fast) == (type(reference), reference)
    assert "get_state_display" in Petition.__dict__
