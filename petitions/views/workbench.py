"""The staff workbench page (/petitions/staff/?tab=…): the seven queues of petitions.workbench,
with their counts, the filters and search of PetitionFilter, and the nearest deadline first.

The filters ride in the query string: the tab links and the pager keep them, the form shows
them. The old list URLs (overdue, due today, 待分派) answer with their tab, filters kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from core import memo
from core.audit import audit_event_record
from core.exceptions import ApplicationError
from core.models import AuditEvent
from core.scope import scope_path
from core.spreadsheets import csv_response, xlsx_response
from petitions import dispatch_queue, exports, selectors
from petitions.filters import PetitionFilter
from petitions.models import Category, Petition, PetitionState, Tier
from petitions.presentation import (
    WORKBENCH_ROW_FIELDS,
    percent,
    workbench_page_html,
)
from petitions.views.staff import (
    PLACEMENT_QUALITY_PERIOD,
    STAFF_PAGE_SIZE,
    StaffView,
)
from petitions.workbench import (
    TabCount,
    petition_workbench,
    workbench_tab,
    workbench_tab_labels,
)
from territory.models import building_label

OVERDUE_CHOICES = (("true", _lazy("已超时")), ("false", _lazy("未超时")))


if TYPE_CHECKING:
    PetitionPaginator = Paginator[dict[str, Any]]
else:  # the stubs' Paginator is generic; Django's is not subscriptable at run time
    PetitionPaginator = Paginator


class KnownCountPaginator(PetitionPaginator):
    """A Paginator told its count: the workbench's aggregate has counted the tab already."""

    def __init__(self, object_list: Sequence[dict[str, Any]], per_page: int, *,
                 count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


@dataclass(frozen=True)
class SelectField:
    name: str
    label: str | Promise
    options: list[tuple[str, str]]  # (value, text), both escaped
    value: str

    @property
    def options_html(self) -> SafeString:
        """The <option>s after 全部, the chosen one selected: ~45 options a page, written here
        rather than in the template's loop (≈ 200 node renders)."""
        chosen = escape(self.value)
        return mark_safe("".join(  # every value escaped by _select_options
            f'<option value="{value}"{" selected" if value == chosen else ""}>{text}</option>'
            for value, text in self.options))


def _tabs_html(tabs: Sequence[TabCount], tab: str, query: QueryDict) -> SafeString:
    """The tab links, each `{% querystring tab=… page=None %}` (the query copied once), the
    open one marked, the count after the label (red for 已超时 when there are any)."""
    params = query.copy()
    params.pop("page", None)
    links = []
    for item in tabs:
        params["tab"] = item.key
        active = item.key == tab
        current = ' aria-current="page"' if active else ""
        href = escape(f"?{params.urlencode()}")
        count = "" if item.count is None else (
            f' <span class="wb-count{" bad" if item.count and item.key == "overdue" else ""}">'
            f"{item.count}</span>")
        links.append(
            f'<a class="tab{" active" if active else ""}" href="{href}"{current}>'
            f"{escape(item.label)}{count}</a>\n  ")
    return mark_safe("".join(links))  # every value escaped


def _hidden_inputs_html(fields: Sequence[tuple[str, str]]) -> SafeString:
    return mark_safe("".join(  # every value escaped
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">\n  '
        for name, value in fields))


def _without_empty(query: QueryDict) -> QueryDict | None:
    """The query without the empty fields a GET form sends, or None when it has none."""
    if all(value != "" for _name, values in query.lists() for value in values):
        return None
    cleaned = QueryDict(mutable=True)
    for name, values in query.lists():
        kept = [value for value in values if value != ""]
        if kept:
            cleaned.setlist(name, kept)
    return cleaned


def _filter_errors(error: ValidationError) -> str:
    labels = {name: item.label for name, item in PetitionFilter.base_filters.items()}
    errors = getattr(error, "error_dict", None) or {"": error.error_list}
    parts = []
    for name, problems in errors.items():
        texts = "，".join(str(message) for item in problems for message in item)
        parts.append(f"{labels[name]}：{texts}" if name in labels else texts)
    return _("筛选条件有误：%(errors)s") % {"errors": "；".join(parts)}


# The filters' options (a scope's buildings, the categories) are remembered this long in each
# process (core.memo): a building added is offered within a minute.
FILTER_OPTIONS_SECONDS = 60


def _select_options(user: User) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(name, label, options) of each select of the filter form, labels and options escaped:
    the same for everyone with the user's scope, in the page's language."""
    categories = (Category.objects.filter(is_active=True).order_by("sort_order", "id")
                  .values_list("pk", "name"))
    buildings = (selectors.scope_building_list(user=user).select_related(None)
                 .order_by("compound__name", "number_sort", "number")
                 .values_list("pk", "number", "compound__name"))
    choices: list[tuple[str, str | Promise, Sequence[tuple[object, object]]]] = [
        ("state", _lazy("状态"), list(PetitionState.choices)),
        ("tier", _lazy("层级"), list(Tier.choices)),
        ("category", _lazy("分类"), list(categories)),
        ("building", _lazy("楼栋"), [(pk, building_label(compound_name=compound, number=number))
                                   for pk, number, compound in buildings]),
        ("channel", _lazy("渠道"), list(Petition.Channel.choices)),
        ("overdue", _lazy("超时"), list(OVERDUE_CHOICES)),
    ]
    # str() first: escape() of a lazy label stays lazy, translated again on every page.
    return [(name, escape(str(label)), [(escape(str(value)), escape(str(text)))
                                        for value, text in options])
            for name, label, options in choices]


def _selects_html(fields: Sequence[SelectField]) -> SafeString:
    """The form's selects, each labelled, 全部 first (the template's loop cost 0.3 ms a page)."""
    everything = escape(_("全部"))
    return mark_safe("".join(  # the labels and options escaped by _select_options
        f'<label>{field.label}\n        <select name="{field.name}"><option value="">'
        f"{everything}</option>{field.options_html}</select></label>\n      "
        for field in fields))


def _select_fields(user: User, query: QueryDict) -> list[SelectField]:
    options = memo.remembered(("workbench-filter-options", scope_path(user), get_language()),
                              lambda: _select_options(user), seconds=FILTER_OPTIONS_SECONDS)
    return [SelectField(name=name, label=mark_safe(label),  # escaped by _select_options
                        value=query.get(name, ""), options=choices)
            for name, label, choices in options]


class PetitionWorkbenchView(StaffView):
    template_name = "petitions/staff/workbench.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        cleaned = _without_empty(request.GET)
        if cleaned is not None:
            return redirect(f"{request.path}?{cleaned.urlencode()}")
        user = self.actor
        tab = workbench_tab(user=user, tab=request.GET.get("tab", ""))
        now = timezone.now()
        try:
            workbench = petition_workbench(user=user, tab=tab, filters=request.GET,
                                           now=now, fields=WORKBENCH_ROW_FIELDS)
        except ValidationError as error:
            return self._render(request, tab, error=_filter_errors(error), status=400)
        except ApplicationError as error:
            return self._render(request, tab, error=error.message, status=error.status_code)
        page = KnownCountPaginator(workbench.rows, STAFF_PAGE_SIZE, count=workbench.count).get_page(
            request.GET.get("page"))
        rows = list(page.object_list)  # the rows' values (WORKBENCH_ROW_FIELDS)
        return self._render(request, tab, tabs=workbench.tabs, page=page, rows=rows,
                            rows_html=workbench_page_html(rows, tab=tab, now=now))

    def _render(self, request: HttpRequest, tab: str, *, status: int = 200,
                error: str = "", **context: Any) -> HttpResponse:
        user = self.actor
        context.setdefault("tabs", workbench_tab_labels(user=user))
        context.setdefault("rows", [])
        labels = {item.key: str(item.label) for item in context["tabs"]}
        context |= {
            "tabs_html": _tabs_html(context["tabs"], tab, request.GET),
            "active": "queue", "tab": tab, "title": labels[tab], "error": error,
            "export_fields_html": _hidden_inputs_html(exports.export_query_items(
                [("tab", [tab]), *((name, values) for name, values in request.GET.lists()
                                   if name != "tab")])),
            "selects": (selects := _select_fields(user, request.GET)),
            "selects_html": _selects_html(selects),
            "submitted_after": request.GET.get("submitted_after", ""),
            "submitted_until": request.GET.get("submitted_until", ""),
            "q": request.GET.get("q", ""),
            "has_filters": any(name not in ("tab", "page", "q") for name in request.GET),
        }
        if tab == "dispatch" and not error:
            context |= self._placement_quality(user)
        return render(request, self.template_name, context, status=status)

    @staticmethod
    def _placement_quality(user: User) -> dict[str, Any]:
        end = timezone.now()
        quality = dispatch_queue.petition_placement_quality(
            user=user, start=end - PLACEMENT_QUALITY_PERIOD, end=end)
        return {"quality": quality, "automatic_share": percent(quality.automatic_share)}


class PetitionWorkbenchExportView(StaffView):
    """The tab the same query string shows on the page, as a CSV or an XLSX file.

    `contact=full` asks for whole contacts: written for the rows the exporter may reveal, with
    one audit row for the file. A query the page would refuse, or a list past the row limit,
    goes back to the page, which says why.
    """

    file_format = "csv"

    def get(self, request: HttpRequest) -> HttpResponseBase:
        user = self.actor
        query = _without_empty(request.GET) or request.GET
        tab = workbench_tab(user=user, tab=query.get("tab", ""))
        back = QueryDict(mutable=True)
        back.setlist("tab", [tab])
        for name, values in query.lists():
            if name not in ("tab", "contact"):
                back.setlist(name, values)
        page = f"{reverse('petitions:staff-queue')}?{back.urlencode()}"
        now = timezone.now()
        try:
            # 全部 counted up to the export's limit: past it the export is refused.
            workbench = petition_workbench(user=user, tab=tab, filters=query, now=now,
                                           all_count_cap=exports.EXPORT_ROW_LIMIT)
        except (ValidationError, ApplicationError):
            return redirect(page)
        if workbench.count > exports.EXPORT_ROW_LIMIT:
            messages.error(request, _("一次最多导出 %(limit)s 条，当前 %(count)s 条，"
                                      "请缩小筛选范围后再导出。")
                           % {"limit": exports.EXPORT_ROW_LIMIT, "count": workbench.count})
            return redirect(page)
        export = exports.petition_export(user=user, petitions=workbench.petitions, now=now,
                                         reveal=query.get("contact") == "full")
        if export.revealed:
            audit_event_record(
                action=AuditEvent.Action.EXPORT, object_type="petitions.petition",
                object_repr=f"{export.revealed} {Petition._meta.verbose_name_plural}",
                fields=exports.CONTACT_FIELDS, request=request)
        filename = f"petitions-{tab}-{timezone.localdate(now).isoformat()}.{self.file_format}"
        if self.file_format == "xlsx":
            title = {item.key: str(item.label) for item in workbench.tabs}[tab]
            return xlsx_response(filename=filename, title=title, header=export.header,
                                 rows=export.rows)
        return csv_response(filename=filename, header=export.header, rows=export.rows)


class WorkbenchTabRedirectView(StaffView):
    """An old list URL: its tab of the workbench, with the query it came with."""

    tab = ""

    def get(self, request: HttpRequest) -> HttpResponse:
        query = QueryDict(mutable=True)
        query["tab"] = self.tab
        for name, values in request.GET.lists():
            if name != "tab":
                query.setlist(name, values)
        return redirect(f"{reverse('petitions:staff-queue')}?{query.urlencode()}")


# The class names are the permission map's (rules.STAFF_PAGE_ROLES): the roles are unchanged.
class PetitionOverdueListView(WorkbenchTabRedirectView):
    tab = "overdue"


class PetitionDueTodayListView(WorkbenchTabRedirectView):
    tab = "due_soon"


class PetitionDispatchQueueView(WorkbenchTabRedirectView):
    tab = "dispatch"

