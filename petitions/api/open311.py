"""Open311 GeoReport v2 at /open311/v2/ (http://wiki.open311.org/GeoReport_v2).

Plain Django views: the standard fixes its own shapes (XML mandatory, JSON optional, errors as a
list of {code, description}), which DRF's negotiation and error handler would only fight.
The format is the URL's extension. Categories are the services; a petition is a service request.

Who sees what: a key sees whole the requests its scope covers (petitions.rules). Everyone else
(no key, or a key outside its scope) sees what the 公示 page shows, no more: resolved requests
only, the text only if public and with its digit runs starred, the building at most.
POST requires `api_key` (form body, or the `Authorization: Api-Key` header) and creates through
petitions.services.petition_submit. A key in the query string is refused: it would be logged.
The request is created at once, so a POST answers its `service_request_id` and no token (the
spec: a token only when the id is not known yet); `tokens/{token}` still answers for the tokens
handed out before. `media_url` is the first photo the resident sent with a request whose text is
public, at a URL anyone may open (petitions.views.public), for every caller alike.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, ExpressionWrapper, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from accounts.api.authentication import KEYWORD, api_key_user
from accounts.api.throttles import ApiKeyRateThrottle, ClientIpRateThrottle, CountingRateThrottle
from accounts.models import User
from core import dates
from core.exceptions import ApplicationError
from petitions import rules, selectors, services
from petitions.models import Category, Petition, PetitionEvent
from petitions.notify import OPEN311_CLOSED_STATES, open311_status
from territory.models import Building, building_label

WINDOW = timedelta(days=90)
MAX_REQUESTS = 200  # rows per GET requests.{fmt} (the spec lets a server cap the answer)
MAX_UPDATES = 1000
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
OPEN_CHANNELS = frozenset(
    {Petition.Channel.HOTLINE_12345, Petition.Channel.SUSUBAN, Petition.Channel.API}
)
# What a request's row reads: fetching only these keeps a 200-row answer cheap on the wire.
REQUEST_VALUES = (
    "id", "state", "is_public", "description", "location_text", "latitude", "longitude",
    "rejection_reason", "resolution", "submitted_at", "updated_at", "due_at", "category_id",
    "category__name", "area__name", "building_id", "building__number",
    "building__compound__name", "has_public_photo", "is_full",
)
# Characters XML 1.0 cannot carry at all, even escaped.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The element name of one item of each XML list.
XML_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_request_updates": "request_update",
    "errors": "error",
}


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- rendering -------------------------------------------------------------------------------


def w3c(value: datetime | None, zone: tzinfo | None = None) -> str | None:
    if value is None:
        return None
    return value.astimezone(zone or timezone.get_current_timezone()).isoformat(
        timespec="seconds")


def _xml_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # Every character XML_INVALID matches is unprintable; isprintable() is the cheap test.
    return text if text.isprintable() else XML_INVALID.sub("", text)


def _xml_escape(text: str) -> str:
    # What ElementTree escapes in element text: &, <, > (no attributes are written).
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _xml_leaf(tag: str, value: Any) -> str:
    text = _xml_text(value)
    return f"<{tag}>{_xml_escape(text)}</{tag}>" if text else f"<{tag} />"


def _xml_write(parts: list[str], tag: str, value: Any) -> None:
    """Append `value` as element `tag`, written as ElementTree.tostring would write it (an
    empty element as `<tag />`) without building the tree: 200 requests are 3,600 elements."""
    if isinstance(value, Mapping):
        children: Iterable[tuple[str, Any]] = value.items()
    elif isinstance(value, list):
        item_tag = XML_ITEMS.get(tag, "item")
        children = [(item_tag, child) for child in value]
    else:
        parts.append(_xml_leaf(tag, value))
        return
    start = len(parts)
    parts.append(f"<{tag}>")
    for child_tag, child in children:
        if isinstance(child, Mapping | list):
            _xml_write(parts, child_tag, child)
        else:
            parts.append(_xml_leaf(child_tag, child))
    if len(parts) == start + 1:
        parts[start] = f"<{tag} />"
    else:
        parts.append(f"</{tag}>")


def render(fmt: str, root: str, payload: Any, *, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        parts = ['<?xml version="1.0" encoding="utf-8"?>\n']
        _xml_write(parts, root, payload)
        body = "".join(parts)
        return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])
    # UTF-8, the characters as they are (as json.dumps with ensure_ascii=False), no spaces.
    return HttpResponse(orjson.dumps(payload, default=str), status=status,
                        content_type=CONTENT_TYPES[fmt])


def render_error(fmt: str, status: int, description: str) -> HttpResponse:
    return render(fmt, "errors", [{"code": status, "description": description}], status=status)


def open311_view(methods: Iterable[str]) -> Callable[..., Callable[..., HttpResponse]]:
    """Method check, per-key / per-IP throttle and Open311 errors for one view."""
    allowed = frozenset(methods)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt  # POST is authorised by api_key in the body, never by a cookie
        @sensitive_post_parameters("api_key")  # kept out of error reports
        def wrapper(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in allowed:
                    raise Open311Error(405, _("不支持该请求方法。"))
                _throttle(request)
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                response = render_error(fmt, error.status, error.description)
                if error.status == 405:
                    response["Allow"] = ", ".join(sorted(allowed))
                return response

        wrapper.__name__ = view.__name__
        wrapper.__doc__ = view.__doc__
        return wrapper

    return decorate


# --- keys and throttles ----------------------------------------------------------------------


class _KeyThrottle(ApiKeyRateThrottle):
    def get_cache_key(self, request: Any, view: Any) -> str | None:
        key = getattr(request, "open311_key", None)
        if key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.pk}


class _AnonThrottle(CountingRateThrottle, ClientIpRateThrottle):
    scope = "anon"


def _raw_key(request: HttpRequest) -> str:
    """The key from the Authorization header or a POST's form body (never the query string,
    which every proxy and server writes to its access log)."""
    if any(name.lower() == "api_key" for name in request.GET):
        raise Open311Error(400, _(
            "api_key 不能放在网址的查询参数中（会被记入访问日志）。请使用请求头 "
            "Authorization: Api-Key <密钥>，或在 POST 表单中提交；已暴露的密钥请申请更换。"))
    header = request.headers.get("Authorization", "")
    if header.startswith(f"{KEYWORD} "):
        return header[len(KEYWORD) + 1 :].strip()
    source = request.POST if request.method == "POST" else {}
    return (source.get("api_key") or "").strip()


def _authenticate(request: HttpRequest) -> User | None:
    """The system behind the request's key; None without a key; 403 for a wrong key."""
    if hasattr(request, "open311_user"):
        return request.open311_user  # type: ignore[no-any-return]
    raw = _raw_key(request)
    found = api_key_user(raw) if raw else None
    if raw and found is None:
        raise Open311Error(403, _("api_key 无效。"))
    request.open311_user, request.open311_key = found or (None, None)  # type: ignore[attr-defined]
    return request.open311_user  # type: ignore[attr-defined,no-any-return]


