"""Petition pages: residents on a phone, the 公示 page, and the staff dashboard under /staff/.

Every view parses (a form), calls one petitions service, then renders or redirects; petitions are
loaded through `petition_get_for_user` (404 for outsiders and guessed ids). Illegal moves come
back from the service as ApplicationError / InvalidTransition and are shown as a message.

Permission map: resident pages need a phone-verified resident session; the staff pages list the
roles allowed per view in STAFF_PERMISSIONS (a superuser may do everything); the service still
decides the finer rules (holder, dispatcher, scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from accounts.models import User
from core.actions import ActionView, StaffRequiredMixin, error_text
from core.exceptions import ApplicationError
from core.masking import mask_phone
from core.referral import referrer
from core.scope import scope_path
from petitions import dispatch_queue, pending_photos, policy, rules, selectors, services
from petitions import forms as petition_forms
from petitions.models import MAX_PHOTOS, PendingPhoto, Petition, PetitionState, Tier
from residents.selectors import household_list
from territory.models import Area
from territory.selectors import building_list

Role = User.Role
ALL_STAFF = frozenset({Role.MICROGRID_WORKER, Role.GRID_WORKER, Role.COMMUNITY_STAFF,
                       Role.STREET_ADMIN})
HANDLERS = frozenset({Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.STREET_ADMIN})
DISPATCHERS = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN})

# Which staff roles may open each dashboard view (Oscar's dashboard permission map).
STAFF_PERMISSIONS: dict[str, frozenset[str]] = {
    "PetitionWorkbenchView": ALL_STAFF,
    "PetitionOverdueListView": ALL_STAFF,
    "PetitionDueTodayListView": ALL_STAFF,
    "PetitionStatsView": ALL_STAFF,
    "PetitionStaffDetailView": ALL_STAFF,
    "BuildingPlaqueSheetView": ALL_STAFF,
    "PetitionCheckInView": ALL_STAFF,
    "PetitionNoteCreateView": ALL_STAFF,
    "PetitionResolveView": ALL_STAFF,
    "PetitionReturnView": ALL_STAFF,
    "PetitionEscalateView": ALL_STAFF,
    "PetitionVerifyView": HANDLERS,
    "PetitionCloseView": HANDLERS,
    "PetitionDispatchView": DISPATCHERS,
    "PetitionRerouteView": DISPATCHERS,
    "PetitionReferView": HANDLERS,
    "PetitionRejectView": DISPATCHERS,
    "PetitionDispatchQueueView": DISPATCHERS,
    "PetitionPlaceView": DISPATCHERS,
    "PetitionIntakeView": HANDLERS,
    "PetitionIntakeLocationPickerView": HANDLERS,
    "PetitionIntakeQuestionsView": HANDLERS,
    "PetitionCallbackView": HANDLERS,
}
PHOTO_ERROR_CODES = frozenset({"too_many_photos", "too_large", "invalid_image",
                               "too_many_pixels", "photo_expired"})
PUBLIC_PAGE_SIZE = 20
STAFF_PAGE_SIZE = 50  # the workbench's tabs (views_workbench)
# What the workbench rows and clock_for read: 50 full rows with their holder (a User of
# row the page never shows) cost more to build than the rest of the page's Python.
STAFF_LIST_RELATED = ("category", "area", "building__compound")
STAFF_LIST_COLUMNS = (
    "id", "state", "tier", "description", "supervised", "due_at", "arrival_due_at", "arrived_at",
    "arrival_missed", "category__name", "area__name", "building__number",
    "building__compound__name",
)
STATS_PERIODS = {"week": timedelta(weeks=12), "month": timedelta(days=366)}
PLACEMENT_QUALITY_PERIOD = timedelta(days=30)
TIER_LABELS = dict(Tier.choices)


# --- shared helpers --------------------------------------------------------------------------


def _is_staff(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_staff_role or user.is_superuser))


@dataclass(frozen=True)
class Clock:
    """The 7135 clock as the pages show it (the countdowns tick in static/js/petitions.js)."""

    is_open: bool
    tier: str
    due_at: datetime | None
    is_overdue: bool
    arrival_due_at: datetime | None
    arrived_at: datetime | None
    arrival_missed: bool

    @property
    def is_awaiting_arrival(self) -> bool:
        return self.is_open and self.arrived_at is None and self.arrival_due_at is not None


def clock_for(petition: Petition, now: datetime | None = None) -> Clock:
    moment = now or timezone.now()
    return Clock(is_open=petition.is_open, tier=petition.get_tier_display(),
                 due_at=petition.due_at, is_overdue=policy.is_overdue(petition, moment),
                 arrival_due_at=petition.arrival_due_at, arrived_at=petition.arrived_at,
                 arrival_missed=policy.is_arrival_missed(petition, moment))


def answer_rows(petition: Petition) -> list[tuple[str, str]]:
    """The answers to the category's extra questions, labelled by the questions."""
    labels = {str(item.get("key")): str(item.get("label"))
              for item in petition.category.extra_questions or [] if isinstance(item, dict)}
    return [(labels.get(key, key), str(value)) for key, value in (petition.answers or {}).items()]


