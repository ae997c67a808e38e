"""core.memo: answers remembered in the process, each for as long as it may be."""

from __future__ import annotations

from django.utils import translation

from core import memo
from petitions.models import PetitionState


def test_a_remembered_answer_is_computed_once_until_it_is_too_old():
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert memo.remembered("k", compute, seconds=60) == 1
    assert memo.remembered("k", compute, seconds=60) == 1
    assert memo.remembered("other", compute, seconds=60) == 2  # each key its own
    assert memo.remembered("k", compute, seconds=0) == 3  # too old: computed again


def test_choice_labels_follow_the_active_language():
    with translation.override("zh-hans"):
        assert memo.choice_labels(PetitionState)["closed"] == "已关闭"
    with translation.override("en"):
        assert memo.choice_labels(PetitionState)["closed"] == "Closed"
    with translation.override("zh-hans"):
        assert memo.choice_labels(PetitionState)["closed"] == "已关闭"
