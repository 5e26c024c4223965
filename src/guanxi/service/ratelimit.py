"""Counting a public page's submissions in the shared cache (CACHES: Redis or a file cache, so
every worker sees the same counts), per client address and per customer link."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

HOUR = 3600


def client_ip(request) -> str:
    """The client's address: the socket's, or behind ``GUANXI_TRUSTED_PROXIES`` reverse proxies
    the right-most ``X-Forwarded-For`` entry not added by one of them (the left ones are forgeable)."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    trusted = int(getattr(settings, "GUANXI_TRUSTED_PROXIES", 0) or 0)
    if trusted <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    chain = forwarded + [remote]  # the right-most `trusted` of these were seen by our proxies
    return chain[-(trusted + 1)] if len(chain) > trusted else chain[0]


def hit(key: str, limit: int, window: int = HOUR) -> bool:
    """Count one submission under ``key``; False when the window's ``limit`` is already used."""
    key = f"guanxi-service-rate:{key}"
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    return count <= limit