def _actor_label(event: Any, petition: Petition) -> str:
    return selectors.petition_event_actor_label(event=event, petition=petition) or ""


def _status_context(request: HttpRequest, petition: Petition) -> dict[str, Any]:
    timeline = list(selectors.petition_timeline(user=request.user, petition=petition))
    for event in timeline:
        event.to_tier_label = TIER_LABELS.get(event.to_tier, "")  # type: ignore[attr-defined]
        event.actor_label = _actor_label(event, petition)  # type: ignore[attr-defined]
    return {"petition": petition, "clock": clock_for(petition), "timeline": timeline,
            "is_staff_view": _is_staff(request.user), "answers": answer_rows(petition)}


def _login_redirect(request: HttpRequest, url_name: str) -> HttpResponse:
    return redirect(f"{reverse(url_name)}?{urlencode({'next': request.get_full_path()})}")


# --- residents -------------------------------------------------------------------------------


def _is_verified_resident(user: Any) -> bool:
    return bool(user.is_authenticated and user.role == Role.RESIDENT and user.phone)


class ResidentView(View):
    """A resident signed in with a verified phone; others are sent to the phone sign-in."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return _login_redirect(request, "accounts:phone-login")
        if not _is_verified_resident(request.user):
            raise Http404(_("该页面仅供居民使用。"))
        return super().dispatch(request, *args, **kwargs)

    def own_petition(self, pk: int) -> Petition:
        petition = selectors.petition_get_for_user(user=self.request.user, petition_id=pk)
        if not rules.is_owner(self.request.user, petition):
            raise Http404(_("诉求不存在。"))
        return petition


class PetitionMineListView(View):
    """/petitions/: a resident's own petitions; staff go to their queue; others see a landing."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if _is_staff(request.user):
            return redirect("petitions:staff-queue")
        if not _is_verified_resident(request.user):
            return render(request, "petitions/landing.html")
        petitions = list(selectors.petition_list(user=request.user)
                         .filter(submitter_id=request.user.pk))
        rows = [(petition, clock_for(petition)) for petition in petitions]
        return render(request, "petitions/mine.html", {"rows": rows})


def _home_initial(user: User) -> dict[str, Any]:
    household = household_list(user=user).first()
    if household is None:
        return {}
    return {"compound": household.building.compound_id, "building": household.building_id,
            "unit": household.unit_id, "household": household.pk}


def _plaque_initial(building_id: str) -> dict[str, Any]:
    """`?building=` from a building's QR plaque: the form opens on that building."""
    if not building_id.isdigit() or len(building_id) > 15:
        return {}
    building = building_list().filter(pk=int(building_id)).first()
    if building is None:
        return {}
    return {"compound": building.compound_id, "building": building.pk}


def _contact_name(user: User) -> str:
    if user.display_name:
        return user.display_name
    record = user.residents.order_by("id").first()
    return record.name if record is not None else ""


