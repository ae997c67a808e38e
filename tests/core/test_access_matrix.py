"""Who may do what: every URL × every role × an object inside and outside the viewer's community.

POLICY below is the declarative answer, one row per URL name (or admin pattern): the roles that
may use the route on the "in" object (a row of 富春江路社区: the resident's own petition, the
compound's topic, …) and whether object scope applies. Everything else is derived:

- a role outside the row is refused: 401/403/404, or the sign-in redirect for a page;
- with `scoped`, the "out" object (a row of 黄河路社区) is refused to every role except the
  street admin (who sees everything) and the outsider (a grid worker of 黄河路社区), who is
  then treated as the grid worker is on the "in" object; on the "in" object the outsider is
  refused;
- a bogus id is refused to everyone;
- without `scoped` (public rows, lists, forms), the outsider is a grid worker like any other.

One GET pass per role also keeps the crawl's two promises (tests/core/test_crawl.py history):
no 5xx, and no phone number of a resident outside the viewer's scope in any body. Then every
route that takes a POST is posted to, with a body that passes the forms, by every role the row
refuses (API details also get PATCH and DELETE): the answer must be a refusal and no table may
change (a refusal inside a transaction may write and roll back; the written tables are compared
with a snapshot). A role the row refuses outright meets only its own community's object (it is
refused before any object is loaded); the roles it admits meet the other community's too: that
is the scope check. A route missing from POLICY fails the run, so a new endpoint forces a
decision. `ACCESS_MATRIX_WRITE=1` writes the table to docs/access-matrix.md.
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from tests.conftest import Territory
from tests.core.urlmap import (
    BOGUS_INT,
    BOGUS_STR,
    OK_STATUSES,
    ROLE_FREE,
    ROLES,
    Route,
    World,
    _segment_before,
    all_routes,
    body_text,
    build_world,
    client_for,
    forbidden_phones,
    real_value,
    resolves,
    urls_for,
)
from tests.petitions.factories import category

# The matrix sends wrong methods and bogus ids on purpose: its answers are refusals the schema
# need not document (tests/schema_validation.py checks the answers of the rest of the suite).
pytestmark = pytest.mark.no_schema_validation

# --- the policy ---------------------------------------------------------------------------------

ABBREVIATIONS = {"A": "anonymous", "R": "resident", "M": "microgrid_worker", "G": "grid_worker",
                 "C": "community_staff", "S": "street_admin", "X": "api_key"}
EVERYONE = "A R M G C S X"
SIGNED_IN = "R M G C S"  # a page: the API key's header means nothing to a page, so X is anonymous
API_USERS = "R M G C S X"
STAFF = "M G C S"
COMMUNITY = "C S"  # the community's own staff and the street
NOBODY = ""


@dataclass(frozen=True)
class Rule:
    roles: str  # abbreviations of the roles allowed on the "in" object
    scoped: bool = False  # object scope applies: the other community's object is refused
    note: str = ""


# One row per URL name; "admin:" routes by the patterns in ADMIN_POLICY.
POLICY: dict[str, Rule] = {
    # site, sign-in
    "home": Rule(EVERYONE),
    "healthz": Rule(EVERYONE),
    "readyz": Rule(EVERYONE, note="readiness: check names and states, no data"),
    "metrics": Rule(NOBODY, note="only METRICS_ALLOWED_IPS or the METRICS_TOKEN bearer"),
    "favicon": Rule(EVERYONE, note="a redirect to the static icon"),
    "set_language": Rule(EVERYONE),
    "javascript-catalog": Rule(EVERYONE),
    "schema": Rule(EVERYONE, note="the OpenAPI schema is public"),
    "api-docs": Rule(EVERYONE),
    "accounts:login": Rule(EVERYONE),
    "accounts:logout": Rule(EVERYONE),
    "accounts:phone-login": Rule(EVERYONE),
    "accounts:phone-verify": Rule(EVERYONE),
    "accounts:my-data": Rule("R", note="PIPL: a resident's own data"),
    "accounts:my-data-download": Rule("R"),
    "accounts:deletion-create": Rule("R"),
    "accounts:deletion-cancel": Rule("R"),
    # WeChat (issue 19). The matrix runs without WeChat configured: the start page sends
    # everyone back to the phone sign-in, the callback refuses its missing code the same way,
    # and the JS-SDK config and the WeChat photo do not exist (404); with WeChat configured
    # both are the resident's own (tests/accounts/test_wechat_jssdk.py).
    "accounts:wechat-start": Rule(EVERYONE, note="to WeChat's 网页授权"),
    "accounts:wechat-callback": Rule(EVERYONE, note="WeChat sends the browser back here"),
    "accounts:wechat-jssdk": Rule(NOBODY, note="with WeChat configured: residents"),
    "accounts:wechat-unbind": Rule("R"),
    "accounts:wechat-channel": Rule("R"),
    "notifications:inbox": Rule(SIGNED_IN),
    "notifications:mark-all-read": Rule(SIGNED_IN),
    "notifications:open": Rule("R", note="one's own message only; it marks it read"),
    "media": Rule("R M G C S", scoped=True, note="an uploaded photo, as its row: here a "
                  "petition's (the 公示's one photo: anyone); audited for staff"),
    "governance:index": Rule(EVERYONE),
    "governance:compound": Rule(EVERYONE, note="a compound's public page"),
    # petitions: resident pages
    "petitions:mine": Rule(EVERYONE, note="a sign-in prompt for visitors, the queue for staff"),
    "petitions:create": Rule("R"),
    "petitions:wechat-photo": Rule(NOBODY, note="with WeChat configured: residents"),
    "petitions:detail": Rule("R", scoped=True, note="the resident's own petition"),
    "petitions:status": Rule("R M G C S", scoped=True),
    "petitions:rate": Rule("R", scoped=True),
    "petitions:reopen": Rule("R", scoped=True),
    "petitions:picker-location": Rule("R"),
    "petitions:picker-questions": Rule("R"),
    "petitions:picker-duplicates": Rule("R"),
    "petitions:public": Rule(EVERYONE),
    "petitions:public-photo": Rule(NOBODY, note="Open311 media_url: anyone, for a 公示 petition "
                                   "whose text is public (the world's are not)"),
    # petitions: staff desk
    "petitions:staff-queue": Rule(STAFF),
    "petitions:staff-export-csv": Rule(STAFF),
    "petitions:staff-export-xlsx": Rule(STAFF),
    "reports:list": Rule(COMMUNITY),
    "reports:generate": Rule("S"),
    "reports:map": Rule(STAFF, note="counts of the buildings in scope"),
    "reports:map-data": Rule(STAFF, note="counts of the buildings in scope"),
    "reports:screen": Rule(COMMUNITY),
    "reports:screen-data": Rule(COMMUNITY),
    "reports:screen-map": Rule(COMMUNITY),
    "reports:rankings": Rule(STAFF, note="rows by role: a worker sees their grid's and their own"),
    "petitions:staff-exclusion-request": Rule(STAFF, scoped=True),
    "petitions:staff-exclusions": Rule("S"),
    "petitions:staff-exclusion-approve": Rule("S", scoped=True,
                                              note="a second person: not the requester"),
    "petitions:staff-exclusion-refuse": Rule("S", scoped=True,
                                             note="a second person: not the requester"),
    "petitions:staff-extension-request": Rule(STAFF, scoped=True,
                                              note="延期: the holder (the service says so)"),
    "petitions:staff-extensions": Rule("G C S", note="延期: the requests the level above decides"),
    "petitions:staff-extension-grant": Rule("G C S", scoped=True,
                                            note="the level above, not the requester"),
    "petitions:staff-extension-refuse": Rule("G C S", scoped=True,
                                             note="the level above, not the requester"),
    "petitions:staff-recurrences": Rule(COMMUNITY, note="未诉先办: the suggestions in scope"),
    "petitions:staff-recurrence-accept": Rule(COMMUNITY, scoped=True),
    "petitions:staff-recurrence-dismiss": Rule(COMMUNITY, scoped=True),
    "petitions:staff-merge": Rule(COMMUNITY, scoped=True,
                                  note="into a likely duplicate the dispatcher covers too"),
    "petitions:merged-rate": Rule("R", scoped=True, note="the submitter of a merged petition"),
    "api:stats-report": Rule(COMMUNITY, note="an area in scope; a key needs a scope area"),
    "api:stats-rankings": Rule(COMMUNITY, note="an area in scope; a key needs a scope area"),
    "petitions:staff-overdue": Rule(STAFF),
    "petitions:staff-due-today": Rule(STAFF),
    "petitions:staff-stats": Rule(STAFF),
    "petitions:staff-detail": Rule(STAFF, scoped=True),
    "petitions:staff-plaque-sheet": Rule(STAFF, scoped=True, note="a building in scope"),
    "petitions:plaque": Rule(EVERYONE, note="a building's QR plaque: sign-in, form or check-in"),
    "petitions:plaque-check-in": Rule(STAFF, note="the holder of a petition in that building"),
    "petitions:cohandling-answer": Rule(NOBODY, note="协办: a body's one-time link, opened only "
                                        "with its token (the same 404 without)"),
    "petitions:staff-cohandling-create": Rule(STAFF, scoped=True,
                                              note="协办: the holder or handler staff"),
    "petitions:staff-check-in": Rule(STAFF, scoped=True),
    "petitions:staff-accept": Rule(STAFF, scoped=True),
    "petitions:staff-note-create": Rule(STAFF, scoped=True),
    "petitions:staff-resolve": Rule(STAFF, scoped=True),
    "petitions:staff-return": Rule(STAFF, scoped=True),
    "petitions:staff-escalate": Rule(STAFF, scoped=True),
    "petitions:staff-verify": Rule("G C S", scoped=True, note="not the micro-grid worker"),
    "petitions:staff-refer": Rule("G C S", scoped=True),
    "petitions:staff-close": Rule("G C S", scoped=True),
    "petitions:staff-dispatch": Rule(COMMUNITY, scoped=True),
    "petitions:staff-reroute": Rule(COMMUNITY, scoped=True),
    "petitions:staff-reject": Rule(COMMUNITY, scoped=True),
    "petitions:staff-dispatch-queue": Rule(COMMUNITY, note="待分派 of the dispatcher's scope"),
    "petitions:staff-place": Rule(COMMUNITY, scoped=True),
    "petitions:staff-intake": Rule("G C S", note="代录: a walk-in or call in the recorder's scope"),
    "petitions:staff-intake-picker-location": Rule("G C S"),
    "petitions:staff-intake-picker-questions": Rule("G C S"),
    "petitions:staff-callback": Rule("G C S", scoped=True, note="回访: not the resolver"),
    # deliberation: residents
    "deliberation:home": Rule(EVERYONE),
    "deliberation:results": Rule(EVERYONE),
    "deliberation:compound-calendar": Rule(EVERYONE, note="a compound's public calendar"),
    "deliberation:topic-create": Rule("R"),
    "deliberation:topic-detail": Rule("R C S", scoped=True, note="the resident's compound"),
    "deliberation:topic-support": Rule("R C S", scoped=True),
    "deliberation:topic-rate": Rule("R C S", scoped=True),
    "deliberation:session-detail": Rule("R C S", scoped=True),
    "deliberation:session-sign-in": Rule("R C S", scoped=True),
    "deliberation:survey-answer": Rule("R C S", scoped=True),
    "deliberation:session-sign-up": Rule("R C S", scoped=True,
                                          note="the service lets residents only sign up"),
    "deliberation:session-sign-up-cancel": Rule("R C S", scoped=True),
    "deliberation:topic-comment-create": Rule("R C S", scoped=True),
    "deliberation:topic-comment-update": Rule("R C S", scoped=True,
                                              note="the service lets its author only edit"),
    "deliberation:my-topics": Rule(SIGNED_IN, note="the user's own topics"),
    "deliberation:notice-preference": Rule(SIGNED_IN, note="the user's own SMS opt-in"),
    # deliberation: the community's desk (compound-level: grid workers are below it)
    "deliberation:staff-dashboard": Rule(COMMUNITY),
    "deliberation:session-create": Rule(COMMUNITY),
    "deliberation:session-agenda-add": Rule(COMMUNITY, scoped=True),
    "deliberation:session-minutes": Rule(COMMUNITY, scoped=True),
    "deliberation:session-publish": Rule(COMMUNITY, scoped=True),
    "deliberation:topic-offline-create": Rule(COMMUNITY),
    "deliberation:topic-from-petition": Rule(COMMUNITY),
    "deliberation:topic-schedule": Rule(COMMUNITY, scoped=True),
    "deliberation:topic-opinion-add": Rule(COMMUNITY, scoped=True),
    "deliberation:topic-decide": Rule(COMMUNITY, scoped=True),
    "deliberation:action-item-create": Rule(COMMUNITY, scoped=True),
    "deliberation:topic-settle": Rule(COMMUNITY, scoped=True),
    "deliberation:topic-close": Rule(COMMUNITY, scoped=True),
    "deliberation:topic-reject": Rule(COMMUNITY, scoped=True),
    "deliberation:action-items": Rule(COMMUNITY),
    "deliberation:action-item-progress": Rule(COMMUNITY, scoped=True),
    "deliberation:action-item-tick-off": Rule(COMMUNITY, scoped=True),
    "deliberation:staff-lists": Rule(COMMUNITY),
    "deliberation:need-create": Rule(COMMUNITY),
    "deliberation:need-resolve": Rule(COMMUNITY, scoped=True),
    "deliberation:resource-create": Rule(COMMUNITY),
    "deliberation:project-create": Rule(COMMUNITY),
    "deliberation:project-tick-off": Rule(COMMUNITY, scoped=True),
    "deliberation:list-review-complete": Rule(COMMUNITY, scoped=True),
    "deliberation:staff-surveys": Rule(COMMUNITY),
    "deliberation:survey-results": Rule("C S", scoped=True,
                                        note="its residents too once it has closed"),
    "deliberation:survey-create": Rule(COMMUNITY),
    "deliberation:survey-build": Rule(COMMUNITY, scoped=True),
    "deliberation:survey-question-add": Rule(COMMUNITY, scoped=True),
    "deliberation:survey-open": Rule(COMMUNITY, scoped=True),
    "deliberation:survey-question-delete": Rule(COMMUNITY, scoped=True),
    "deliberation:session-sign-in-sheet": Rule(COMMUNITY, scoped=True),
    "deliberation:session-attendance-record": Rule(COMMUNITY, scoped=True),
    "deliberation:topic-comment-hide": Rule(COMMUNITY, scoped=True),
    # volunteers: residents and volunteers
    "volunteers:home": Rule(SIGNED_IN),
    "volunteers:my": Rule(SIGNED_IN),
    "volunteers:register": Rule(SIGNED_IN),
    "volunteers:board": Rule(EVERYONE),
    "volunteers:activities": Rule(SIGNED_IN),
    "volunteers:activity-detail": Rule("R C S", scoped=True),
    "volunteers:activity-signup": Rule("R C S", scoped=True),
    "volunteers:signup-cancel": Rule("R C S", scoped=True, note="the volunteer's own sign-up"),
    "volunteers:signup-check-in": Rule("R C S", scoped=True),
    "volunteers:signup-check-out": Rule("R C S", scoped=True),
    "volunteers:my-hours": Rule(SIGNED_IN),
    "volunteers:my-certificate": Rule("R", note="a volunteer's own certificate"),
    "volunteers:shift-check-in": Rule("R C S", scoped=True),
    "volunteers:shift-cancel": Rule("R C S", scoped=True, note="the volunteer's own shift"),
    "volunteers:my-calendar": Rule(SIGNED_IN),
    "volunteers:my-calendar-rotate": Rule(SIGNED_IN),
    "volunteers:shift-calendar": Rule(NOBODY, note="only the volunteer's private token opens it"),
    "volunteers:shift-swap": Rule("R C S", scoped=True),
    "volunteers:shift-swap-create": Rule("R C S", scoped=True),
    "volunteers:swap-accept": Rule(NOBODY, scoped=True, note="only the volunteer asked"),
    "volunteers:swap-decline": Rule(NOBODY, scoped=True, note="only the volunteer asked"),
    "volunteers:team-ranking": Rule("R C S", scoped=True),
    "volunteers:wishes": Rule(SIGNED_IN),
    "volunteers:wish-create": Rule(SIGNED_IN),
    "volunteers:wish-detail": Rule(COMMUNITY, scoped=True, note="another resident's wish"),
    "volunteers:wish-publish": Rule(COMMUNITY, scoped=True),
    "volunteers:wish-reject": Rule(COMMUNITY, scoped=True),
    "volunteers:wish-claim": Rule(COMMUNITY, scoped=True, note="not yet published"),
    "volunteers:wish-fulfil": Rule(COMMUNITY, scoped=True),
    "volunteers:wish-confirm": Rule(COMMUNITY, scoped=True),
    "volunteers:wish-withdraw": Rule(COMMUNITY, scoped=True),
    "volunteers:services": Rule(SIGNED_IN),
    "volunteers:service-create": Rule(SIGNED_IN),
    "volunteers:service-detail": Rule(COMMUNITY, scoped=True, note="another resident's request"),
    "volunteers:service-assign": Rule(COMMUNITY, scoped=True),
    "volunteers:service-complete": Rule(COMMUNITY, scoped=True),
    "volunteers:service-confirm": Rule(COMMUNITY, scoped=True),
    "volunteers:care-files": Rule(STAFF),
    "volunteers:care-detail": Rule(COMMUNITY, scoped=True, note="care files: community staff"),
    "volunteers:care-visit-create": Rule(COMMUNITY, scoped=True),
    "volunteers:care-visit-proxy-service": Rule(COMMUNITY, scoped=True),
    "volunteers:care-wish-create": Rule(COMMUNITY, scoped=True, note="代录 for the elder"),
    "volunteers:care-service-create": Rule(COMMUNITY, scoped=True, note="代录 for the elder"),
    "volunteers:care-visit-petition": Rule(COMMUNITY, scoped=True, note="代录: staff who record"),
    # volunteers: staff desk
    "volunteers:staff-dashboard": Rule(STAFF),
    "volunteers:staff-teams": Rule(STAFF),
    "volunteers:staff-activity-create": Rule(COMMUNITY),
    "volunteers:staff-activity": Rule(COMMUNITY, scoped=True),
    "volunteers:staff-signup-check-in": Rule(COMMUNITY, scoped=True),
    "volunteers:staff-signup-check-out": Rule(COMMUNITY, scoped=True),
    "volunteers:staff-hours-approve": Rule(COMMUNITY, scoped=True),
    "volunteers:staff-hours-reject": Rule(COMMUNITY, scoped=True),
    "volunteers:staff-volunteer": Rule(COMMUNITY, scoped=True),
    "volunteers:staff-hours-create": Rule(COMMUNITY, scoped=True),
    "volunteers:staff-certificate": Rule(COMMUNITY, scoped=True),
    "volunteers:staff-roster-generate": Rule(COMMUNITY, scoped=True),
    "volunteers:staff-qualification-create": Rule(COMMUNITY, scoped=True),
    "volunteers:staff-hours-export": Rule(COMMUNITY, scoped=True, note="audited export"),
    "volunteers:staff-shift-no-show": Rule(COMMUNITY, scoped=True),
    # API: sign-in and me
    "api:auth-phone-code": Rule(EVERYONE),
    "api:auth-phone-verify": Rule(EVERYONE),
    "api:me": Rule(API_USERS),
    "api:me-data": Rule("R", note="PIPL: a resident's own data"),
    "api:me-deletion-request": Rule("R"),
    # API: territory and people (an external system reads the register, masked outside scope)
    "api:governance-area-list": Rule(API_USERS),
    "api:governance-area-detail": Rule(API_USERS, note="the territory tree is not secret"),
    "api:governance-area-ancestors": Rule(API_USERS),
    "api:governance-building-list": Rule(API_USERS),
    "api:governance-building-detail": Rule(API_USERS),
    "api:residents-household-list": Rule(API_USERS, note="a resident: their own household"),
    "api:residents-household-detail": Rule(API_USERS, scoped=True),
    # An unscoped key (X) reads no resident: a scoped one only its scope area's, in the
    # integration field set (tests/residents/test_api_integration.py).
    "api:residents-resident-list": Rule(STAFF),
    "api:residents-resident-detail": Rule(STAFF, scoped=True),
    "api:residents-resident-reveal": Rule(STAFF, scoped=True, note="written to the audit log"),
    "api:residents-party-member-list": Rule(STAFF),
    "api:residents-party-member-public": Rule(EVERYONE, note="亮身份: public profiles"),
    "api:residents-party-member-detail": Rule("G C S", scoped=True,
                                              note="the member lives in 微网格二"),
    # API: petitions (an external system files and follows its own, through Open311 too)
    "api:petition-list": Rule(API_USERS),
    "api:petition-detail": Rule("R M G C S", scoped=True),
    "api:petition-check-in": Rule(STAFF, scoped=True),
    "api:petition-accept": Rule(STAFF, scoped=True),
    "api:petition-reveal-contact": Rule(STAFF, scoped=True, note="written to the audit log"),
    "api:petition-notes": Rule("R M G C S", scoped=True, note="the owner: public notes only"),
    "api:petition-resolve": Rule(STAFF, scoped=True),
    "api:petition-return-to-dispatcher": Rule(STAFF, scoped=True),
    "api:petition-escalate": Rule(STAFF, scoped=True),
    "api:petition-verify": Rule("G C S", scoped=True),
    "api:petition-refer": Rule("G C S", scoped=True),
    "api:petition-close": Rule("G C S", scoped=True),
    "api:petition-extension": Rule(STAFF, scoped=True,
                                   note="延期: the holder (the service says so)"),
    "api:petition-extension-decision": Rule("G C S", scoped=True,
                                            note="the level above, not the requester"),
    "api:petition-triage": Rule("M C S", scoped=True, note="the holder or a dispatcher"),
    "api:petition-dispatch-to-holder": Rule(COMMUNITY, scoped=True),
    "api:petition-reroute": Rule(COMMUNITY, scoped=True),
    "api:petition-reject": Rule(COMMUNITY, scoped=True),
    "api:petition-place": Rule(COMMUNITY, scoped=True),
    "api:petition-merge": Rule(COMMUNITY, scoped=True,
                               note="into a likely duplicate the dispatcher covers too"),
    "api:petition-duplicates": Rule(STAFF, scoped=True),
    "api:petition-rate": Rule("R", scoped=True),
    "api:petition-reopen": Rule("R C S", scoped=True, note="the owner or a dispatcher"),
    "api:petition-category-list": Rule(API_USERS),
    # API: deliberation
    "api:deliberation-session-list": Rule(API_USERS),
    "api:deliberation-session-joint": Rule(COMMUNITY),
    "api:deliberation-session-detail": Rule("R C S", scoped=True),
    "api:deliberation-session-minutes": Rule(COMMUNITY, scoped=True),
    "api:deliberation-session-publish": Rule(COMMUNITY, scoped=True),
    "api:deliberation-session-sign-in": Rule("R C S", scoped=True),
    "api:deliberation-topic-list": Rule(API_USERS),
    "api:deliberation-topic-from-petition": Rule("G C S", note="who may refer the petition"),
    "api:deliberation-topic-offline": Rule(COMMUNITY),
    "api:deliberation-topic-detail": Rule("R C S", scoped=True),
    "api:deliberation-topic-action-items": Rule(COMMUNITY, scoped=True),
    "api:deliberation-topic-close": Rule(COMMUNITY, scoped=True),
    "api:deliberation-topic-decide": Rule(COMMUNITY, scoped=True),
    "api:deliberation-topic-opinions": Rule(COMMUNITY, scoped=True),
    "api:deliberation-topic-rate": Rule("R C S", scoped=True),
    "api:deliberation-topic-reject": Rule(COMMUNITY, scoped=True),
    "api:deliberation-topic-schedule": Rule(COMMUNITY, scoped=True),
    "api:deliberation-topic-settle": Rule(COMMUNITY, scoped=True),
    "api:deliberation-topic-support": Rule("R C S", scoped=True),
    "api:deliberation-action-item-list": Rule(API_USERS),
    "api:deliberation-action-item-progress": Rule(COMMUNITY, scoped=True),
    "api:deliberation-action-item-tick-off": Rule(COMMUNITY, scoped=True),
    "api:deliberation-need-list": Rule(API_USERS),
    "api:deliberation-resource-list": Rule(API_USERS),
    "api:deliberation-project-list": Rule(API_USERS),
    "api:deliberation-project-tick-off": Rule(COMMUNITY, scoped=True),
    "api:deliberation-survey-list": Rule(API_USERS),
    "api:deliberation-survey-results": Rule(API_USERS),
    "api:deliberation-survey-answers": Rule("R C S", scoped=True),
    "api:deliberation-result-list": Rule(EVERYONE),
    # API: volunteers
    "api:volunteer-team-list": Rule(API_USERS),
    "api:volunteer-team-detail": Rule("R C S", scoped=True),
    "api:volunteer-team-ranking": Rule("R C S", scoped=True),
    "api:volunteer-list": Rule(API_USERS),
    "api:volunteer-my-hours": Rule(API_USERS),
    "api:volunteer-register": Rule(API_USERS),
    "api:volunteer-detail": Rule(COMMUNITY, scoped=True),
    "api:volunteer-activity-list": Rule(API_USERS),
    "api:volunteer-activity-detail": Rule("R C S", scoped=True),
    "api:volunteer-activity-cancel-activity": Rule(COMMUNITY, scoped=True),
    "api:volunteer-activity-signup": Rule("R C S", scoped=True),
    "api:volunteer-activity-signups": Rule(COMMUNITY, scoped=True),
    "api:volunteer-signup-detail": Rule("R C S", scoped=True),
    "api:volunteer-signup-cancel": Rule("R C S", scoped=True),
    "api:volunteer-signup-check-in": Rule("R C S", scoped=True),
    "api:volunteer-signup-check-out": Rule("R C S", scoped=True),
    "api:volunteer-hours-list": Rule(API_USERS),
    "api:volunteer-hours-approve": Rule(COMMUNITY, scoped=True),
    "api:volunteer-hours-reject": Rule(COMMUNITY, scoped=True),
    "api:volunteer-zone-list": Rule(API_USERS),
    "api:volunteer-post-list": Rule(API_USERS),
    "api:volunteer-shift-list": Rule(API_USERS),
    "api:volunteer-shift-detail": Rule("R C S", scoped=True),
    "api:volunteer-shift-check-in": Rule("R C S", scoped=True),
    "api:volunteer-shift-swap": Rule("R C S", scoped=True),
    "api:volunteer-swap-decide": Rule(NOBODY, scoped=True, note="only the volunteer asked"),
    "api:volunteer-wish-list": Rule(API_USERS),
    "api:volunteer-wish-detail": Rule(COMMUNITY, scoped=True),
    "api:volunteer-wish-claim": Rule(COMMUNITY, scoped=True),
    "api:volunteer-wish-confirm": Rule(COMMUNITY, scoped=True),
    "api:volunteer-wish-fulfil": Rule(COMMUNITY, scoped=True),
    "api:volunteer-wish-publish": Rule(COMMUNITY, scoped=True),
    "api:volunteer-wish-reject": Rule(COMMUNITY, scoped=True),
    "api:volunteer-wish-withdraw": Rule(COMMUNITY, scoped=True),
    "api:volunteer-proxy-service-list": Rule(API_USERS),
    "api:volunteer-proxy-service-detail": Rule(COMMUNITY, scoped=True),
    "api:volunteer-proxy-service-assign": Rule(COMMUNITY, scoped=True),
    "api:volunteer-proxy-service-cancel": Rule(COMMUNITY, scoped=True),
    "api:volunteer-proxy-service-complete": Rule(COMMUNITY, scoped=True),
    "api:volunteer-proxy-service-confirm": Rule(COMMUNITY, scoped=True),
    "api:volunteer-care-file-list": Rule(API_USERS, note="empty but for care staff"),
    "api:volunteer-care-file-detail": Rule(COMMUNITY, scoped=True),
    "api:volunteer-care-file-visits": Rule(COMMUNITY, scoped=True),
    "api:volunteer-dashboard-list": Rule(API_USERS),
    # Open311 GeoReport v2: public reads (masked), writes by an external system's key
    "open311-discovery": Rule(EVERYONE),
    "open311-services": Rule(EVERYONE),
    "open311-service": Rule(EVERYONE),
    "open311-requests": Rule(EVERYONE, note="POST: the external system's key only"),
    "open311-request": Rule(NOBODY, note="as the 公示 page: resolved petitions only, masked "
                            "(the world's are open); a key within its scope reads its own"),
    "open311-token": Rule(EVERYONE),
    "open311-updates": Rule("X"),
    "open311-not-found": Rule(NOBODY),
}

# API routes with a PUT, PATCH or DELETE handler (besides POST): none so far.
UNSAFE_METHOD_ROUTES: set[str] = set()

# Methods some rows refuse to roles the GET row lets in (route: (method, roles allowed)).
POST_POLICY: dict[str, str] = {"open311-requests": "X"}

# The admin: staff (is_staff) only; the street admin (a superuser) everywhere.
ADMIN_POLICY: list[tuple[str, Rule]] = [
    (r"^admin:(login|jsi18n)$", Rule(EVERYONE)),
    (r"^admin:logout$", Rule(EVERYONE)),
    (r"^admin:autocomplete$", Rule(NOBODY, note="refused without a field's parameters")),
    (r"^admin:(index|password_change|password_change_done)$", Rule(COMMUNITY)),
    (r"^admin:javascript-catalog$", Rule(EVERYONE, note="treebeard's static catalogue")),
    (r"^admin:privacy_deletionrequest_", Rule(COMMUNITY, note="PIPL requests, scoped")),
    # The beat schedule: the system's operators only, not the street's clerks, superuser or not
    # (core.admin.is_schedule_operator); the cast has no operator.
    (r"^admin:django_celery_beat_", Rule(NOBODY, note="the beat schedule: operators only")),
    # Every model page: the cast's community staff hold no model permission (a deployment grants
    # them through a group; core.admin then scopes and masks the rows).
    (r"^admin[:/]", Rule("S")),  # "admin/…": the admin's unnamed old-style object redirects
]


def rule_for(name: str) -> Rule | None:
    if name.startswith("admin:") or name.startswith("admin/"):
        return next((rule for pattern, rule in ADMIN_POLICY if re.search(pattern, name)), None)
    return POLICY.get(name)


# --- expectations -------------------------------------------------------------------------------

ROLE_CODE = {role: code for code, role in ABBREVIATIONS.items()}
# No scope area: the street admin (a superuser) and the 12345 hotline's key, whose reads of
# households are street-wide (residents.rules.visibility_path).
STREET_WIDE = {"street_admin", "api_key"}
ALLOW, DENY = "allow", "deny"


def expected(rule: Rule, role: str, relation: str, method: str = "GET",
             name: str = "") -> str:
    """allow / deny for a role on the "in", "out" or "bogus" object (or "none": no object)."""
    roles = set(rule.roles.split())
    if method != "GET" and name in POST_POLICY:
        roles = set(POST_POLICY[name].split())
    if relation == "bogus":
        return DENY
    if role == "outsider":
        if rule.scoped:
            return ALLOW if relation == "out" and "G" in roles else DENY
        return ALLOW if "G" in roles else DENY
    allowed = ROLE_CODE[role] in roles
    if rule.scoped and relation == "out" and role not in STREET_WIDE:
        return DENY
    return ALLOW if allowed else DENY


def _is_sign_in_redirect(response: Any) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and bool(
        re.match(r"^/(accounts/login|admin/login)/|^/accounts/phone/\?next=", location))


def outcome(response: Any, relation: str) -> str:
    """What the answer grants: refused ("deny"), granted ("allow"), or says nothing ("neutral":
    a 405, which Django and DRF give before any permission check)."""
    status = response.status_code
    if status in (401, 403, 404) or _is_sign_in_redirect(response):
        return DENY
    if status == 302 and relation == "bogus" and response["Location"] == "/admin/":
        return DENY  # the admin's answer to an object that does not exist (with a message)
    if status == 302 and "x%3Cscript%3E" in response["Location"]:
        return "neutral"  # an old-style admin URL sent on to the bogus object's page
    if status == 405:
        return "neutral"
    return ALLOW


# --- probes -------------------------------------------------------------------------------------


OBJECT_PARAMS = ("pk", "compound_id", "request_id", "object_id", "name")  # name: a media file


@dataclass(frozen=True)
class Probe:
    name: str  # the URL name, namespaced
    relation: str  # "none" (no object), "in", "out" or "bogus"
    url: str

    @property
    def is_api(self) -> bool:
        return self.url.startswith(("/api/", "/open311/"))


def _fill(world: World, route: Route, table: dict[str, int]) -> str | None:
    values = {}
    for param in route.params:
        if param in OBJECT_PARAMS:
            value = table.get(_segment_before(route.template, param))
            values[param] = None if value is None else str(value)
        else:
            values[param] = real_value(world, route, param)
    if None in values.values():
        return None
    url = "/" + route.template % values
    return url if resolves(url) else None


def _probe(url: str, relation: str | None = None) -> Probe:
    match = resolve(url.split("?")[0])
    if relation is None:
        if BOGUS_INT in url or BOGUS_STR in url:
            relation = "bogus"
        else:
            has_object = any(param in OBJECT_PARAMS for param in match.kwargs)
            relation = "in" if has_object else "none"
    return Probe(match.view_name if match.url_name else match.route, relation, url)


def _signed_out(role: str, probe: Probe) -> bool:
    """Whether the role meets this URL signed out: then the other community's object takes
    the same path as the own one (refused before any object is loaded), so it is skipped."""
    return role == "anonymous" or (role == "api_key" and not probe.is_api)


def probes_for(world: World, role: str) -> list[Probe]:
    """The crawl's URLs for this role (tests/core/urlmap.urls_for: real ids, bogus ids, the
    admin's pages) and every route with an object filled with the other community's row."""
    out_urls = {}
    for route in all_routes():
        if any(param in OBJECT_PARAMS for param in route.params):
            url = _fill(world, route, world.other)
            if url is not None and not _signed_out(role, _probe(url, "out")):
                out_urls[url] = _probe(url, "out")
    probes = [out_urls.get(url) or _probe(url) for url in urls_for(world, all_routes(), role)]
    seen = {probe.url for probe in probes}
    return probes + [probe for url, probe in out_urls.items() if url not in seen]


def _takes(url: str, method: str) -> bool:
    """Whether the view behind a URL has a handler for `method` (function views: assume so)."""
    func = resolve(url.split("?")[0]).func
    actions = getattr(func, "actions", None)
    if actions is not None:
        return method.lower() in actions
    view_class = getattr(func, "view_class", None) or getattr(func, "cls", None)
    if view_class is None:
        return True
    return method.lower() in view_class.http_method_names and hasattr(view_class, method.lower())


# A body every form and input serializer of the site accepts (unknown fields are ignored), so a
# POST reaches the permission check instead of stopping at validation. Kinds differ per form.
KIND_BY_NAME = {"deliberation:project-create": "livelihood",
                "deliberation:resource-create": "organisation",
                "volunteers:staff-activity-create": "cleaning",
                "api:volunteer-activity-list": "cleaning",
                "volunteers:service-create": "medicine",
                "api:volunteer-proxy-service-list": "medicine",
                "api:deliberation-session-joint": "offline",
                "deliberation:session-create": "offline"}


def post_body(world: World, name: str) -> dict[str, Any]:
    today = timezone.localdate()
    now = timezone.now()
    users = world.users
    body: dict[str, Any] = {
        "accept": "true", "accepted": "yes", "field": "phone", "code": "123456",
        "assignee": world.real["volunteers"],
        "basically": 0, "body": "测试", "budget": "100", "building": world.real["buildings"],
        "capacity": 10, "category": category().pk, "comment": "好",
        "compound": world.real["compounds"], "compound_id": world.real["compounds"],
        "condition": "good", "days": 1, "grant": "true",
        "deadline": (today + timedelta(days=7)).isoformat(),
        "decision_text": "同意", "description": "描述", "dissatisfied": 0,
        "duration_minutes": 30, "end": (today + timedelta(days=7)).isoformat(),
        "ends_at": (now + timedelta(days=2)).isoformat(), "hours": "1",
        "holder": users["microgrid_worker"].pk,  # type: ignore[union-attr]
        "household": world.real["households"], "into": world.real["petitions"],
        "invited_bodies": ["party_branch"],
        "label": "标签", "location_text": "1号楼", "minutes": "纪要", "mode": "consensus",
        "name": "名称", "need": "需要", "note": "备注", "notes": "备注", "offers": "培训",
        "outcome": "结果", "owner_name": "物业公司", "petition_id": world.real["petitions"],
        "place": "活动室", "progress": 50, "proposer_name": "王阿姨", "quarter": 1, "rate": 5,
        "rating": "satisfied", "reason": "原因", "resolution": "已处理",
        "review_on": (today + timedelta(days=7)).isoformat(), "satisfaction": "satisfied",
        "satisfied": 1, "scale": "small", "score": "satisfied",
        "served_on": today.isoformat(), "session": world.real["sessions"], "size": "small",
        "source": "survey", "speaker": "王阿姨", "stance": "for", "start": today.isoformat(),
        "starts_at": (now + timedelta(days=1)).isoformat(), "team": world.real["teams"],
        "title": "标题", "to_volunteer": world.real["volunteers"], "total": 1,
        "visited_on": today.isoformat(), "volunteer": world.real["volunteers"], "votes_for": 1,
        "votes_against": 0, "votes_abstain": 0, "year": today.year,
    }
    if name in KIND_BY_NAME:
        body["kind" if "session" not in name else "mode"] = KIND_BY_NAME[name]
    return body


WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b[^\"]*\"(\w+)\"", re.IGNORECASE)
# Writes that are no change of the portal's data: the API key's "last used" stamp (once a
# minute), and django-axes' bookkeeping of sign-in attempts.
BOOKKEEPING = re.compile(r"^(accounts_apikey|axes_\w+)$")


@contextmanager
def recording_writes() -> Iterator[set[str]]:
    """The tables a request wrote to (a refusal inside a transaction may write, then roll back:
    the caller compares those tables' contents with the snapshot)."""
    tables: set[str] = set()

    def recorder(execute: Callable[..., Any], sql: str, params: Any, many: bool,
                 context: Any) -> Any:
        match = WRITES.match(sql)
        if match and not BOOKKEEPING.match(match.group(2)):
            tables.add(match.group(2))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(recorder):
        yield tables


def table_digest(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - a table name from the database
        return hash(tuple(sorted(map(repr, cursor.fetchall()))))


def database_snapshot() -> dict[str, int]:
    return {table: table_digest(table) for table in connection.introspection.table_names()
            if not BOOKKEEPING.match(table)}


def _send(client: Client, method: str, probe: Probe, body: dict[str, Any]) -> Any:
    if probe.is_api:
        return client.generic(method, probe.url, json.dumps(body),
                              content_type="application/json")
    if method == "POST":
        return client.post(probe.url, body)
    return client.generic(method, probe.url)


def _describe(error: BaseException) -> str:
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"raised {type(error).__name__}: {str(error)[:200]} ({frame.filename}:{frame.lineno})"


# --- the tests ----------------------------------------------------------------------------------


def test_every_route_has_a_row_in_the_policy() -> None:
    """A new endpoint fails here until someone decides who may use it."""
    missing = sorted({route.name or route.template for route in all_routes()
                      if rule_for(route.name or route.template) is None})
    assert not missing, f"routes without a POLICY row: {missing}"
    stale = sorted(set(POLICY) - {route.name for route in all_routes()})
    assert not stale, f"POLICY rows for routes that no longer exist: {stale}"


def test_no_api_route_takes_put_patch_or_delete_unnoticed() -> None:
    """The unsafe pass posts to every action; PUT, PATCH and DELETE are sent where a view has
    them. None has today: a new one must be listed here (and so gets its refusals probed)."""
    takers = set()
    for route in all_routes():
        if route.template.startswith("admin/"):
            continue
        url = "/" + route.template % {param: "json" if param in ("fmt", "format") else "1"
                                      for param in route.params}
        if not resolves(url):
            continue
        takers |= {f"{method} {route.name}" for method in ("PUT", "PATCH", "DELETE")
                   if _takes(url, method) and hasattr(resolve(url).func, "cls")}
    assert takers == UNSAFE_METHOD_ROUTES, takers


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.usefixtures("crawl_settings")
def test_every_page_and_endpoint_answers_each_role_as_the_policy_says(
    role: str, territory: Territory, request: pytest.FixtureRequest,
) -> None:
    """One GET pass per role: the policy's answer, no 5xx, no phone out of scope."""
    started = time.process_time()
    world = build_world(territory, request)
    client = client_for(world, role)
    forbidden = forbidden_phones(world, role)
    probes = probes_for(world, role)
    failures: list[str] = []
    sent = 0
    for probe in probes:
        rule = rule_for(probe.name)
        assert rule is not None, probe.name
        if _refused_outright_elsewhere(rule, role, probe, "GET"):
            continue
        sent += 1
        try:
            response = client.get(probe.url)
        except Exception as error:
            failures.append(f"{role} GET {probe.url}: {_describe(error)}")
            continue
        if response.status_code not in OK_STATUSES:
            failures.append(f"{role} GET {probe.url}: answered {response.status_code}")
            continue
        leaked = sorted(phone for phone in forbidden if phone in body_text(response))
        if leaked:
            failures.append(f"{role} GET {probe.url}: shows phone(s) out of scope {leaked}")
        want = expected(rule, role, probe.relation)
        got = outcome(response, probe.relation)
        if got not in (want, "neutral"):
            failures.append(f"{role} GET {probe.url} [{probe.relation}]: policy says {want}, "
                            f"answered {response.status_code} {response.get('Location', '')}")
    print(f"\n{role}: {sent} GETs, {time.process_time() - started:.2f} s CPU")
    # Every page and endpoint is reached, but for POST-only actions (the unsafe pass's part).
    covered = {probe.name for probe in probes} | ROLE_FREE | {
        probe.name for probe in unsafe_probes(world) if not _takes(probe.url, "GET")}
    lost = sorted({route.name for route in all_routes()
                   if not route.template.startswith("admin/") and route.name not in covered})
    assert not lost, f"routes the matrix did not reach as {role}: {lost}"
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.usefixtures("crawl_settings")
def test_a_refused_role_cannot_change_anything(
    role: str, territory: Territory, request: pytest.FixtureRequest,
) -> None:
    """POST (and PATCH/DELETE on API details) by every role the policy refuses, on the in and
    the out object: a refusal, and not one row written."""
    started = time.process_time()
    world = build_world(territory, request)
    client = client_for(world, role)
    failures: list[str] = []
    sent = rolled_back = 0
    snapshot = database_snapshot()
    for probe in unsafe_probes(world):
        if probe.relation == "out" and _signed_out(role, probe):
            continue
        rule = rule_for(probe.name)
        assert rule is not None, probe.name
        for method in ("POST", "PATCH", "DELETE"):
            if method != "POST" and not (probe.is_api and probe.relation in ("in", "out")):
                continue
            if not _takes(probe.url, method) or expected(
                    rule, role, probe.relation, method, probe.name) != DENY:
                continue
            if _refused_outright_elsewhere(rule, role, probe, method):
                continue
            sent += 1
            with recording_writes() as writes:
                try:
                    response = _send(client, method, probe, post_body(world, probe.name))
                except Exception as error:
                    failures.append(f"{role} {method} {probe.url}: {_describe(error)}")
                    continue
            changed = sorted(table for table in writes
                             if table_digest(table) != snapshot.get(table))
            rolled_back += bool(writes) and not changed
            if outcome(response, probe.relation) == ALLOW or changed:
                failures.append(f"{role} {method} {probe.url} [{probe.relation}]: refused by the "
                                f"policy, answered {response.status_code} "
                                f"{response.get('Location', '')}, changed {changed}")
    print(f"\n{role}: {sent} refused unsafe requests ({rolled_back} wrote and rolled back), "
          f"{time.process_time() - started:.2f} s CPU")
    assert not failures, "\n".join(failures)


def _refused_outright_elsewhere(rule: Rule, role: str, probe: Probe, method: str) -> bool:
    """A role the row refuses even on its own community's object is refused before any object
    is loaded: posting it the other community's object too would only double the bill. Roles
    the row admits are the ones the other community's object tests (the scope check)."""
    home = "out" if role == "outsider" else "in"
    return (rule.scoped and probe.relation in ("in", "out") and probe.relation != home
            and expected(rule, role, home, method, probe.name) == DENY)


SKIP_UNSAFE = {"accounts:logout", "admin:logout", "set_language"}  # they change only the session


def unsafe_probes(world: World) -> list[Probe]:
    probes = []
    for route in all_routes():
        if route.template.startswith("admin/") or route.name in SKIP_UNSAFE:
            continue
        if not any(param in OBJECT_PARAMS for param in route.params):
            url = _fill(world, route, world.real)
            if url is not None:
                probes.append(_probe(url, "none"))
            continue
        for relation, table in (("in", world.real), ("out", world.other)):
            url = _fill(world, route, table)
            if url is not None:
                probes.append(_probe(url, relation))
    return probes


# --- the table for reviewers --------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-matrix.md"
COLUMNS = ["anonymous", "resident", "microgrid_worker", "grid_worker", "community_staff",
           "street_admin", "outsider", "api_key"]


def _cell(rule: Rule, role: str) -> str:
    on_in = expected(rule, role, "in") == ALLOW
    on_out = expected(rule, role, "out") == ALLOW
    if not rule.scoped:
        return "✓" if on_in else "·"
    if on_in and on_out:
        return "✓"
    return "own" if on_in or on_out else "·"


def matrix_markdown() -> str:
    paths: dict[str, str] = {}
    for route in all_routes():
        if not route.template.startswith("admin/"):
            paths.setdefault(route.name, "/" + re.sub(r"%\((\w+)\)s", r"{\1}", route.template))
    lines = [
        "# Access matrix",
        "",
        "Generated from `POLICY` in tests/core/test_access_matrix.py "
        "(`ACCESS_MATRIX_WRITE=1 pytest tests/core/test_access_matrix.py -k written`); the test "
        "fails when this file and the table differ. Every cell is checked by requests: GET by "
        "every role on an object of its own community, and on one of the other community where "
        "the row admits the role; POST (PATCH, DELETE on API details) by every refused role, "
        "which must be refused and change nothing.",
        "",
        "✓ allowed (on any object the route names) · `own` only on an object inside the role's "
        "own scope (the resident: their own; staff: their area; the outsider is a grid worker "
        "of the other community) · `·` refused: 401/403/404, or the sign-in page.",
        "An object-less route marked ✓ still shows each role only its own scope's rows.",
        "",
        "| URL name | path | " + " | ".join(COLUMNS) + " | note |",
        "|---|---|" + "---|" * len(COLUMNS) + "---|",
    ]
    for name, rule in POLICY.items():
        cells = " | ".join(_cell(rule, role) for role in COLUMNS)
        note = rule.note + (f" POST: {POST_POLICY[name]} only." if name in POST_POLICY else "")
        lines.append(f"| `{name}` | `{paths.get(name, '')}` | {cells} | {note.strip()} |")
    lines += ["", "The admin (`/admin/`), by URL-name pattern:", "",
              "| pattern | " + " | ".join(COLUMNS) + " | note |",
              "|---|" + "---|" * len(COLUMNS) + "---|"]
    for pattern, rule in ADMIN_POLICY:
        cells = " | ".join(_cell(rule, role) for role in COLUMNS)
        lines.append(f"| `{pattern}` | {cells} | {rule.note} |")
    return "\n".join(lines) + "\n"


def test_the_matrix_is_written_out_for_reviewers() -> None:
    text = matrix_markdown()
    if os.environ.get("ACCESS_MATRIX_WRITE"):
        DOC.write_text(text, encoding="utf-8")
    assert DOC.exists() and DOC.read_text(encoding="utf-8") == text, (
        "docs/access-matrix.md is stale: ACCESS_MATRIX_WRITE=1 pytest "
        "tests/core/test_access_matrix.py -k written")