def _throttle(request: HttpRequest) -> None:
    user = _authenticate(request)
    throttle: _KeyThrottle | _AnonThrottle = _KeyThrottle() if user else _AnonThrottle()
    if not throttle.allow_request(request, None):  # type: ignore[arg-type]
        raise Open311Error(429, _("请求过于频繁，请稍后再试。"))


def _require_key(request: HttpRequest) -> User:
    user = _authenticate(request)
    if user is None:
        raise Open311Error(403, _("缺少 api_key。"))
    return user


# --- tokens ----------------------------------------------------------------------------------


def request_token(petition_id: int) -> str:
    """A stable token for a created request: the id and a keyed digest (nothing stored)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"open311-token:{petition_id}".encode(), hashlib.sha256
    ).hexdigest()[:16]
    return f"{petition_id}-{digest}"


def _token_petition_id(token: str) -> int | None:
    head, _sep, _digest = token.partition("-")
    if not head.isdigit() or len(head) > 15:
        return None
    petition_id = int(head)
    # Bytes: compare_digest raises TypeError on str with non-ASCII characters.
    matches = hmac.compare_digest(request_token(petition_id).encode(), token.encode())
    return petition_id if matches else None


# --- discovery and services ------------------------------------------------------------------


@open311_view(["GET"])
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Where the endpoint is and what it speaks."""
    url = request.build_absolute_uri(reverse("open311-discovery", kwargs={"fmt": fmt}))
    payload = {
        "changeset": "2026-11-28T00:00:00+08:00",
        "contact": _("长江路街道办事处 有事您说话平台"),
        "key_service": _("向街道管理员申请 API 密钥（manage.py create_api_key）"),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": url.rsplit("/", 1)[0],
                "changeset": "2026-11-28T00:00:00+08:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", payload)