class PetitionCreateView(ResidentView):
    """The resident's form. Photos are kept across a refused submit: each one sent is
    re-encoded and held at once (petitions.pending_photos), shown back as 已上传, and attached
    when the form goes through."""

    template_name = "petitions/create.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = (_plaque_initial(request.GET.get("building", ""))
                   or _home_initial(request.user))
        form = petition_forms.PetitionSubmitForm(user=request.user, initial=initial)
        return self._render(request, form)

    def _render(self, request: HttpRequest, form: forms.Form, status: int = 200,
                held: list[PendingPhoto] | None = None) -> HttpResponse:
        context = {"form": form, "masked_phone": mask_phone(request.user.phone),
                   "held_photos": pending_photos.pending_photo_thumbnails(held or [])}
        return render(request, self.template_name, context, status=status)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = petition_forms.PetitionSubmitForm(request.POST, request.FILES, user=request.user)
        form.is_valid()
        held = self._hold(request, form)
        if form.errors:
            return self._render(request, form, status=400, held=held)
        try:
            petition = self._submit(request.user, form, held)
        except ValidationError as error:
            is_photo = error.code in PHOTO_ERROR_CODES if hasattr(error, "code") else False
            form.add_error("photos" if is_photo else None, error_text(error))
            held = pending_photos.pending_photo_list(actor=request.user,
                                                     tokens=[photo.token for photo in held])
            return self._render(request, form, status=400, held=held)
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self._render(request, form, status=400, held=held)
        messages.success(request, _("诉求已受理（编号 %(id)s），请留意办理进度。")
                         % {"id": petition.pk})
        return redirect("petitions:detail", pk=petition.pk)

    def _hold(self, request: HttpRequest, form: forms.Form) -> list[PendingPhoto]:
        """The photos kept before (the ticked boxes) and those sent now, held for this
        resident; a bad or a fourth photo is an error on the photo field."""
        held = pending_photos.pending_photo_list(actor=request.user,
                                                 tokens=request.POST.getlist("held_photo"))
        if "photos" in form.errors:  # more than 3 files at once: none is kept
            return held
        uploads = form.cleaned_data.get("photos") or []
        if len(held) + len(uploads) > MAX_PHOTOS:
            form.add_error("photos", _("最多上传 %(count)s 张照片。") % {"count": MAX_PHOTOS})
            return held
        result = pending_photos.pending_photos_hold(actor=request.user, photos=uploads)
        for error in result.errors:
            form.add_error("photos", error_text(error))
        return held + result.photos

    def _submit(self, user: User, form: petition_forms.PetitionSubmitForm,
                held: list[PendingPhoto]) -> Petition:
        data = form.cleaned_data
        return services.petition_submit(
            actor=user, category=data["category"], description=data["description"],
            channel=Petition.Channel.MOBILE_WEB, household=data.get("household"),
            building=data.get("building"), location_text=data.get("location_text", ""),
            unit_number=data["unit"].number if data.get("unit") else "",
            held_photos=held,
            contact_name="" if data.get("is_anonymous") else _contact_name(user),
            is_anonymous=bool(data.get("is_anonymous")),
            contact_phone=user.phone or "", is_public=bool(data.get("is_public")),
            answers=form.answers,
        )


