"""The client's IP address, trusting X-Forwarded-For only as far as our own proxies set it."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the address our outermost proxy saw when settings.NUM_PROXIES > 0.

    Every proxy appends the address it received the connection from, so with N proxies the
    client's address is the Nth entry from the right; anything further left was written by the
    client and may be forged. Too few entries means the request bypassed a proxy: fall back to
    REMOTE_ADDR rather than trusting the header.
    """
    remote_addr = _valid_ip(request.META.get("REMOTE_ADDR", "") or "")
    num_proxies: int = settings.NUM_PROXIES
    if num_proxies <= 0:
        return remote_addr
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") or ""
    addresses = [address for address in forwarded.split(",") if address.strip()]
    if len(addresses) < num_proxies:
        return remote_addr
    return _valid_ip(addresses[-num_proxies]) or remote_addr
