"""The client's address behind a reverse proxy (core/proxy.py, TRUSTED_PROXIES)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from dangjian.core.models import AuditEvent
from dangjian.core.proxy import client_address, parse_networks
from tests.factories import PASSWORD

NGINX = parse_networks("127.0.0.1, 10.0.8.0/24, ::1")


@pytest.mark.parametrize("remote, forwarded, expected", [
    ("127.0.0.1", "203.0.113.9", "203.0.113.9"),  # nginx on the app server
    ("10.0.8.5", "203.0.113.9, 10.0.8.7", "203.0.113.9"),  # load balancer, then nginx: both trusted
    ("127.0.0.1", "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client's own header is not believed
    ("198.51.100.1", "203.0.113.9", "198.51.100.1"),  # not from a proxy: X-Forwarded-For ignored
    ("127.0.0.1", "", "127.0.0.1"),  # a proxy that sent no header
    ("127.0.0.1", "garbage, 10.0.8.7", "10.0.8.7"),  # stop at what a proxy cannot have written
    ("::1", "2001:db8::7", "2001:db8::7"),
])
def test_client_address(remote, forwarded, expected):
    assert client_address(remote, forwarded, NGINX) == expected


def test_a_bad_trusted_proxies_value_is_refused_in_chinese():
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        parse_networks("127.0.0.1, nginx-host")


def test_without_trusted_proxies_the_header_changes_nothing(client, company):
    client.post(reverse("login"), {"username": "staff", "password": PASSWORD}, REMOTE_ADDR="127.0.0.1",
                HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert AuditEvent.objects.get(action="auth.login").ip == "127.0.0.1"


def test_behind_a_trusted_proxy_audit_and_lockout_see_the_client(client, company, settings):
    settings.TRUSTED_PROXIES = "127.0.0.1"
    client.post(reverse("login"), {"username": "staff", "password": "wrong"}, REMOTE_ADDR="127.0.0.1",
                HTTP_X_FORWARDED_FOR="203.0.113.9")
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.ip == "203.0.113.9"
    from axes.models import AccessAttempt

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.9"]
    client.post(reverse("login"), {"username": "staff", "password": PASSWORD}, REMOTE_ADDR="127.0.0.1",
                HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert AuditEvent.objects.get(action="auth.login").ip == "203.0.113.10"
