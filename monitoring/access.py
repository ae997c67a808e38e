"""Who may read /metrics: a client address in METRICS_ALLOWED_IPS (addresses or networks, as
core.ip resolves it behind NUM_PROXIES proxies) or a caller with `Authorization: Bearer
<METRICS_TOKEN>`. Neither configured: nobody."""

from __future__ import annotations

import hmac
import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

from core.ip import client_ip

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries
                 if entry.strip())


def address_allowed(request: HttpRequest) -> bool:
    """A request that came through a proxy but with fewer X-Forwarded-For entries than
    NUM_PROXIES is refused: core.ip would answer the peer's address, which is the proxy's own
    (nginx, inside an allowed compose network). A request without the header came directly."""
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if hops and len(hops) < settings.NUM_PROXIES:
        return False
    address = client_ip(request)
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


def token_allowed(request: HttpRequest) -> bool:
    token: str = settings.METRICS_TOKEN
    scheme, _sep, offered = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(
        offered.strip().encode(), token.encode())


def metrics_allowed(request: HttpRequest) -> bool:
    return token_allowed(request) or address_allowed(request)
