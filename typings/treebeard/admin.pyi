from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

# Any model: one tree admin class serves both trees (territory.admin.KindRuleTreeAdmin), and
# Django's admin classes cannot be subscribed at run time to name one.
class TreeAdmin(admin.ModelAdmin[Any]):
    def children_view(self, request: HttpRequest, parent_id: str) -> HttpResponse: ...
    def move_node(self, request: HttpRequest) -> HttpResponse: ...
