"""Frozen months rendered once (ARCHITECTURE.md: walls and rankings of a finalized month read only frozen rows "and
may be cached as rendered HTML"; QUALITY.md P2).

A page of a frozen month keeps its per-request parts — the access check (always first), the digest check, the
navigation, the user's menu, the CSRF token — and takes its expensive fragment (the wall's cards, the results
table) from Django's cache. The key is a SHA-256 over everything the fragment's HTML is made of:

- the view's name and the fragment template's own source (a deployed template change is a new key);
- the language and the script prefix (URLs inside the fragment);
- the month's stored digest, and what the caller adds: the frozen rows' figures as read for this request, the
  data that is not frozen but shown (a member's photo, post and pledge; an organization type's name), the user's
  scope (the SQL of the scoped query), filters and page.

So nothing is ever invalidated by hand: an adjustment, a new digest or an edited pledge is a different key, and the
old entry ages out (``FROZEN_CACHE_SECONDS``). With one cache per process (LocMemCache) each worker renders a
fragment once; with Redis (``CACHE_URL``) the workers share it. A cache that fails (Redis down) is logged and the
fragment is rendered as if it were not cached: the page never fails because of the cache.
"""

import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

CACHE_ALIAS = "default"
PREFIX = "frozen:v1"
_template_tokens: dict[str, str] = {}


def template_token(name: str) -> str:
    """A short hash of the template's source (per process, read once): the key changes when the template does."""
    token = _template_tokens.get(name)
    if token is None:
        template = get_template(name)
        source = getattr(getattr(template, "template", None), "source", "") or name
        token = hashlib.sha256(source.encode()).hexdigest()[:16]
        _template_tokens[name] = token
    return token


def key(view: str, template: str, parts) -> str:
    """The cache key of ``view``'s fragment rendered from ``template`` with ``parts`` (any values whose ``repr``
    is stable: numbers, strings, dates, decimals, tuples of them)."""
    h = hashlib.sha256()
    for piece in (view, template_token(template), get_language() or "", get_script_prefix(),
                  str(getattr(settings, "FROZEN_CACHE_VERSION", "")), repr(parts)):
        h.update(piece.encode())
        h.update(b"\x00")
    return f"{PREFIX}:{view}:{h.hexdigest()}"


def fragment(view: str, template: str, parts, render: Callable[[], str]) -> SafeString:
    """The fragment's HTML from the cache, or ``render()`` (the template rendered with the data) stored there.

    ``render`` returns the HTML of ``template``; it is called only on a miss, so whatever it alone reads (the
    page of rows of a ranking) is not read on a hit."""
    k = key(view, template, parts)
    cache = caches[CACHE_ALIAS]
    try:
        html = cache.get(k)
    except Exception:  # a shared cache that is down must not take the page with it
        logger.warning("frozen cache: read failed for %s", view, exc_info=True)
        # The fragment is a template's own output (escaped by the template engine), here and below.
        return mark_safe(render())  # nosec B308, B703
    if html is not None:
        return mark_safe(html)  # nosec B308, B703
    html = str(render())
    try:
        cache.set(k, html, getattr(settings, "FROZEN_CACHE_SECONDS", 24 * 3600))
    except Exception:
        logger.warning("frozen cache: write failed for %s", view, exc_info=True)
    return mark_safe(html)  # nosec B308, B703


__all__ = ["fragment", "key", "template_token"]
