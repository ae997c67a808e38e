"""{% frozen %}: the chrome rendered once per language and per given value, nothing else kept."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.utils import translation

ENGINE = Engine(libraries={"frozen": "core.templatetags.frozen",
                           "i18n": "django.templatetags.i18n"})


def frozen(source: str) -> Template:
    return ENGINE.from_string("{% load frozen i18n %}" + source)


def test_a_frozen_block_shows_no_variable_it_was_not_given():
    page = frozen("{% frozen %}[{{ user }}|{{ csrf_token }}]{% endfrozen %}")
    assert page.render(Context({"user": "王秀英", "csrf_token": "abc"})) == "[|]"


def test_a_frozen_block_is_rendered_once_and_then_repeated():
    page = frozen("{% frozen %}{% now 'u' %}{% endfrozen %}")  # microseconds: never twice alike
    first = page.render(Context())
    assert page.render(Context()) == first


def test_a_frozen_block_renders_again_for_each_language():
    page = frozen('{% frozen %}{% translate "退出" %}{% endfrozen %}')
    with translation.override("zh-hans"):
        assert page.render(Context()) == "退出"
    with translation.override("en"):
        assert page.render(Context()) == "Sign out"
    with translation.override("zh-hans"):
        assert page.render(Context()) == "退出"


def test_a_frozen_block_renders_again_for_each_value_it_is_given():
    page = frozen('{% frozen role=user.role %}{% if role == "street_admin" %}剔除审批'
                  "{% endif %}{{ user.username }}{% endfrozen %}")
    street = {"user": {"role": "street_admin", "username": "street"}}
    grid = {"user": {"role": "grid_worker", "username": "grid1"}}
    assert page.render(Context(street)) == "剔除审批"  # the user itself is not in the block
    assert page.render(Context(grid)) == ""
    assert page.render(Context(street)) == "剔除审批"


@pytest.mark.parametrize("tag", ["{% frozen user %}", "{% frozen 1x=user %}"])
def test_a_frozen_block_takes_name_value_pairs_only(tag):
    with pytest.raises(TemplateSyntaxError):
        frozen(tag + "{% endfrozen %}")
