"""黄牌/红牌 (issue 18, item 2): cards at offsets before and after each clock's deadline, on the
working-day calendar, issued once by a set-based sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.models import Notification, OutboundMessage
from petitions import services
from petitions.cards import petitions_issue_cards
from petitions.models import CardRule, CardStep, Petition, PetitionCard, PetitionEvent, SlaPolicy
from petitions.sweep import petitions_sweep
from tests.petitions.factories import category, submit

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Unit = CardRule.Unit


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def rule(step: str, tier: str, *, yellow: tuple[str, int] = (Unit.PERCENT, 0),
         red: tuple[str, int] = (Unit.HOURS, 0), **fields) -> CardRule:
    return CardRule.objects.create(step=step, tier=tier, yellow_unit=yellow[0],
                                   yellow_before=yellow[1], red_unit=red[0], red_after=red[1],
                                   **fields)


@pytest.fixture
def working_days() -> SlaPolicy:
    policy = SlaPolicy.current()
    policy.calendar = SlaPolicy.Calendar.WORKING_DAYS
    policy.save()
    return policy


def cards(petition: Petition) -> list[tuple[str, str, str]]:
    return sorted(PetitionCard.objects.filter(petition=petition)
                  .values_list("step", "tier", "color"))


def sweep_at(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        petitions_issue_cards(now=timezone.now())


def test_a_yellow_card_days_before_the_deadline_counts_back_over_the_national_day(
        working_days, resident_user, grid_worker, community_staff):
    # A big matter is the grid's: 3 working days from Tue 09-29 10:00 are 09-30, 10-08 and
    # 10-09 (10-01 … 10-07 are off). Two working days before 10-09 10:00 is 09-30 10:00; in
    # calendar days it would be 10-07.
    rule(CardStep.RESOLVE, "grid", yellow=(Unit.DAYS, 2), red=(Unit.DAYS, 1))
    with time_machine.travel(at(2026, 9, 29, 10), tick=False):
        petition = submit(resident_user)
        petition = services.petition_triage(petition_id=petition.pk, actor=community_staff,
                                            size=Petition.Size.BIG)
    assert petition.tier == "grid"
    assert timezone.localtime(petition.grid_due_at) == at(2026, 9, 29, 10) + timedelta(days=10)
    sweep_at(at(2026, 9, 30, 9, 59))
    assert cards(petition) == []
    sweep_at(at(2026, 9, 30, 10, 1))
    assert cards(petition) == [("resolve", "grid", "yellow")]
    petition.refresh_from_db()
    assert petition.yellow_card_at == at(2026, 9, 30, 10, 1) and petition.red_card_at is None


def test_a_red_card_days_after_the_deadline_skips_the_sunday_and_enters_supervision(
        working_days, resident_user, microgrid_worker, grid_worker, street_admin):
    # Micro-grid: 1 working day from Wed 09-30 15:00 is Thu 10-08 15:00. Three working days
    # after it: Fri 10-09, Sat 10-10 (a 调休 working day), Mon 10-12 — not Sunday 10-11.
    rule(CardStep.RESOLVE, "microgrid", red=(Unit.DAYS, 3))
    with time_machine.travel(at(2026, 9, 30, 15), tick=False):
        petition = submit(resident_user)
    assert timezone.localtime(petition.microgrid_due_at) == at(2026, 10, 8, 15)
    sweep_at(at(2026, 10, 11, 16))
    assert cards(petition) == []
    sweep_at(at(2026, 10, 12, 15, 1))
    assert cards(petition) == [("resolve", "microgrid", "red")]
    petition.refresh_from_db()
    assert petition.supervised and petition.red_card_at == at(2026, 10, 12, 15, 1)
    assert PetitionEvent.objects.filter(petition=petition, kind="supervised").count() == 1
    told = set(Notification.objects.filter(title__contains="红牌").values_list("user_id",
                                                                             flat=True))
    # The holder, the level above (the grid's worker) and the street admin (督办).
    assert told == {microgrid_worker.pk, grid_worker.pk, street_admin.pk}


def test_a_yellow_share_of_the_clock_warns_the_holder_and_the_grid_worker_by_sms(
        frozen, resident_user, microgrid_worker, grid_worker):
    for user, phone in ((microgrid_worker, "13900000011"), (grid_worker, "13900000012")):
        user.phone = phone
        user.save(update_fields=["phone"])
    rule(CardStep.RESOLVE, "microgrid", yellow=(Unit.PERCENT, 25), red=(Unit.HOURS, 2))
    petition = submit(resident_user)  # due a calendar day later
    frozen.shift(timedelta(hours=17, minutes=59))
    petitions_issue_cards(now=timezone.now())
    assert cards(petition) == []
    frozen.shift(timedelta(minutes=2))
    petitions_issue_cards(now=timezone.now())
    assert cards(petition) == [("resolve", "microgrid", "yellow")]
    for phone in ("13900000011", "13900000012"):
        [text] = OutboundMessage.objects.filter(recipient=phone, body__contains="黄牌")
        assert "黄牌" in text.body and f"/petitions/staff/{petition.pk}/" in text.body
    assert not Petition.objects.get(pk=petition.pk).supervised


def test_two_sweeps_issue_one_card_and_one_message(frozen, resident_user, microgrid_worker,
                                                   grid_worker):
    rule(CardStep.RESOLVE, "microgrid", yellow=(Unit.HOURS, 4))
    petition = submit(resident_user)
    frozen.shift(timedelta(hours=21))
    first = petitions_issue_cards(now=timezone.now())
    # A second beat, at the same moment and later (the row's next look is armed elsewhere).
    second = petitions_issue_cards(now=timezone.now())
    Petition.objects.filter(pk=petition.pk).update(card_check_at=timezone.now())
    third = petitions_issue_cards(now=timezone.now())
    assert (first.yellow, second.yellow, third.yellow) == (1, 0, 0)
    assert PetitionCard.objects.filter(petition=petition).count() == 1
    assert PetitionEvent.objects.filter(petition=petition, kind="yellow_card").count() == 1
    assert Notification.objects.filter(user=microgrid_worker, title__contains="黄牌").count() == 1


def test_the_card_sweep_costs_at_most_16_queries_for_2_or_20_petitions(
        frozen, resident_user, microgrid_worker, grid_worker, street_admin,
        django_assert_max_num_queries):
    rule(CardStep.RESOLVE, "microgrid", yellow=(Unit.HOURS, 4), red=(Unit.HOURS, 1))
    rule(CardStep.ARRIVAL, "microgrid", yellow=(Unit.PERCENT, 20), red=(Unit.HOURS, 1))
    for size, shift in ((2, timedelta(hours=21)), (20, timedelta(days=1, hours=2))):
        for _ in range(size):
            submit(resident_user)
        frozen.shift(shift)
        # The claim, the rules, the policy, the cards already out, the next looks, the new
        # cards, yellow and red stamps, 督办, the events, the grid's workers, the street
        # admins, the phones, the inbox and the SMS outbox (2): a fixed number at most.
        # A colour with no card this run skips its stamp (an empty IN runs no query).
        with django_assert_max_num_queries(16):
            result = petitions_issue_cards(now=timezone.now())
        assert result.yellow + result.red >= size


def test_an_arrival_card_and_a_new_arrival_clock_after_a_failed_verification(
        frozen, resident_user, microgrid_worker, community_staff):
    rule(CardStep.ARRIVAL, "microgrid", yellow=(Unit.PERCENT, 20), red=(Unit.HOURS, 1))
    petition = submit(resident_user)
    frozen.shift(timedelta(minutes=6))
    petitions_issue_cards(now=timezone.now())
    assert cards(petition) == [("arrival", "microgrid", "yellow")]
    frozen.shift(timedelta(hours=1, minutes=2))
    petitions_issue_cards(now=timezone.now())
    assert cards(petition) == [("arrival", "microgrid", "red"), ("arrival", "microgrid", "yellow")]
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    petitions_issue_cards(now=timezone.now())
    assert PetitionCard.objects.filter(petition=petition).count() == 2


def test_a_category_rule_wins_over_the_tier_default(frozen, resident_user, microgrid_worker):
    special = category("占道经营")
    rule(CardStep.RESOLVE, "microgrid", yellow=(Unit.HOURS, 1))
    rule(CardStep.RESOLVE, "microgrid", yellow=(Unit.HOURS, 12), category=special)
    ordinary, urgent = submit(resident_user), submit(resident_user, category=special)
    frozen.shift(timedelta(hours=13))
    petitions_issue_cards(now=timezone.now())
    assert cards(ordinary) == []
    assert cards(urgent) == [("resolve", "microgrid", "yellow")]


def test_no_card_once_the_petition_is_resolved(frozen, resident_user, microgrid_worker):
    rule(CardStep.RESOLVE, "microgrid", yellow=(Unit.HOURS, 4))
    petition = submit(resident_user)
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker, resolution="已清理")
    frozen.shift(timedelta(hours=21))
    petitions_issue_cards(now=timezone.now())
    assert cards(petition) == []
    assert Petition.objects.get(pk=petition.pk).card_check_at is None


def test_a_card_past_the_tables_end_says_it_is_an_estimate(working_days, resident_user,
                                                           microgrid_worker):
    # The table ends 2026-12-31: a red card a working day after Thursday 12-31 is counted
    # Monday to Friday (2027-01-01), and the card and its note say so.
    rule(CardStep.RESOLVE, "microgrid", red=(Unit.DAYS, 1))
    with time_machine.travel(at(2026, 12, 30, 10), tick=False):
        petition = submit(resident_user)
    sweep_at(at(2027, 1, 1, 10, 1))
    card = PetitionCard.objects.get(petition=petition)
    assert card.is_estimated
    assert "估算" in PetitionEvent.objects.get(petition=petition, kind="red_card").note


def test_the_sweep_beat_issues_cards(frozen, resident_user, microgrid_worker):
    rule(CardStep.RESOLVE, "microgrid", yellow=(Unit.HOURS, 4))
    submit(resident_user)
    frozen.shift(timedelta(hours=21))
    assert petitions_sweep(now=timezone.now()).yellow_cards == 1


def test_card_rules_are_validated():
    with pytest.raises(ValidationError, match="黄牌百分比须在 0 到 99 之间"):
        CardRule(step="resolve", tier="grid", yellow_unit=Unit.PERCENT, yellow_before=120,
                 red_unit=Unit.HOURS, red_after=0).full_clean()
    with pytest.raises(ValidationError, match="不能用百分比"):
        CardRule(step="resolve", tier="grid", yellow_unit=Unit.HOURS, yellow_before=1,
                 red_unit=Unit.PERCENT, red_after=5).full_clean()


def test_the_admin_lists_the_rules(street_admin, client):
    street_admin.is_superuser = True
    street_admin.save()
    rule(CardStep.RESOLVE, "microgrid")
    client.force_login(street_admin)
    assert client.get("/admin/petitions/cardrule/").status_code == 200
    assert client.get("/admin/petitions/petitioncard/").status_code == 200


def test_the_workbench_row_shows_the_card(frozen, resident_user, microgrid_worker, client):
    rule(CardStep.RESOLVE, "microgrid", yellow=(Unit.HOURS, 4))
    submit(resident_user)
    frozen.shift(timedelta(hours=21))
    petitions_issue_cards(now=timezone.now())
    client.force_login(microgrid_worker)
    page = client.get("/petitions/staff/").content.decode()
    assert "card-yellow" in page


def test_the_rankings_count_cards(frozen, resident_user, microgrid_worker, street_admin,
                                  territory):
    from reports.rankings import card_counts

    rule(CardStep.RESOLVE, "microgrid", yellow=(Unit.HOURS, 4))
    submit(resident_user)
    frozen.shift(timedelta(hours=21))
    petitions_issue_cards(now=timezone.now())
    counts = card_counts(Petition.objects.all())
    assert counts[microgrid_worker.pk] == {"yellow": 1, "red": 0}
    from reports.rankings import grid_ranking, worker_ranking

    day = timezone.localdate()
    month = (day.replace(day=1), day + timedelta(days=1))
    grids = grid_ranking(street=territory.street, start=month[0], end=month[1], min_sample=1)
    [grid] = [row for row in grids.rows + grids.apart if row.path == territory.grid.path]
    assert (grid.yellow_cards, grid.red_cards) == (1, 0)
    workers = worker_ranking(street=territory.street, start=month[0], end=month[1],
                             min_sample=1)
    [worker] = workers.rows + workers.apart
    assert (worker.key, worker.yellow_cards) == (microgrid_worker.pk, 1)


def test_a_rule_added_in_the_admin_is_applied_to_open_petitions(frozen, resident_user,
                                                                microgrid_worker, street_admin,
                                                                client):
    petition = submit(resident_user)
    petitions_issue_cards(now=timezone.now())  # no rule: nothing to watch
    assert Petition.objects.get(pk=petition.pk).card_check_at is None
    street_admin.is_superuser = True
    street_admin.save()
    client.force_login(street_admin)
    response = client.post("/admin/petitions/cardrule/add/", {
        "step": "resolve", "tier": "microgrid", "yellow_unit": "hours", "yellow_before": 4,
        "red_unit": "hours", "red_after": 0, "is_active": "on"})
    assert response.status_code == 302
    frozen.shift(timedelta(hours=21))
    petitions_issue_cards(now=timezone.now())
    assert cards(petition) == [("resolve", "microgrid", "yellow")]


def test_a_backlog_drains_over_runs_of_at_most_the_claim_limit(frozen, resident_user,
                                                               microgrid_worker, monkeypatch):
    from petitions import cards as card_module

    monkeypatch.setattr(card_module, "CLAIM_LIMIT", 2)
    rule(CardStep.RESOLVE, "microgrid", yellow=(Unit.HOURS, 4))
    for _ in range(3):
        submit(resident_user)
    frozen.shift(timedelta(hours=21))
    assert petitions_issue_cards(now=timezone.now()).yellow == 2
    assert petitions_issue_cards(now=timezone.now()).yellow == 1


def test_a_red_card_of_a_tier_left_behind_is_not_charged_to_the_new_holder(
        frozen, resident_user, microgrid_worker, grid_worker):
    rule(CardStep.RESOLVE, "microgrid", red=(Unit.HOURS, 4))
    petition = submit(resident_user)
    frozen.shift(timedelta(days=1, minutes=1))
    petitions_sweep(now=timezone.now())  # escalated to the grid at the deadline
    assert Petition.objects.get(pk=petition.pk).holder_id == grid_worker.pk
    frozen.shift(timedelta(hours=4))
    assert petitions_sweep(now=timezone.now()).red_cards == 1
    card = PetitionCard.objects.get(petition=petition)
    assert (card.tier, card.color, card.holder_id) == ("microgrid", "red", None)
    assert Petition.objects.get(pk=petition.pk).supervised
