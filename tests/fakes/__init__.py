"""Fake outside services on 127.0.0.1 (the SMS gateway, WeChat) that check requests as the real
ones do; each can also run by hand (`python -m tests.fakes.<name>`) for `make run`."""

from __future__ import annotations

import threading
from typing import Any


def print_until_interrupted(server: Any, sent: list[Any]) -> None:
    """Run by hand: print each message the fake accepts as it comes, until Ctrl-C."""
    seen = 0
    try:
        while True:
            threading.Event().wait(1)
            for message in sent[seen:]:
                print(message, flush=True)
            seen = len(sent)
    except KeyboardInterrupt:
        server.shutdown()
