from __future__ import annotations

import io

import pytest
from django.db.models import Count

from governance.demo import demo_load
from petitions.models import Petition, PetitionEvent, RecurrenceSuggestion

pytestmark = pytest.mark.django_db


def test_the_demo_matches_the_report_and_covers_every_state():
    output = io.StringIO()
    demo_load(stdout=output)
    assert "petitions: 61 petitions" in output.getvalue(), output.getvalue()
    states = dict(Petition.objects.values_list("state").annotate(Count("id")))
    # "rated" and "reopened" are passing states: a rating closes or re-dispatches at once.
    assert set(states) == set(Petition.State.values) - {"rated", "reopened"}
    closed = Petition.objects.filter(state="closed")
    assert closed.filter(category__name="邻里纠纷").count() == 9
    assert closed.exclude(category__name="邻里纠纷").filter(
        channel="mobile_web").count() >= 20
    assert closed.filter(channel__in=["hotline_12345", "susuban"]).count() == 7
    rated = Petition.objects.exclude(rating="")
    satisfied = rated.filter(rating__in=["satisfied", "basic"]).count()
    assert satisfied / rated.count() >= 0.9
    assert Petition.objects.filter(supervised=True).exists()
    assert Petition.objects.filter(tier="grid", state="dispatched").exists()
    # Every petition's timeline starts with its submission and ends in its state.
    for petition in Petition.objects.all():
        kinds = list(petition.events.values_list("kind", flat=True))
        assert kinds[0] == "submitted"
    assert PetitionEvent.objects.filter(kind="closed").count() == closed.count()
    # 未诉先办: the 物业设施 petitions of the resident's building raise one open suggestion.
    suggestion = RecurrenceSuggestion.objects.get()
    assert (suggestion.status, suggestion.category.name) == ("open", "物业设施")
    assert suggestion.petitions.count() >= 3
    assert "1 未诉先办 suggestion(s)" in output.getvalue()
