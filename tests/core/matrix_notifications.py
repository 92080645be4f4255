"""Rows of this part for tests/test_permission_matrix.py (PAGES: url name → (method, kwargs, {persona: status}))
and tests/test_api_matrix.py (API: (method, path) → (kwargs, body, {persona: status})), in their formats; the two
matrices import them and run them. See tests/service/matrix_dashboards.py for an example.

站内消息 are a user's own: every signed-in persona has a list (200) and may mark all read; one message (member A's)
is opened or marked read by its user only — anyone else gets 404, as for an object outside their scope."""

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]


def _row(ok, anonymous, owner_only=False, other=404):
    row = {p: (ok if not owner_only or p == "member_user_a" else other) for p in PERSONAS}
    row["anonymous"] = anonymous
    return row


def _message(c):
    """A message of member A with a link inside the platform."""
    if not hasattr(c, "message_a"):
        from dangjian.core.models import Notification

        c.message_a = Notification.objects.create(user=c.member_user_a, kind="eval.published", title="考评结果已公示",
                                                  url="/notifications/")
    return c


PAGES = {
    "notifications:list": ("get", None, _row(200, 302)),
    "notifications:open": ("get", lambda c: {"pk": _message(c).message_a.pk}, _row(302, 302, owner_only=True)),
    "notifications:read": ("post", lambda c: {"pk": _message(c).message_a.pk}, _row(302, 302, owner_only=True)),
    "notifications:read_all": ("post", None, _row(302, 302)),
}

API = {
    ("get", "/api/v1/notifications"): (None, None, _row(200, 401)),
    ("post", "/api/v1/notifications/{notification_id}/read"): (
        lambda c: {"notification_id": _message(c).message_a.pk}, None, _row(200, 401, owner_only=True)),
    ("post", "/api/v1/notifications/read-all"): (None, None, _row(200, 401)),
}
