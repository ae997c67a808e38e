"""Exact-match filters and searches over protected fields (phone, ID number) are reveals.

A match answers "is this the number?" with one row or none, so an unguarded filter is an oracle:
trying the four hidden digits of a masked phone (10,000 candidates), or an ID number's region and
birth date (a few thousand after the checksum), recovers the whole value without an audit row.
Every FilterSet filter and admin search over such a field declares itself to this module
(tests/core/test_protected_lookups.py finds any that does not), and the lookup then
1. is refused to a caller who may reveal nowhere in the rows' scope (403, or an admin message);
2. keeps only the matches inside the caller's reveal scope (residents.rules.
   personal_data_path, through core.reveal_scope: the same rule as the reveal button);
3. writes one audit row per match, shaped like a reveal of that field (core.audit);
4. spends one unit of the caller's lookup budget (DEFAULT_THROTTLE_RATES["protected_lookup"],
   one bucket per account, an API key's or a person's, whether through the API or the admin).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import messages
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_filters.filterset import FilterSet
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from core.admin_scope import ModelAdminMixin
from core.areas import area_tree
from core.audit import audit_lookup_matches
from core.crypto import blind_index
from core.exceptions import ApplicationError, PermissionDeniedError, RateLimited
from core.reveal_scope import reveal_prefix
from core.scope import EVERYTHING
from core.types import AnyUser

PROTECTED_FIELDS = frozenset({"phone", "id_number", "contact_phone", "emergency_phone"})
# An exact phone or ID number matches a handful of rows; more than this is not a lookup.
MATCH_LIMIT = 50
# ASCII digits only: the numbers are stored so, and `\d` would also take full-width ones.
ID_NUMBER = re.compile(r"[0-9]{17}[0-9Xx]")
# A search term that could be a whole phone number (mobile or landline, with separators).
PHONE_LIKE = re.compile(r"\+?[0-9 -]{7,20}")


class ProtectedLookupRefused(PermissionDeniedError):
    code = "protected_lookup_refused"


class ProtectedLookupThrottle(SimpleRateThrottle):
    """One budget per account for exact lookups over protected fields, sessions and keys alike.

    Called by the lookup itself (`protected_lookup_spend`) rather than listed on views, so the
    admin's search spends the same budget as the API's filters.
    """

    scope = "protected_lookup"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        user = request.user
        if not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


def protected_lookup_spend(*, user: AnyUser) -> None:
    # The throttle reads only the request's user (get_cache_key), and the admin's search has
    # no DRF request to give: one is made around an empty HttpRequest.
    request = Request(HttpRequest())
    request.user = user
    throttle = ProtectedLookupThrottle()
    if not throttle.allow_request(request, APIView()):
        seconds = int(throttle.wait() or 0) + 1
        raise RateLimited(_("按完整手机号或身份证号查找过于频繁，请 %(seconds)d 秒后再试。")
                          % {"seconds": seconds})


def protected_matches(*, user: AnyUser | None, queryset: QuerySet[Any], path_field: str | None,
                      fields: Iterable[str]) -> list[Model]:
    """The rows of `queryset` (already narrowed by the lookup) the caller may have, audited.

    1. Refuse a caller who may reveal nowhere, or, for rows that hang from no area
       (`path_field` None: accounts, sign-in codes), one who may not reveal street-wide.
    2. Spend one unit of the caller's budget, whether anything matches or not.
    3. Keep the matches inside the caller's reveal scope; write one audit row for each.
    """
    prefix = reveal_prefix(user)
    # The reveal rule gives no prefix to a signed-out caller; the audit row needs the account.
    if (prefix is None or user is None or not user.is_authenticated
            or (path_field is None and not _covers_a_whole_street(prefix))):
        raise ProtectedLookupRefused(
            _("按完整手机号或身份证号查找仅限有权查看这些完整信息的工作人员。"))
    protected_lookup_spend(user=user)
    if prefix != EVERYTHING and path_field is not None:
        queryset = queryset.filter(**{f"{path_field}__startswith": prefix})
    matches = list(queryset[:MATCH_LIMIT])
    audit_lookup_matches(objects=matches, fields=fields, actor=user)
    return matches


def _covers_a_whole_street(prefix: str) -> bool:
    return prefix == EVERYTHING or len(prefix) <= area_tree().steplen


# --- FilterSets (API and selectors) -----------------------------------------------------------


class ProtectedLookupFilterSet(FilterSet):
    """A FilterSet with exact filters over protected fields.

    `protected_lookups` maps each such filter to the field it reads (as audited);
    `reveal_path_field` is the area path its rows hang from. The selector passes the `viewer`
    (a filter backend's `request` gives its user); a FilterSet applied without one refuses
    every protected lookup, so a new caller that forgets it fails closed.
    """

    protected_lookups: ClassVar[dict[str, str]] = {}
    reveal_path_field: ClassVar[str | None] = None
    # django-filter is untyped: its metaclass sets base_filters, and a call to is_valid through
    # a subclass escapes untyped_calls_exclude. Declared here for the type checker only. The
    # values are Filters, kept Any: mypy misreads Filter.label (a property built by a helper).
    base_filters: ClassVar[dict[str, Any]]

    if TYPE_CHECKING:
        def is_valid(self) -> bool: ...

    def __init__(self, *args: Any, viewer: AnyUser | None = None, **kwargs: Any) -> None:
        # untyped_calls_exclude does not reach a super() call into django-filter.
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self.viewer: AnyUser | None = (viewer if viewer is not None
                                       else getattr(self.request, "user", None))

    def is_protected_lookup(self, name: str, value: Any) -> bool:
        """Is this value of a declared filter an exact lookup? Any value, for a filter over the
        field itself; a keyword search is one only when its term is a whole number."""
        return value not in (None, "")

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        used = [field for name, field in self.protected_lookups.items()
                if self.is_protected_lookup(name, self.form.cleaned_data.get(name))]
        queryset = super().filter_queryset(queryset)  # type: ignore[no-untyped-call]  # as above
        if not used:
            return queryset
        matches = protected_matches(user=self.viewer, queryset=queryset,
                                    path_field=self.reveal_path_field, fields=used)
        return queryset.filter(pk__in=[match.pk for match in matches])


# --- the admin's search -----------------------------------------------------------------------


def lookup_touches_protected(lookup: str) -> bool:
    """Does a field path ("phone", "residents__phone__startswith") read a protected field?"""
    return any(part in PROTECTED_FIELDS or part == "id_number_digest"
               for part in lookup.split("__"))


class ProtectedSearchAdminMixin(ModelAdminMixin):
    """For a ModelAdmin: the search box also finds rows by a whole phone or ID number, and no
    URL filter reads a protected field.

    Protected fields never go in `search_fields` (a substring search there would be an oracle
    too); they are declared in `protected_search_fields` (lookup → field as audited) and are
    matched exactly, only when the whole term looks like such a number, through
    `protected_matches`. `protected_search_path` is the area path of the rows (None: the rows
    hang from no area). A refusal or an exhausted budget is a message above the list, which then
    holds the ordinary matches only.

    Every ModelAdmin of a model with a protected field takes this mixin, if only for
    `lookup_allowed`: the changelist filters by any local field named in the query string,
    and `?phone__startswith=1391234` would be a prefix oracle.
    """

    protected_search_fields: ClassVar[dict[str, str]] = {}
    protected_search_path: ClassVar[str | None] = None

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        if lookup_touches_protected(lookup):
            return False  # the changelist answers 400 (DisallowedModelAdminLookup)
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any],
                           search_term: str) -> tuple[QuerySet[Any], bool]:
        results, may_have_duplicates = super().get_search_results(
            request, queryset, search_term)
        term = search_term.strip()
        lookups = protected_search_lookups(self.protected_search_fields, term)
        if not lookups:
            return results, may_have_duplicates
        condition = Q()
        for lookup, _field in lookups:
            condition |= lookup
        try:
            matches = protected_matches(user=request.user, queryset=queryset.filter(condition),
                                        path_field=self.protected_search_path,
                                        fields=sorted({field for _lookup, field in lookups}))
        except ApplicationError as error:
            _changelist_message(request, error.message)
            return results, may_have_duplicates
        if matches:
            results = results | queryset.filter(pk__in=[match.pk for match in matches])
        return results, may_have_duplicates


def protected_search_lookups(declared: dict[str, str], term: str) -> list[tuple[Q, str]]:
    """The exact-match conditions a search term makes over the declared fields (and the field
    each reads), or none when the term cannot be a whole phone or ID number."""
    lookups: list[tuple[Q, str]] = []
    is_id_number = bool(ID_NUMBER.fullmatch(term))
    is_phone = not is_id_number and is_phone_term(term)
    for lookup, field in declared.items():
        if field == "id_number" and is_id_number:
            # Encrypted at rest: an exact match goes through the keyed digest.
            lookups.append((Q(**{f"{lookup}_digest": blind_index(term)}), field))
        elif field != "id_number" and is_phone:
            lookups.append((Q(**{lookup: term}), field))
    return lookups


def is_phone_term(term: str) -> bool:
    """Could the search term be a whole phone number (mobile or landline, with separators)?"""
    return bool(PHONE_LIKE.fullmatch(term)) and sum(
        character in "0123456789" for character in term) >= 7


def _changelist_message(request: HttpRequest, text: str) -> None:
    # Autocomplete answers are JSON: a message there would surface later, on an unrelated page.
    url_name = getattr(getattr(request, "resolver_match", None), "url_name", "") or ""
    if url_name.endswith("_changelist"):
        messages.warning(request, text)