class PetitionMineDetailView(ResidentView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        petition = self.own_petition(pk)
        duplicates = selectors.petition_duplicates(category_id=petition.category_id,
                                                   building_id=petition.building_id,
                                                   exclude_id=petition.pk).count()
        context = _status_context(request, petition) | {
            "duplicates": duplicates,
            "contact_phone": selectors.petition_contact_phone_for(user=request.user,
                                                                  petition=petition),
            "rate_form": petition_forms.RateForm()
            if petition.state == PetitionState.VERIFIED else None,
            "can_reopen": petition.state == PetitionState.RATED and petition.reopened_count == 0,
            "reopen_form": petition_forms.ReasonForm(),
        }
        return render(request, "petitions/detail.html", context)


class PetitionStatusView(View):
    """The polled part of a detail page (clock + timeline), for the owner and for staff."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.is_authenticated:
            raise Http404(_("诉求不存在。"))
        petition = selectors.petition_get_for_user(user=request.user, petition_id=pk)
        if not (_is_staff(request.user) or rules.is_owner(request.user, petition)):
            raise Http404(_("诉求不存在。"))
        return render(request, "petitions/_status.html", _status_context(request, petition))


class ResidentActionView(ResidentView, ActionView):
    """POST only: the resident's own petition, one service, back to its page."""

    http_method_names = ["post"]
    form_class: type[forms.Form] | None = petition_forms.ReasonForm

    def load(self, **kwargs: Any) -> Petition:
        return self.own_petition(kwargs["pk"])

    def redirect_to(self, obj: Petition) -> str:
        return reverse("petitions:detail", args=[obj.pk])


class PetitionRateView(ResidentActionView):
    form_class = petition_forms.RateForm

    success_message = _lazy("感谢您的评价。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Petition:
        return services.petition_rate(petition_id=petition.pk, actor=self.request.user,
                                      rating=data["rating"], comment=data.get("comment", ""))


class PetitionReopenView(ResidentActionView):
    form_class = petition_forms.ReasonForm

    success_message = _lazy("已申请重办，诉求已退回承办人。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Petition:
        return services.petition_reopen(petition_id=petition.pk, actor=self.request.user,
                                        reason=data["reason"])


# --- the submit form's htmx partials -----------------------------------------------------------

CASCADE = ("compound", "building", "unit", "household")


def location_picker_response(request: HttpRequest, form_class: Any) -> HttpResponse:
    """The cascading location selects of `form_class`, re-rendered when one changes (the levels
    below it are reset). The resident's form and the staff intake form share it."""
    changed = request.headers.get("HX-Trigger-Name", "")
    values: dict[str, Any] = {}
    for name in CASCADE:
        values[name] = request.GET.get(name, "")
        if name == changed:
            break
    form = form_class(user=request.user, initial=values)
    response = render(request, "petitions/_location.html", {"form": form})
    response["HX-Trigger"] = "location-changed"
    return response


def questions_response(request: HttpRequest, form_class: Any) -> HttpResponse:
    """The chosen category's extra questions, as `form_class` asks them."""
    form = form_class(user=request.user, initial={"category": request.GET.get("category", "")})
    return render(request, "petitions/_questions.html", {"form": form})


class PetitionLocationPickerView(ResidentView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return location_picker_response(request, petition_forms.PetitionSubmitForm)


class PetitionQuestionsView(ResidentView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return questions_response(request, petition_forms.PetitionSubmitForm)


class PetitionDuplicatesView(ResidentView):
    """The duplicate hint: open petitions of this category in this building (no details)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        category = _int_or_none(request.GET.get("category"))
        building = _int_or_none(request.GET.get("building"))
        duplicates: list[Petition] = []
        if category is not None and building is not None:
            duplicates = list(selectors.petition_duplicates(category_id=category,
                                                            building_id=building)[:20])
        return render(request, "petitions/_duplicates.html", {"duplicates": duplicates})


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- the public page -------------------------------------------------------------------------


def public_text(text: str) -> str:
    """Digit runs (phones, room numbers) are starred on the public page."""
    return selectors.petition_public_text(text)


@dataclass(frozen=True)
class PublicRow:
    category: str
    place: str
    description: str
    resolution: str
    submitted_at: datetime
    resolved_at: datetime | None
    resolved_on_time: bool | None
    tier: str


def public_row(petition: Petition) -> PublicRow:
    """Anonymised: no names, phones or rooms; the building at most; the text only if public."""
    place = str(petition.building) if petition.building_id is not None else _("辖区内")
    description = (public_text(petition.description) if petition.is_public
                   else _("（诉求人未同意公开诉求内容）"))
    return PublicRow(category=petition.category.name, place=place, description=description,
                     resolution=public_text(petition.resolution),
                     submitted_at=petition.submitted_at, resolved_at=petition.resolved_at,
                     resolved_on_time=petition.resolved_on_time,
                     tier=petition.get_resolved_tier_display() or petition.get_tier_display())


class PetitionPublicListView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        paginator = Paginator(selectors.petition_public_list(), PUBLIC_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        rows = [public_row(petition) for petition in page.object_list]
        return render(request, "petitions/public.html", {"page": page, "rows": rows})


# --- staff dashboard -------------------------------------------------------------------------


class StaffView(StaffRequiredMixin, View):
    """Staff only; the roles allowed are STAFF_PERMISSIONS[<view class name>]."""

    denied_message = _lazy("页面不存在。")

    def allowed_roles(self) -> frozenset[str]:
        return STAFF_PERMISSIONS[type(self).__name__]

    def handle_no_login(self, request: HttpRequest) -> HttpResponseBase:
        return _login_redirect(request, "accounts:login")


def _staff_rows(petitions: QuerySet[Petition]) -> list[tuple[Petition, Clock]]:
    now = timezone.now()
    return [(petition, clock_for(petition, now)) for petition in petitions]


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


def stats_rows(rates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table: each rate with its sample size next to it."""
    rows = []
    for item in rates:
        on_time = [(Tier(tier).label, _percent(value["rate"]), value["sample"])
                   for tier, value in item["on_time_rate"].items()]
        rows.append({
            "period": item["period"], "submitted": item["submitted"],
            "response": (_percent(item["response_rate"]), item["response_sample"]),
            "resolution": (_percent(item["resolution_rate"]), item["resolution_sample"]),
            "satisfaction": (_percent(item["satisfaction_rate"]), item["satisfaction_sample"]),
            "on_time": on_time,
        })
    return rows


def stats_chart(rates: list[dict[str, Any]], *, by: str = "week") -> dict[str, Any]:
    """The ECharts feed: every period's first day on a time axis (the chart places each point
    by its date), rates in percent or None where a period has no sample (a gap in the line),
    samples alongside for the tooltip."""
    def series(key: str) -> list[float | None]:
        return [None if item[key] is None else round(item[key] * 100, 1) for item in rates]

    chart: dict[str, Any] = {
        "axis": "time", "by": by,
        "periods": [item["period"].isoformat() for item in rates],
        "series": [
            {"name": _("响应率"), "data": series("response_rate"),
             "samples": [item["response_sample"] for item in rates]},
            {"name": _("办结率"), "data": series("resolution_rate"),
             "samples": [item["resolution_sample"] for item in rates]},
            {"name": _("满意率"), "data": series("satisfaction_rate"),
             "samples": [item["satisfaction_sample"] for item in rates]},
        ],
    }
    for tier in Tier:
        chart["series"].append({
            "name": _("按时办结率（%(tier)s）") % {"tier": tier.label},
            "data": [None if item["on_time_rate"][tier.value]["rate"] is None
                     else round(item["on_time_rate"][tier.value]["rate"] * 100, 1)
                     for item in rates],
            "samples": [item["on_time_rate"][tier.value]["sample"] for item in rates],
        })
    return chart


class PetitionStatsView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        form = petition_forms.StatsForm(request.GET)
        by = form.cleaned_data["by"] if form.is_valid() else "week"
        end = timezone.now() + timedelta(days=1)
        start = end - STATS_PERIODS[by]
        rates = selectors.rates_every_period(
            selectors.petition_rates(user=request.user, start=start, end=end, by=by),
            first=timezone.localdate(start), last=timezone.localdate(), by=by)
        context = {"form": form, "by": by, "rows": stats_rows(rates),
                   "chart": stats_chart(rates, by=by), "active": "stats"}
        return render(request, "petitions/staff/stats.html", context)


def _scope_staff(user: User) -> QuerySet[User]:
    """Active staff inside the user's scope: the holder choices of dispatch and reroute."""
    staff = User.objects.filter(is_active=True, role__in=ALL_STAFF).select_related("scope_area")
    prefix = scope_path(user)
    if prefix:
        staff = staff.filter(scope_area__path__startswith=prefix)
    return staff.order_by("role", "username")


def _scope_buildings(user: User) -> QuerySet[Any]:
    prefix = scope_path(user)
    buildings = building_list()
    if prefix:
        buildings = buildings.filter(micro_grid__path__startswith=prefix)
    return buildings


def _scope_micro_grids(user: User) -> QuerySet[Area]:
    return Area.objects.filter(kind=Area.Kind.MICROGRID,
                               path__startswith=scope_path(user) or "").order_by("path")


def staff_actions(user: User, petition: Petition) -> dict[str, bool]:
    """Which action forms to show (the services still decide)."""
    state = petition.state
    is_holder = rules.is_holder(user, petition)
    can_handle = rules.can_handle(user, petition)
    is_dispatcher = rules.is_dispatcher(user, petition)
    is_open = petition.is_open
    return {
        "check_in": is_holder and state == PetitionState.DISPATCHED,
        "note": can_handle and state not in (PetitionState.CLOSED, PetitionState.REJECTED),
        "resolve": can_handle and state in (PetitionState.DISPATCHED, PetitionState.ON_SITE),
        "verify": rules.is_handler_staff(user, petition) and state == PetitionState.RESOLVED
        and not rules.is_resolver(user, petition),
        "return": is_holder and state in (PetitionState.DISPATCHED, PetitionState.ON_SITE),
        "escalate": can_handle and is_open and petition.tier != Tier.STREET,
        "dispatch": is_dispatcher and state in (PetitionState.SUBMITTED, PetitionState.REOPENED),
        "reroute": is_dispatcher and state == PetitionState.RETURNED,
        "refer": rules.is_handler_staff(user, petition)
        and state in (PetitionState.SUBMITTED, PetitionState.DISPATCHED, PetitionState.ON_SITE,
                      PetitionState.RETURNED),
        "reject": is_dispatcher and state in (PetitionState.SUBMITTED, PetitionState.RETURNED),
        "close": rules.is_handler_staff(user, petition)
        and (state == PetitionState.RATED
             or (state == PetitionState.VERIFIED
                 and rules.rating_window_passed(petition, timezone.now()))),
        "place": is_dispatcher and state == PetitionState.SUBMITTED and petition.holder_id is None,
        "callback": state == PetitionState.VERIFIED
        and rules.may_record_callback(user, petition, timezone.now()),
    }


class PetitionStaffDetailView(StaffView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        petition = selectors.petition_get_for_user(user=request.user, petition_id=pk)
        actions = staff_actions(request.user, petition)
        context = _status_context(request, petition) | {
            "actions": actions,
            "contact_name": petition.contact_name or _("匿名"),
            "contact_phone": selectors.petition_contact_phone_for(user=request.user,
                                                                  petition=petition),
            "contact_revealable": selectors.petition_contact_revealable(user=request.user,
                                                                        petition=petition),
            "photos": list(petition.photos.all()),
            "forms": self._forms(request.user, petition, actions),
            "duplicates": selectors.petition_duplicates_for_user(user=request.user,
                                                                 petition=petition),
        }
        return render(request, "petitions/staff/detail.html", context)

    def _forms(self, user: User, petition: Petition,
               actions: dict[str, bool]) -> dict[str, forms.Form]:
        resolve = petition_forms.ResolveForm(
            has_arrived=petition.arrived_at is not None,
            photo_required=petition.category.requires_result_photo)
        built: dict[str, forms.Form] = {
            "note": petition_forms.NoteForm(), "resolve": resolve,
            "verify": petition_forms.VerifyForm(), "reason": petition_forms.ReasonForm(),
            "note_only": petition_forms.NoteOnlyForm(), "refer": petition_forms.ReferForm(),
            "callback": petition_forms.CallbackForm(),
        }
        if actions["dispatch"]:
            built["dispatch"] = petition_forms.DispatchForm(holders=_scope_staff(user))
        if actions["reroute"]:
            built["reroute"] = petition_forms.RerouteForm(buildings=_scope_buildings(user),
                                                          holders=_scope_staff(user))
        if actions["place"]:
            built["place"] = petition_forms.PlaceForm(buildings=_scope_buildings(user),
                                                      micro_grids=_scope_micro_grids(user))
        # One reason form per action that asks for one, and ids of each form's own: a label
        # names its own field only when no other form on the page reuses the id (WCAG 1.3.1).
        built.update(back=petition_forms.ReasonForm(), escalate=petition_forms.ReasonForm(),
                     reject=petition_forms.ReasonForm())
        for key, form in built.items():
            if key != "resolve":  # the first form on the page keeps Django's ids
                form.auto_id = f"id_{key}_%s"
        return built


class StaffActionView(StaffView, ActionView):
    """POST only: the petition as the user may see it (404), one service, back to its page."""

    http_method_names = ["post"]

    def load(self, **kwargs: Any) -> Petition:
        return selectors.petition_get_for_user(user=self.request.user, petition_id=kwargs["pk"])

    def redirect_to(self, obj: Petition) -> str:
        return reverse("petitions:staff-detail", args=[obj.pk])


class PetitionCheckInView(StaffActionView):
    success_message = _lazy("已签到，到场时间已记录。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_check_in(petition_id=petition.pk, actor=self.request.user)


class PetitionNoteCreateView(StaffActionView):
    form_class = petition_forms.NoteForm
    success_message = _lazy("办理记录已添加。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_add_note(
            petition_id=petition.pk, actor=self.request.user, note=data.get("note", ""),
            photos=data.get("photos") or [],
            is_internal=data.get("visibility") != petition_forms.NoteForm.RESIDENT)


class PetitionResolveView(StaffActionView):
    form_class = petition_forms.ResolveForm
    success_message = _lazy("已办结，等待核实。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_resolve(petition_id=petition.pk, actor=self.request.user,
                                         resolution=data["resolution"],
                                         photos=data.get("photos") or [],
                                         no_visit_reason=data.get("no_visit_reason") or "",
                                         no_visit_note=data.get("no_visit_note") or "")


class PetitionVerifyView(StaffActionView):
    form_class = petition_forms.VerifyForm
    success_message = _lazy("核实结果已记录。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_verify(petition_id=petition.pk, actor=self.request.user,
                                        accepted=data["accepted"], note=data.get("note", ""))


class PetitionReturnView(StaffActionView):
    form_class = petition_forms.ReasonForm
    success_message = _lazy("已退回社区派单员。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_return(petition_id=petition.pk, actor=self.request.user,
                                        reason=data["reason"])


class PetitionEscalateView(StaffActionView):
    form_class = petition_forms.ReasonForm
    success_message = _lazy("已升级到上一层级。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_escalate_by_hand(petition_id=petition.pk,
                                                  actor=self.request.user, reason=data["reason"])


class PetitionRejectView(StaffActionView):
    form_class = petition_forms.ReasonForm
    success_message = _lazy("已不予受理，原因将告知居民。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_reject(petition_id=petition.pk, actor=self.request.user,
                                        reason=data["reason"])


class PetitionReferView(StaffActionView):
    form_class = petition_forms.ReferForm
    success_message = _lazy("已转议事。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        # The topic and the petition's move are one transaction in the deliberation service
        # (core.referral's referrer), so a referral from here always lands on the agenda.
        return referrer()(
            petition_id=petition.pk, actor=self.request.user, title=data.get("title", ""),
            description=data.get("description", ""), note=data.get("note", ""))


class PetitionCloseView(StaffActionView):
    form_class = petition_forms.NoteOnlyForm
    success_message = _lazy("诉求已关闭。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_close(petition_id=petition.pk, actor=self.request.user,
                                       note=data.get("note", ""))


class PetitionDispatchView(StaffActionView):
    success_message = _lazy("已派单。")

    def make_form(self, obj: Petition) -> forms.Form:
        user = self.request.user
        return petition_forms.DispatchForm(self.request.POST, holders=_scope_staff(user))

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_dispatch(petition_id=petition.pk, actor=self.request.user,
                                          holder=data["holder"], note=data.get("note", ""))


class PetitionRerouteView(StaffActionView):
    success_message = _lazy("已改派。")

    def make_form(self, obj: Petition) -> forms.Form:
        user = self.request.user
        return petition_forms.RerouteForm(self.request.POST, buildings=_scope_buildings(user),
                                          holders=_scope_staff(user))

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_reroute(petition_id=petition.pk, actor=self.request.user,
                                         building=data.get("building"),
                                         holder=data.get("holder"), note=data.get("note", ""))



class PetitionPlaceView(StaffActionView):
    """待分派 → a building or a micro-grid, then dispatched to its worker: one POST."""

    success_message = _lazy("已定位。")

    def make_form(self, obj: Petition) -> forms.Form:
        user = self.request.user
        return petition_forms.PlaceForm(self.request.POST, buildings=_scope_buildings(user),
                                        micro_grids=_scope_micro_grids(user))

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        building, area = data.get("building"), data.get("area")
        return dispatch_queue.petition_place(
            petition_id=petition.pk, actor=self.request.user,
            building_id=building.pk if building is not None else None,
            area_id=area.pk if area is not None else None, note=data.get("note", ""))
