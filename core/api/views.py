"""The API's shared pieces: one id pattern, one input parser, one read-only viewset.

Every app's API used to carry its own copy of each; one copy here keeps a 404 for a bad id and
a 400 for bad input the same in every app.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model
from rest_framework import mixins, serializers, viewsets

_M = TypeVar("_M", bound=Model)

# A non-numeric or absurdly long id is a guess like any other: a 404 from the URL resolver, not
# a 500. Fifteen digits also keep every id inside the database's integer range.
ID_LOOKUP_REGEX = r"[0-9]{1,15}"


def validated(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    """The input `data` as `serializer_class` cleans it; invalid input raises the API's 400."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# List and retrieve only. No docstring on purpose: drf-spectacular would print it as the
# description of every viewset below that has none of its own.
class ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet[_M]):
    filter_backends: list[Any] = []  # the selectors apply the FilterSets
    lookup_value_regex = ID_LOOKUP_REGEX