def _service_row(category: Category) -> dict[str, Any]:
    return {
        "service_code": str(category.pk),
        "service_name": category.name,
        "description": category.name,
        "metadata": bool(category.extra_questions),
        "type": "realtime",
        "keywords": "",
        "group": category.parent.name if category.parent is not None else "",
    }


def _active_categories() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).select_related("parent")


@open311_view(["GET"])
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    """Categories as services."""
    return render(fmt, "services", [_service_row(category) for category in _active_categories()])


def _category_for_code(code: str) -> Category:
    category = (
        _active_categories().filter(pk=int(code)).first()
        if code.isdigit() and len(code) <= 15
        else None
    )
    if category is None:
        raise Open311Error(404, _("服务代码 %(code)s 不存在。") % {"code": code[:20]})
    return category


@open311_view(["GET"])
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    """The category's extra questions as attributes."""
    category = _category_for_code(code)
    attributes = [
        {
            "variable": True,
            "code": str(question["key"]),
            "datatype": "string",
            "required": bool(question.get("required")),
            "datatype_description": "",
            "order": order,
            "description": str(question["label"]),
        }
        for order, question in enumerate(category.extra_questions, start=1)
    ]
    return render(
        fmt, "service_definition", {"service_code": str(category.pk), "attributes": attributes}
    )


# --- requests: reading -----------------------------------------------------------------------


def _requests_queryset(user: User | None) -> QuerySet[Petition]:
    """The petitions the caller may read, with `is_full` = the caller's scope covers it.

    Outside the scope (and without a key) only the 公示 page's petitions, shown as it shows them.
    """
    public = selectors.petition_public_q()
    queryset = Petition.objects.annotate(has_public_photo=ExpressionWrapper(
        selectors.petition_public_photo_q(), output_field=BooleanField()))
    if user is None:
        return queryset.filter(public).annotate(is_full=Value(False, BooleanField()))
    visible = rules.visibility_q(user)
    if not visible:  # Q(): the key sees everything
        return queryset.annotate(is_full=Value(True, BooleanField()))
    full = Case(When(visible, then=Value(True)), default=Value(False),
                output_field=BooleanField())
    return queryset.filter(visible | public).annotate(is_full=full)


def _texts(petition: Mapping[str, Any], address: str | None) -> tuple[str | None, str, str | None]:
    """Description, status notes and address: whole, or as the 公示 page (views.public_row)."""
    if not petition["is_full"]:
        description = (selectors.petition_public_text(petition["description"])
                       if petition["is_public"] else None)
        return description, selectors.petition_public_text(petition["resolution"]), address
    closed = petition["state"] in OPEN311_CLOSED_STATES
    notes = (petition["rejection_reason"] or petition["resolution"]) if closed else ""
    return petition["description"], notes, petition["location_text"] or address or ""


class _RowFormat:
    """What every row of one answer shares, looked up once: the zone, the building label's
    format and the public photo's URL around the id."""

    PLACEHOLDER = "987654321"

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.zone = timezone.get_current_timezone()
        self.number_format = gettext("%(number)s号楼")
        self._media_parts: list[str] | None = None

    def address(self, petition: Mapping[str, Any]) -> str | None:
        if petition["building_id"] is None:
            return None
        return building_label(compound_name=petition["building__compound__name"],
                              number=petition["building__number"], number_format=self.number_format)

    def media_url(self, petition: Mapping[str, Any]) -> str | None:
        if not petition["has_public_photo"]:
            return None
        if self._media_parts is None:
            url = reverse("petitions:public-photo", args=[int(self.PLACEHOLDER)])
            self._media_parts = self.request.build_absolute_uri(url).split(self.PLACEHOLDER)
        return str(petition["id"]).join(self._media_parts)


