"""Headers and deploy checks (QUALITY.md S1): the Content-Security-Policy allows nothing inline and nothing from
elsewhere, so no template may hold an inline script, a style attribute or an on* handler; the production
settings pass `manage.py check --deploy`."""

import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
TAG = re.compile(r"<[a-zA-Z][^<>]*>")


def _policy(resp):
    return {d.split()[0]: d.split()[1:] for d in resp["Content-Security-Policy"].split(";") if d.strip()}


def test_pages_carry_a_strict_content_security_policy(client, company):
    client.force_login(company.staff)
    for resp in (client.get(reverse("home")), client.get(reverse("login")), client.get("/no-such-page/")):
        policy = _policy(resp)
        assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"] and policy["img-src"] == ["'self'", "data:"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
        assert "unsafe-inline" not in resp["Content-Security-Policy"]
    resp = client.get(reverse("home"))
    assert resp["X-Frame-Options"] == "DENY" and resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Referrer-Policy"] == "same-origin"


def test_no_template_has_inline_script_style_or_event_handlers():
    templates = [p for p in (ROOT / "dangjian").rglob("*.html") if "templates" in p.parts]
    assert len(templates) > 20
    problems = []
    for path in templates:
        text = path.read_text(encoding="utf-8")
        if re.search(r"<style\b", text, re.I):
            problems.append(f"{path}: <style> element")
        for tag in TAG.findall(text):
            name = tag[1:].split()[0].rstrip(">").lower()
            if name == "script" and "src=" not in tag:
                problems.append(f"{path}: inline <script> {tag}")
            if re.search(r"\s(style|on[a-z]+)\s*=", tag, re.I):
                problems.append(f"{path}: {tag}")
            if "javascript:" in tag.lower():
                problems.append(f"{path}: javascript: URL {tag}")
    assert not problems, "\n".join(problems)


def test_production_settings_pass_check_deploy():
    env = {k: v for k, v in os.environ.items() if k not in ("DANGJIAN_ALLOW_DEV_KEY", "DEBUG", "SECURE_COOKIES",
                                                              "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS")}
    env.update(DEBUG="0", SECRET_KEY="p" * 20 + "-Zq8#x!long-random-production-key-7w2K9m4Nb", ALLOWED_HOSTS="dangjian.example.cn",
               SECURE_HSTS_INCLUDE_SUBDOMAINS="1", SECURE_HSTS_PRELOAD="1", DJANGO_SETTINGS_MODULE="dangjian.settings",
               FIELD_ENCRYPTION_KEYS="cHJvZC10ZXN0LWZpZWxkLWtleS0zMi1ieXRlcy1sb24=")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
