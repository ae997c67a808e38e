from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

class TreeAdmin(admin.ModelAdmin[Any]):
    def children_view(self, request: HttpRequest, parent_id: str) -> HttpResponse: ...
    def move_node(self, request: HttpRequest) -> HttpResponse: ...
