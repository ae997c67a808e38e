from typing import Any, ClassVar, TypeVar

from django.db import models
from treebeard.models import Node, NodeManager

_N = TypeVar("_N", bound=MP_Node)

class MP_NodeQuerySet(models.QuerySet[_N, _N]):
    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]: ...

class MP_NodeManager(NodeManager[_N]):
    def get_queryset(self) -> MP_NodeQuerySet[_N]: ...

class MP_Node(Node):
    steplen: ClassVar[int]
    alphabet: ClassVar[str]
    path = models.CharField(max_length=255, unique=True)
    depth = models.PositiveIntegerField()
    numchild = models.PositiveIntegerField(default=0)
    @classmethod
    def _int2str(cls, num: int) -> str: ...
    @classmethod
    def _str2int(cls, num: str) -> int: ...
    @classmethod
    def _get_basepath(cls, path: str, depth: int) -> str: ...
    @classmethod
    def _get_path(cls, path: str | None, depth: int, newstep: int) -> str: ...
