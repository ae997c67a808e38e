"""Log filters (settings.LOGGING): no API key reaches a log line.

runserver prints each request line with its query string, and a log line may quote a header. A
key there would be readable by whoever reads the logs, so it is starred before any handler
writes the line. (Open311 also refuses a key in the query string; gunicorn's access log leaves
query strings out: config/gunicorn.conf.py.)
"""

from __future__ import annotations

import logging
import re

REDACTED = "[已隐去]"
SECRET_PARAMETER = re.compile(r"(?i)\b(api_key|apikey|access_token)=[^&\s\"']+")
SECRET_HEADER = re.compile(r"(?i)\b(Api-Key|Bearer)\s+[A-Za-z0-9._~+/=-]{8,}")


def redact_secrets(text: str) -> str:
    text = SECRET_PARAMETER.sub(lambda match: f"{match.group(1)}={REDACTED}", text)
    return SECRET_HEADER.sub(lambda match: f"{match.group(1)} {REDACTED}", text)


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
