"""Petition API serializers: plain input serializers, one per transition, and lean outputs.

The list output is the hot path (dashboards and other systems poll it). Its fields are declared
for the OpenAPI schema, but the rows are built by hand: DRF's per-field machinery costs several
milliseconds per page of 20. The list itself reads `values(*LIST_VALUES)` dicts through
`petition_list_rows` (no model instances: building 100 of them per page cost more than the
query); the detail builds the same row from the instance in `to_representation`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import serializers

from accounts.models import User
from petitions import policy
from petitions.models import (
    OPEN_STATES,
    Category,
    NoVisitReason,
    Petition,
    PetitionEvent,
    PetitionPhoto,
    PetitionState,
    Placement,
    Tier,
)
from petitions.selectors import petition_event_actor_label
from territory.models import building_label


def iso(value: datetime | None, zone: tzinfo | None = None) -> str | None:
    """A W3C datetime in the site's zone (+08:00), as DRF would render it.

    Pass `zone` when rendering many values: timezone.localtime looks the active zone up through
    asgiref's context-local storage on every call, which is most of a list row's cost.
    """
    if value is None:
        return None
    return value.astimezone(zone or timezone.get_current_timezone()).isoformat()


def _named(instance: Any, label: str | None = None) -> dict[str, Any] | None:
    if instance is None:
        return None
    return {"id": instance.pk, "name": label if label is not None else instance.name}


def _user_name(user: User) -> str:
    return user.display_name or user.username


def _photo_url(photo: PetitionPhoto) -> str:
    return photo.image.url if photo.image else ""


# --- output ----------------------------------------------------------------------------------


class PetitionRefOutput(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PetitionListOutput(serializers.Serializer[Petition]):
    """One row of the list. Declared fields document the schema; rows are built by hand."""

    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=PetitionState.choices)
    state_label = serializers.CharField()
    tier = serializers.ChoiceField(choices=Tier.choices)
    size = serializers.ChoiceField(choices=Petition.Size.choices)
    channel = serializers.ChoiceField(choices=Petition.Channel.choices)
    category = PetitionRefOutput()
    description = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    arrival_due_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField()
    deadline_estimated = serializers.BooleanField(
        help_text="时限超出节假日表，工作日按周一至周五估算（core.workdays）")
    resolved_at = serializers.DateTimeField(allow_null=True)
    is_overdue = serializers.BooleanField()
    supervised = serializers.BooleanField()
    holder = PetitionRefOutput(allow_null=True)
    area = PetitionRefOutput()
    building = PetitionRefOutput(allow_null=True)
    external_ref = serializers.CharField(allow_null=True)

    def to_representation(self, instance: Petition) -> dict[str, Any]:
        now = self.context.get("now") or timezone.now()
        zone = timezone.get_current_timezone()
        building = instance.building
        return {
            "id": instance.pk,
            "state": instance.state,
            "state_label": str(PetitionState(instance.state).label),
            "tier": instance.tier,
            "size": instance.size,
            "channel": instance.channel,
            "category": _named(instance.category),
            "description": instance.description,
            "submitted_at": iso(instance.submitted_at, zone),
            "arrival_due_at": iso(instance.arrival_due_at, zone),
            "arrived_at": iso(instance.arrived_at, zone),
            "due_at": iso(instance.due_at, zone),
            "deadline_estimated": instance.deadline_estimated,
            "resolved_at": iso(instance.resolved_at, zone),
            "is_overdue": policy.is_overdue(instance, now),
            "supervised": instance.supervised,
            "holder": (
                None
                if instance.holder is None
                else {"id": instance.holder_id, "name": _user_name(instance.holder)}
            ),
            "area": _named(instance.area),
            "building": None if building is None else _named(building, str(building)),
            "external_ref": instance.external_ref,
        }


# What petition_list_rows reads: the list's columns and the names of what they point to.
LIST_VALUES = (
    "id", "state", "tier", "size", "channel", "description", "submitted_at", "arrival_due_at",
    "arrived_at", "due_at", "deadline_estimated", "resolved_at", "supervised", "external_ref",
    "category_id", "category__name", "area_id", "area__name", "holder_id", "holder__username",
    "holder__display_name", "building_id", "building__number", "building__compound__name",
)


def petition_list_rows(rows: Iterable[dict[str, Any]], *, now: datetime) -> list[dict[str, Any]]:
    """PetitionListOutput's rows from `values(*LIST_VALUES)` dicts, as to_representation builds
    them from instances. The labels, the zone and the building format are looked up once per
    page, not once per row."""
    zone = timezone.get_current_timezone()
    state_labels = {state: str(label) for state, label in PetitionState.choices}
    number_format = gettext("%(number)s号楼")
    return [
        {
            "id": row["id"],
            "state": row["state"],
            "state_label": state_labels[row["state"]],
            "tier": row["tier"],
            "size": row["size"],
            "channel": row["channel"],
            "category": {"id": row["category_id"], "name": row["category__name"]},
            "description": row["description"],
            "submitted_at": iso(row["submitted_at"], zone),
            "arrival_due_at": iso(row["arrival_due_at"], zone),
            "arrived_at": iso(row["arrived_at"], zone),
            "due_at": iso(row["due_at"], zone),
            "deadline_estimated": row["deadline_estimated"],
            "resolved_at": iso(row["resolved_at"], zone),
            # policy.is_overdue on the row's columns
            "is_overdue": row["state"] in OPEN_STATES and policy.is_late(row["due_at"], now),
            "supervised": row["supervised"],
            "holder": (
                None
                if row["holder_id"] is None
                else {"id": row["holder_id"],
                      "name": row["holder__display_name"] or row["holder__username"]}
            ),
            "area": {"id": row["area_id"], "name": row["area__name"]},
            "building": (
                None
                if row["building_id"] is None
                else {"id": row["building_id"],
                      "name": building_label(compound_name=row["building__compound__name"],
                                             number=row["building__number"],
                                             number_format=number_format)}
            ),
            "external_ref": row["external_ref"],
        }
        for row in rows
    ]


class PetitionEventOutput(serializers.Serializer[PetitionEvent]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PetitionEvent.Kind.choices)
    kind_label = serializers.CharField()
    actor = serializers.CharField(allow_null=True)
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    from_tier = serializers.CharField()
    to_tier = serializers.CharField()
    note = serializers.CharField(help_text="说明；内部说明对居民和外部系统为空")
    is_internal = serializers.BooleanField(help_text="说明（及照片）仅工作人员可见")
    created_at = serializers.DateTimeField()
    photos = serializers.ListField(child=serializers.CharField())

    def to_representation(self, instance: PetitionEvent) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "kind": instance.kind,
            "kind_label": str(PetitionEvent.Kind(instance.kind).label),
            # The submitter of an anonymous petition is 匿名 here too, as on the pages.
            "actor": petition_event_actor_label(event=instance, petition=instance.petition),
            "from_state": instance.from_state,
            "to_state": instance.to_state,
            "from_tier": instance.from_tier,
            "to_tier": instance.to_tier,
            # petition_timeline's `visible_note`: an internal note is empty for the resident.
            "note": getattr(instance, "visible_note", instance.note),
            "is_internal": instance.is_internal,
            "created_at": iso(instance.created_at),
            "photos": [_photo_url(photo) for photo in instance.photos.all()],
        }


class PetitionDetailOutput(PetitionListOutput):
    """The list row plus where, who, the outcome and the timeline.

    The context carries `timeline` (events from petition_timeline) and `contact_phone`
    (from petition_contact_phone_for, masked unless the viewer may see it).
    """

    location_text = serializers.CharField()
    unit_number = serializers.CharField(help_text="单元号")
    room = serializers.CharField(help_text="门牌号")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    contact_name = serializers.CharField()
    contact_phone = serializers.CharField()
    is_public = serializers.BooleanField()
    answers = serializers.DictField()
    dispatched_at = serializers.DateTimeField(allow_null=True)
    arrival_missed = serializers.BooleanField()
    accept_due_at = serializers.DateTimeField(
        allow_null=True, help_text="签收时限：承办人须在此前签收（每次交办重新计算）")
    accepted_at = serializers.DateTimeField(allow_null=True, help_text="本次交办的签收时间")
    microgrid_due_at = serializers.DateTimeField()
    grid_due_at = serializers.DateTimeField()
    street_due_at = serializers.DateTimeField()
    resolved_on_time = serializers.BooleanField(allow_null=True)
    no_visit_reason = serializers.CharField(help_text="未到场办结原因（空：已到场签到或未办结）")
    no_visit_note = serializers.CharField()
    resolution = serializers.CharField()
    rejection_reason = serializers.CharField()
    rating = serializers.CharField()
    rating_comment = serializers.CharField()
    reopened_count = serializers.IntegerField()
    closed_at = serializers.DateTimeField(allow_null=True)
    placement = serializers.ChoiceField(choices=Placement.choices)
    placement_reason = serializers.CharField()
    timeline = PetitionEventOutput(many=True)

    def to_representation(self, instance: Petition) -> dict[str, Any]:
        row = super().to_representation(instance)
        timeline = self.context.get("timeline", ())
        row.update(
            {
                "location_text": instance.location_text,
                "unit_number": instance.unit_number,
                "room": instance.room,
                "latitude": None if instance.latitude is None else str(instance.latitude),
                "longitude": None if instance.longitude is None else str(instance.longitude),
                "contact_name": instance.contact_name,
                "contact_phone": self.context.get("contact_phone", ""),
                "is_public": instance.is_public,
                "answers": instance.answers,
                "dispatched_at": iso(instance.dispatched_at),
                "arrival_missed": instance.arrival_missed,
                "accept_due_at": iso(instance.accept_due_at),
                "accepted_at": iso(instance.accepted_at),
                "microgrid_due_at": iso(instance.microgrid_due_at),
                "grid_due_at": iso(instance.grid_due_at),
                "street_due_at": iso(instance.street_due_at),
                "resolved_on_time": instance.resolved_on_time,
                "no_visit_reason": instance.no_visit_reason,
                "no_visit_note": instance.no_visit_note,
                "resolution": instance.resolution,
                "rejection_reason": instance.rejection_reason,
                "rating": instance.rating,
                "rating_comment": instance.rating_comment,
                "reopened_count": instance.reopened_count,
                "closed_at": iso(instance.closed_at),
                "placement": instance.placement,
                "placement_reason": instance.placement_reason,
                "timeline": [PetitionEventOutput().to_representation(event) for event in timeline],
            }
        )
        return row


# A declared field named like an attribute of DRF's Field (label, required, parent): the
# serializer's metaclass moves it into _declared_fields, which the stubs cannot see.
class PetitionQuestionOutput(serializers.Serializer[dict[str, Any]]):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    required = serializers.BooleanField(default=False)  # type: ignore[assignment]


class PetitionCategoryOutput(serializers.Serializer[Category]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    parent = serializers.IntegerField(  # type: ignore[assignment]
        source="parent_id", allow_null=True)
    extra_questions = PetitionQuestionOutput(many=True)


# --- input -----------------------------------------------------------------------------------


def _photos_field() -> serializers.ListField:
    # Count, type and size are checked by the service (core.images), with Chinese messages.
    return serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text="最多 3 张照片（multipart/form-data）",
    )


class PetitionSubmitInput(serializers.Serializer[dict[str, Any]]):
    category = serializers.IntegerField(help_text="分类编号")
    description = serializers.CharField(max_length=2000)
    channel = serializers.ChoiceField(
        choices=Petition.Channel.choices,
        required=False,
        help_text="居民固定为 mobile_web；外部系统默认 api",
    )
    household = serializers.IntegerField(required=False, allow_null=True)
    building = serializers.IntegerField(required=False, allow_null=True)
    area = serializers.IntegerField(required=False, allow_null=True)
    location_text = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, min_value=-90, max_value=90
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-180,
        max_value=180,
    )
    photos = _photos_field()
    contact_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    contact_phone = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text="回访电话，供工作人员联系；不发短信。居民的短信只发到其账号已验证的手机号",
    )
    is_public = serializers.BooleanField(required=False, default=False)
    answers = serializers.JSONField(required=False, default=dict)
    size = serializers.ChoiceField(
        choices=Petition.Size.choices, required=False, default=Petition.Size.SMALL
    )
    external_ref = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="外部系统编号：重试时返回首次创建的诉求",
    )

    def validate_answers(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("补充问题回答须为 JSON 对象。")
        return value


class PetitionTriageInput(serializers.Serializer[dict[str, Any]]):
    size = serializers.ChoiceField(choices=Petition.Size.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PetitionDispatchInput(serializers.Serializer[dict[str, Any]]):
    holder = serializers.IntegerField(help_text="承办人（用户编号）")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PetitionNoteInput(serializers.Serializer[dict[str, Any]]):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    photos = _photos_field()
    is_internal = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="仅工作人员可见。工作人员的记录默认内部，写给居民的传 false；居民的记录总是可见")


class PetitionResolveInput(serializers.Serializer[dict[str, Any]]):
    resolution = serializers.CharField(max_length=2000)
    photos = _photos_field()
    no_visit_reason = serializers.ChoiceField(
        choices=NoVisitReason.choices, required=False, allow_blank=True, default="",
        help_text="未到场签到就办结时必填（电话办结、线上办结、其他）；计为未按时到场",
    )
    no_visit_note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="未到场办结说明；原因为 other 时必填",
    )


class PetitionVerifyInput(serializers.Serializer[dict[str, Any]]):
    accepted = serializers.BooleanField(required=False, default=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PetitionRateInput(serializers.Serializer[dict[str, Any]]):
    rating = serializers.ChoiceField(choices=Petition.Rating.choices)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PetitionReasonInput(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField(max_length=500)


class PetitionRerouteInput(serializers.Serializer[dict[str, Any]]):
    building = serializers.IntegerField(required=False, allow_null=True)
    area = serializers.IntegerField(required=False, allow_null=True)
    holder = serializers.IntegerField(required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PetitionPlaceInput(serializers.Serializer[dict[str, Any]]):
    building = serializers.IntegerField(required=False, allow_null=True,
                                        help_text="楼栋编号（与 area 二选一）")
    area = serializers.IntegerField(required=False, allow_null=True,
                                    help_text="微网格编号（与 building 二选一）")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PetitionCommentInput(serializers.Serializer[dict[str, Any]]):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PetitionReferInput(PetitionCommentInput):
    """The topic's title and text, read by every resident of the compound: written by staff."""

    title = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="议题名称；未同意公开或匿名的诉求必填，不得引用诉求原文或诉求人信息",
    )
    description = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="",
        help_text="议题说明；未同意公开或匿名的诉求必填，不得引用诉求原文或诉求人信息",
    )


