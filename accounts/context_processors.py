"""The JS-SDK on pages opened in WeChat's browser (static/js/wechat.js)."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.staticfiles import finders
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse

from core import wechat

# WeChat's own jweixin file, placed by the operator (it cannot be vendored from here: the
# portal serves no CDN script, and res.wx.qq.com is one). Without it the pages stay plain.
JSSDK_PATH = "vendor/jweixin-1.6.0.js"


@functools.cache
def jssdk_script() -> str:
    """The vendored jweixin's URL, or "" when the operator has not placed it."""
    return static(JSSDK_PATH) if finders.find(JSSDK_PATH) else ""


def wechat_sdk(request: HttpRequest) -> dict[str, Any]:
    if not (wechat.is_configured()
            and wechat.is_wechat_browser(request.headers.get("User-Agent", ""))):
        return {}
    return {"wechat_sdk": {"script": jssdk_script(),
                           "config_url": reverse("accounts:wechat-jssdk")}}
