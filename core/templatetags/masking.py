"""Template filters over core.masking: `{% load masking %}` then `{{ text|mask_numbers }}`.

Free text (a petition's description) can carry a phone or ID number the resident typed; on a
staff page it is shown with those numbers masked, since whole numbers are shown only through an
audited reveal (the contact's phone has one)."""

from __future__ import annotations

from django import template

from core.masking import mask_numbers_in

register = template.Library()


@register.filter
def mask_numbers(text: str | None) -> str:
    return mask_numbers_in(text or "")
