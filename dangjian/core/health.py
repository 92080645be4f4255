"""``GET /healthz/``: the load balancer's probe (docs/deploy.md) and the hello-world baseline of the page
benchmark (bench/bench_pages.py, QUALITY.md P2).

It answers "ok" and nothing else: no database query, no session, no login, no version or host name. The view is
in dangjian/urls.py like any other page; ``HealthzMiddleware`` (right after Django's SecurityMiddleware, so the
security headers are still set) answers the probe before the session, authentication and second-factor
middleware run — with a session cookie those would read the session and the user and, as every request saves the
session (SESSION_SAVE_EVERY_REQUEST), write it. Plain HTTP is exempt from the HTTPS redirect
(SECURE_REDIRECT_EXEMPT) so that a probe on the app server's own port gets its 200.
"""

from django.http import HttpResponse, HttpResponseNotAllowed

PATH = "/healthz/"


def healthz(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    response = HttpResponse(b"ok", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


class HealthzMiddleware:
    """Answers ``/healthz/`` at once; every other request goes on unchanged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH:
            return healthz(request)
        return self.get_response(request)
