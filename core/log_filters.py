"""Log filters (settings.LOGGING): no API key and no whole phone or ID number in a log line.

runserver prints each request line with its query string, and a log line may quote a header. A
key there would be readable by whoever reads the logs, so it is starred before any handler
writes the line. (Open311 also refuses a key in the query string; gunicorn's access log leaves
query strings out: config/gunicorn.conf.py.) django.request's records carry the request, whose
repr holds the query string: its numbers are masked (PIPL) and its keys starred (a 405 to a
link previewer's HEAD on a 协办 link carries the token).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from celery import current_task
from pythonjsonlogger.json import JsonFormatter

from core.masking import mask_numbers_in
from core.middleware import current_request_id

REDACTED = "[已隐去]"
SECRET_PARAMETER = re.compile(r"(?i)\b(api_key|apikey|access_token)=[^&\s\"']+")
SECRET_HEADER = re.compile(r"(?i)\b(Api-Key|Bearer)\s+[A-Za-z0-9._~+/=-]{8,}")
# Bare values (an exception's text quoting them, an `extra`): an API key (accounts.models.ApiKey:
# 8 hex, a dot, token_urlsafe(32)); a WeChat openid ("o" and 27 url-safe characters, mixed case,
# as tests/leakscan.py finds them) and access_token (2-3 digits, "_", 100 or more).
_BARE = r"(?<![A-Za-z0-9_-]){}(?![A-Za-z0-9_-])"
API_KEY = re.compile(_BARE.format(r"[0-9a-f]{8}\.[A-Za-z0-9_-]{43}"))
OPENID = re.compile(_BARE.format(r"o[A-Za-z0-9_-]{27}"))
WECHAT_ACCESS_TOKEN = re.compile(_BARE.format(r"\d{2,3}_[A-Za-z0-9_-]{100,}"))


def _openid_redacted(match: re.Match[str]) -> str:
    value = match.group()
    is_mixed_case = any(char.isupper() for char in value) and any(char.islower()
                                                                   for char in value[1:])
    return REDACTED if is_mixed_case else value


def redact_secrets(text: str) -> str:
    text = SECRET_PARAMETER.sub(lambda match: f"{match.group(1)}={REDACTED}", text)
    text = SECRET_HEADER.sub(lambda match: f"{match.group(1)} {REDACTED}", text)
    text = API_KEY.sub(REDACTED, text)
    text = WECHAT_ACCESS_TOKEN.sub(REDACTED, text)
    return OPENID.sub(_openid_redacted, text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record whose message carries a key into the starred message (never drops)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to the formatter
            return True
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class MaskedRequest:
    """A request that shows itself with its numbers masked; everything else is the request's."""

    def __init__(self, request: object) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)

    def __repr__(self) -> str:
        # A one-time link's access_token is letters too: starred whole, not only its digits.
        return mask_numbers_in(redact_secrets(repr(self._request)))


class MaskedRequestFilter(logging.Filter):
    """django.request logs every 4xx and 5xx answer with its request, whose repr carries the
    query string: an exact lookup's phone or ID number (`?phone=…`, refused or throttled) would
    land whole in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, MaskedRequest):
            record.request = MaskedRequest(request)
        return True


class RequestIdFilter(logging.Filter):
    """Puts `request_id` (the web request's, or the one of the request that queued the running
    task) and `task_id` on every record, for the formatters ("-" when there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        if not hasattr(record, "task_id"):
            record.task_id = _current_task_id() or "-"
        return True


def _current_task_id() -> str:
    # celery's proxy is falsy outside a task (it is never None itself).
    if not current_task or not current_task.request.id:
        return ""
    return str(current_task.request.id)


# One JSON object a line (production; settings.LOG_FORMAT): these fields, then every `extra`.
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s"
JSON_RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


def masked(value: Any) -> Any:
    """`value` with whole phone and ID numbers masked and keys starred, in strings and in the
    lists, tuples and dicts that hold them; anything else as it is."""
    if isinstance(value, str):
        return mask_numbers_in(redact_secrets(value))
    if isinstance(value, list | tuple):
        return [masked(item) for item in value]
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    return value


class MaskingJsonFormatter(JsonFormatter):
    """The filters mend the message and the request; a traceback (an exception's text may quote
    a gateway's answer or a database error's DETAIL) and the `extra` fields are written as given.
    Every string of the line is masked here, last, whatever put it there."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: masked(value) for key, value in super().process_log_record(log_data).items()}


def json_formatter() -> logging.Formatter:
    """Chinese stays readable (no \\u escapes); times are ISO 8601 with the offset."""
    return MaskingJsonFormatter(JSON_FIELDS, rename_fields=JSON_RENAMED, json_ensure_ascii=False,
                         timestamp=False, datefmt="%Y-%m-%dT%H:%M:%S%z")
