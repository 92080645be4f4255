"""The client's address behind a reverse proxy (docs/deploy.md).

Behind nginx every request reaches the app server from nginx's address: the audit log, the login lockout
(django-axes counts failures per username and address) and the rate limits of the public forms would all see one
client. ``TrustedProxyMiddleware`` puts the real client's address in ``REMOTE_ADDR`` — where all of them read it —
but only for a request that comes from an address listed in TRUSTED_PROXIES (comma-separated addresses or networks,
e.g. ``127.0.0.1`` when nginx runs on the app server, ``10.0.8.0/24`` for a load-balancer tier). From anywhere else
X-Forwarded-For is ignored, so a client cannot choose its own address. The header is read from the right: each
trusted proxy appended the address it saw, and the first address that is not a trusted proxy is the client.
Without TRUSTED_PROXIES nothing changes.
"""

import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def parse_networks(value: str) -> list:
    networks = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES 中的“{part}”不是 IP 地址或网段（例如 127.0.0.1 或 10.0.8.0/24）。") from exc
    return networks


def _trusted(address, networks) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def client_address(remote_addr: str, forwarded_for: str, networks: list) -> str:
    """The client's address: ``remote_addr`` unless it is a trusted proxy, then the right-most address of
    ``forwarded_for`` that is not one (the left-most when all are)."""
    try:
        hop = ipaddress.ip_address(remote_addr)
    except ValueError:
        return remote_addr
    if not _trusted(hop, networks):
        return remote_addr
    client = remote_addr
    for part in reversed((forwarded_for or "").split(",")):
        try:
            hop = ipaddress.ip_address(part.strip())
        except ValueError:
            break  # a proxy would not have written this: stop at the last address we can vouch for
        client = str(hop)
        if not _trusted(hop, networks):
            break
    return client


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.networks = parse_networks(getattr(settings, "TRUSTED_PROXIES", ""))

    def __call__(self, request):
        if self.networks:
            meta = request.META
            meta["REMOTE_ADDR"] = client_address(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""),
                                                 self.networks)
        return self.get_response(request)
