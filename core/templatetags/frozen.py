"""{% frozen %}: a fragment rendered once per language (and per value of the names it is given)
in each process, then repeated as it was.

    {% load frozen %}
    {% frozen %}<a href="{% url 'home' %}">{% translate "社区治理门户" %}</a>{% endfrozen %}
    {% frozen role=user.role active=active %}…{% if role == "street_admin" %}…{% endfrozen %}

A page's chrome — links, labels, headings — is the same for everyone who reads it in one
language, yet each `{% translate %}` asks gettext and each `{% url %}` reverses again on every
request (about a third of the workbench's template time). Inside the block only the names given
to the tag exist: any other variable renders empty, so nothing of one request (a user's name,
a CSRF token, a count) can be kept and shown to the next reader. Give it only values with few
distinct states (a role, the active tab); never a user, an id or a token.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import FilterExpression, Parser, Token
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

# Distinct renders a block keeps (language × the values it is given); past it, starts over.
MAX_VARIANTS = 64


class FrozenNode(template.Node):
    def __init__(self, nodelist: template.NodeList, names: dict[str, FilterExpression]) -> None:
        self.nodelist = nodelist
        self.names = names
        self.rendered: dict[tuple[Any, ...], SafeString] = {}

    def render(self, context: Context) -> SafeString:
        values = {name: expression.resolve(context) for name, expression in self.names.items()}
        key = (get_language(), *values.values())
        html = self.rendered.get(key)
        if html is None:
            # context.new(): the template and its engine (for includes), none of the variables.
            html = mark_safe(self.nodelist.render(context.new(values)))  # rendered by the engine
            if len(self.rendered) >= MAX_VARIANTS:
                self.rendered.clear()
            self.rendered[key] = html
        return html


@register.tag("frozen")
def do_frozen(parser: Parser, token: Token) -> FrozenNode:
    names: dict[str, FilterExpression] = {}
    for bit in token.split_contents()[1:]:
        name, equals, expression = bit.partition("=")
        if not equals or not name.isidentifier():
            raise template.TemplateSyntaxError(
                f"{{% frozen %}} takes name=value pairs only, not {bit!r}")
        names[name] = parser.compile_filter(expression)
    nodelist = parser.parse(("endfrozen",))
    parser.delete_first_token()
    return FrozenNode(nodelist, names)