class PetitionMergeInput(serializers.Serializer[dict[str, Any]]):
    """Merge this petition into `into` (petitions/duplicates.py)."""

    into = serializers.IntegerField(min_value=1, max_value=2**62)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PetitionDuplicateOutput(serializers.Serializer[Any]):
    """A likely duplicate, as staff who may open it see it (its text with digits starred)."""

    id = serializers.IntegerField(source="petition.pk")
    state = serializers.CharField(source="petition.state")
    submitted_at = serializers.DateTimeField(source="petition.submitted_at")
    description = serializers.SerializerMethodField()
    similarity = serializers.FloatField()

    def get_description(self, instance: Any) -> str:
        from petitions.selectors import petition_public_text  # noqa: PLC0415 a leaf helper

        return petition_public_text(instance.petition.description)[:100]


class PetitionDuplicatesOutput(serializers.Serializer[Any]):
    duplicates = PetitionDuplicateOutput(many=True)

class PetitionExtensionInput(serializers.Serializer[dict[str, Any]]):
    """申请延期: working days (calendar days under a calendar-day policy) and why."""

    days = serializers.IntegerField(min_value=1, max_value=30)
    reason = serializers.CharField(max_length=500)


class PetitionExtensionDecisionInput(serializers.Serializer[dict[str, Any]]):
    """The level above decides the petition's pending request: grant `days` (at most those
    asked; all of them when left out) or refuse with a `note`."""

    grant = serializers.BooleanField()
    days = serializers.IntegerField(min_value=1, max_value=30, required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
