from typing import Any

from django import forms
from django.db.models import Model

class MoveNodeForm(forms.ModelForm[Any]):
    def save(self, commit: bool = True) -> Any: ...

def movenodeform_factory(model: type[Model], form: type[MoveNodeForm] = ...,
                         exclude: Any = None, **kwargs: Any) -> type[MoveNodeForm]: ...