def _coordinate(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _request_row(petition: Mapping[str, Any], row_format: _RowFormat) -> dict[str, Any]:
    is_full = petition["is_full"]
    description, notes, address = _texts(petition, row_format.address(petition))
    zone = row_format.zone
    return {
        "service_request_id": str(petition["id"]),
        "status": open311_status(petition["state"]),
        "status_notes": notes,
        "service_name": petition["category__name"],
        "service_code": str(petition["category_id"]),
        "description": description,
        "agency_responsible": petition["area__name"],
        "service_notice": "",
        "requested_datetime": w3c(petition["submitted_at"], zone),
        "updated_datetime": w3c(petition["updated_at"], zone),
        "expected_datetime": w3c(petition["due_at"], zone),
        "address": address,
        "address_id": str(petition["building_id"]) if is_full and petition["building_id"] else None,
        "zipcode": None,
        "lat": _coordinate(petition["latitude"]) if is_full else None,
        "long": _coordinate(petition["longitude"]) if is_full else None,
        "media_url": row_format.media_url(petition),
    }


def request_rows(petitions: QuerySet[Petition], *, request: HttpRequest) -> list[dict[str, Any]]:
    """The service requests of `petitions` (from _requests_queryset), read as values() dicts:
    model instances for 200 rows (a petition, its category, area, building and compound each)
    cost more than the query."""
    row_format = _RowFormat(request)
    return [_request_row(petition, row_format) for petition in petitions.values(*REQUEST_VALUES)]


def _parse_moment(request: HttpRequest, name: str) -> datetime | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = parse_datetime(raw.replace(" ", "+"))  # a bare "+" in a query string is a space
    except ValueError:
        moment = None
    if moment is None:
        raise Open311Error(
            400, _("%(name)s 须为 W3C 日期时间，例如 2026-11-16T09:00:00+08:00。") % {"name": name}
        )
    if not dates.is_in_range(moment):  # 9999-12-31 overflows once shifted or widened: a 500
        raise Open311Error(400, _("%(name)s 须在 %(earliest)s 年至 %(latest)s 年之间。") % {
            "name": name, "earliest": dates.EARLIEST_YEAR, "latest": dates.LATEST_YEAR})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _window(request: HttpRequest) -> tuple[datetime, datetime]:
    start, end = _parse_moment(request, "start_date"), _parse_moment(request, "end_date")
    if end is None:
        end = timezone.now() if start is None else start + WINDOW
    if start is None:
        start = end - WINDOW
    if end < start:
        raise Open311Error(400, _("end_date 不能早于 start_date。"))
    if end - start > WINDOW:
        raise Open311Error(400, _("查询时间范围不能超过 90 天。"))
    return start, end


def _comma_list(request: HttpRequest, name: str) -> list[str]:
    return [value.strip() for value in request.GET.get(name, "").split(",") if value.strip()]


def _filtered_requests(request: HttpRequest, user: User | None) -> QuerySet[Petition]:
    queryset = _requests_queryset(user)
    ids = _comma_list(request, "service_request_id")
    if ids:  # the spec: with ids, every other parameter is ignored
        return queryset.filter(pk__in=[int(pk) for pk in ids if pk.isdigit() and len(pk) <= 15])
    start, end = _window(request)
    queryset = queryset.filter(submitted_at__gte=start, submitted_at__lte=end)
    codes = _comma_list(request, "service_code")
    if codes:
        queryset = queryset.filter(
            category_id__in=[int(code) for code in codes if code.isdigit() and len(code) <= 15]
        )
    statuses = set(_comma_list(request, "status"))
    if not statuses <= {"open", "closed"}:
        raise Open311Error(400, _("status 只能是 open 或 closed。"))
    if statuses == {"open"}:
        queryset = queryset.exclude(state__in=OPEN311_CLOSED_STATES)
    elif statuses == {"closed"}:
        queryset = queryset.filter(state__in=OPEN311_CLOSED_STATES)
    return queryset


@open311_view(["GET", "POST"])
def requests_endpoint(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET: search service requests. POST: create one (api_key required). One URL, by the spec."""
    if request.method == "POST":
        return request_create(request, fmt)
    return request_list(request, fmt)


def request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    user = _authenticate(request)
    petitions = _filtered_requests(request, user).order_by("-submitted_at", "-id")[:MAX_REQUESTS]
    return render(fmt, "service_requests", request_rows(petitions, request=request))


@open311_view(["GET"])
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    user = _authenticate(request)
    rows = (
        request_rows(_requests_queryset(user).filter(pk=int(request_id)), request=request)
        if len(request_id) <= 15
        else []
    )
    if not rows:
        raise Open311Error(404, _("服务请求 %(id)s 不存在。") % {"id": request_id[:20]})
    return render(fmt, "service_requests", rows)


@open311_view(["GET"])
def token_detail(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    petition_id = _token_petition_id(token)
    if petition_id is None or not Petition.objects.filter(pk=petition_id).exists():
        raise Open311Error(404, _("令牌不存在。"))
    return render(
        fmt, "service_requests", [{"service_request_id": str(petition_id), "token": token}]
    )


@open311_view(["GET"])
def update_list(request: HttpRequest, fmt: str) -> HttpResponse:
    """Status changes of the requests this key submitted, for systems that poll."""
    user = _require_key(request)
    start, end = _window(request)
    events = selectors.petition_events_for_external(user=user, since=start, until=end)
    return render(
        fmt, "service_request_updates", [_update_row(event) for event in events[:MAX_UPDATES]]
    )


def _update_row(event: PetitionEvent) -> dict[str, Any]:
    return {
        "update_id": str(event.pk),
        "service_request_id": str(event.petition_id),
        "status": open311_status(event.to_state or event.petition.state),
        "updated_datetime": w3c(event.created_at),
        # An internal note is the staff's: the update names the step alone.
        "description": event.resident_note or str(PetitionEvent.Kind(event.kind).label),
        "kind": event.kind,
        "media_url": None,
    }


# --- requests: creating ----------------------------------------------------------------------


def _decimal(raw: str, name: str, limit: int) -> Decimal | None:
    if not raw.strip():
        return None
    try:
        value = Decimal(raw.strip()).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or abs(value) > limit:
        raise Open311Error(400, _("%(name)s 不是有效的坐标。") % {"name": name})
    return value


def _answers(form: Mapping[str, str], category: Category) -> dict[str, Any]:
    answers = {
        key[len("attribute[") : -1]: value.strip()
        for key, value in form.items()
        if key.startswith("attribute[") and key.endswith("]")
    }
    for question in category.extra_questions:
        if question.get("required") and not answers.get(str(question["key"])):
            raise Open311Error(
                400,
                _("缺少必填属性 attribute[%(code)s]（%(label)s）。")
                % {"code": question["key"], "label": question["label"]},
            )
    media_url = form.get("media_url", "").strip()
    if media_url:
        answers["media_url"] = media_url[:500]
    return answers


def _submission(form: Mapping[str, str], user: User) -> dict[str, Any]:
    """The petition_submit arguments from an Open311 form body."""
    code = form.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _("缺少 service_code。"))
    try:
        category = _category_for_code(code)
    except Open311Error as error:  # in a POST an unknown code is bad input, not a missing page
        raise Open311Error(400, error.description) from None
    latitude = _decimal(form.get("lat", ""), "lat", 90)
    longitude = _decimal(form.get("long", ""), "long", 180)
    if (latitude is None) != (longitude is None):
        raise Open311Error(400, _("lat 与 long 须同时提供。"))
    address_id = form.get("address_id", "").strip()
    building = None
    if address_id:
        building = (
            Building.objects.select_related("micro_grid").filter(pk=int(address_id)).first()
            if address_id.isdigit() and len(address_id) <= 15
            else None
        )
        if building is None:
            raise Open311Error(400, _("address_id %(id)s 不存在。") % {"id": address_id[:20]})
    address = form.get("address_string", "").strip()[:200]
    if latitude is None and not address and building is None:
        raise Open311Error(400, _("须提供 lat/long、address_string 或 address_id 之一。"))
    if not address and building is None:
        address = _("坐标 %(lat)s, %(long)s") % {"lat": latitude, "long": longitude}
    channel = form.get("channel", "").strip() or Petition.Channel.API
    if channel not in OPEN_CHANNELS:
        raise Open311Error(400, _("channel 只能是 hotline_12345、susuban 或 api。"))
    name = f"{form.get('last_name', '').strip()}{form.get('first_name', '').strip()}"
    return {
        "actor": user,
        "category": category,
        "channel": channel,
        "building": building,
        "description": form.get("description", ""),
        "location_text": address,
        "latitude": latitude,
        "longitude": longitude,
        "contact_name": name[:50],
        "contact_phone": form.get("phone", "").strip()[:20],
        "answers": _answers(form, category),
        "external_ref": form.get("external_ref", "").strip()[:64] or None,
    }


def request_create(request: HttpRequest, fmt: str) -> HttpResponse:
    user = _require_key(request)
    arguments = _submission(request.POST, user)
    try:
        petition = services.petition_submit(**arguments)
    except ApplicationError as error:
        raise Open311Error(
            error.status_code if error.status_code == 403 else 400, error.message
        ) from None
    except ValidationError as error:
        raise Open311Error(400, " ".join(error.messages)) from None
    # Created synchronously: the id, and no token beside it (GeoReport v2 answers one of the two).
    payload = [{"service_request_id": str(petition.pk), "service_notice": "", "account_id": None}]
    # A retried external_ref gets the first request back: 200. The service says which; the clock
    # would call a retry that raced its original new.
    return render(fmt, "service_requests", payload, status=201 if petition.was_created else 200)


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    fmt = "xml" if path.endswith(".xml") or not path.endswith(".json") else "json"
    return render_error(fmt, 404, _("没有这个接口。"))
