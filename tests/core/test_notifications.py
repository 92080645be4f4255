"""站内消息: written once per (user, key), mailed only when new, read only by their user (pages and API), the bell."""

import json
import logging

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dangjian.core import notifications
from dangjian.core.models import ApiToken, Notification


@pytest.fixture
def mailbox(settings, company):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    company.staff.email = "staff@example.com"
    company.staff.save(update_fields=["email"])
    return company


def test_notify_writes_once_per_key_and_mails_only_new_rows(mailbox, django_capture_on_commit_callbacks):
    c = mailbox
    with django_capture_on_commit_callbacks(execute=True):
        created = notifications.notify([c.staff, c.secretary_a, c.staff], "eval.digest", "本月还有 3 个组织未报送",
                                       body="共 4 个参评组织。", url="/assessments/", key="eval:1:submit_due:due")
    assert {n.user_id for n in created} == {c.staff.pk, c.secretary_a.pk}
    assert Notification.objects.count() == 2
    # secretary A has no e-mail address: one mail, to the staff member, with the message and its link
    assert [m.to for m in mail.outbox] == [["staff@example.com"]]
    assert "本月还有 3 个组织未报送" in mail.outbox[0].subject and "/assessments/" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        again = notifications.notify([c.staff, c.secretary_a], "eval.digest", "本月还有 3 个组织未报送",
                                     key="eval:1:submit_due:due")
    assert again == [] and Notification.objects.count() == 2 and len(mail.outbox) == 1


def test_a_notice_without_key_is_always_written_and_email_can_be_off(mailbox, django_capture_on_commit_callbacks):
    c = mailbox
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify([c.staff], "eval.objection", "异议", email=False)
        notifications.notify([c.staff.pk], "eval.objection", "异议", email=False)
    assert Notification.objects.filter(user=c.staff).count() == 2 and not mail.outbox


def test_a_failing_mail_is_logged_and_keeps_the_messages(mailbox, django_capture_on_commit_callbacks, monkeypatch,
                                                          caplog):
    def broken(self, *a, **kw):
        raise OSError("smtp down")

    monkeypatch.setattr(mail.EmailMessage, "send", broken)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        created = notifications.notify([mailbox.staff], "eval.digest", "进度", key="k1")
    assert len(created) == 1 and Notification.objects.filter(key="k1").exists()
    assert "notification e-mail" in caplog.text


def test_mail_is_not_sent_for_a_rolled_back_transaction(mailbox, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                notifications.notify([mailbox.staff], "eval.digest", "进度", key="k2")
                raise RuntimeError
        except RuntimeError:
            pass
    assert not callbacks and not mail.outbox and not Notification.objects.exists()


def test_urls_leaving_the_platform_are_dropped(company):
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "x/y"):
        assert notifications.make(company.staff, "eval.digest", "t", url=bad).url == ""
    assert notifications.make(company.staff, "eval.digest", "t", url="/assessments/3/").url == "/assessments/3/"


def test_unread_count_and_mark_read_touch_only_own_messages(company):
    mine = notifications.notify([company.staff], "eval.digest", "a")[0]
    notifications.notify([company.staff], "eval.digest", "b")
    other = notifications.notify([company.secretary_a], "eval.digest", "c")[0]
    assert notifications.unread_count(company.staff) == 2
    assert notifications.mark_read(company.staff, [mine.pk, other.pk]) == 1
    assert notifications.unread_count(company.staff) == 1 and notifications.unread_count(company.secretary_a) == 1
    assert notifications.mark_read(company.staff, "all") == 1
    assert notifications.unread_count(company.staff) == 0 and notifications.unread_count(company.secretary_a) == 1
    assert notifications.mark_read(company.staff, ["x"]) == 0


# ---- pages ---------------------------------------------------------------------------------------------------------


def _msg(user, title="本月还有 2 个组织未报送", url="/assessments/", **kw):
    return Notification.objects.create(user=user, kind=kw.pop("kind", "eval.digest"), title=title, url=url, **kw)


def test_the_list_shows_own_messages_with_unread_filter(client, company):
    a = _msg(company.staff, "未读的消息")
    b = _msg(company.staff, "已读的消息")
    notifications.mark_read(company.staff, [b.pk])
    _msg(company.secretary_a, "别人的消息")
    client.force_login(company.staff)
    body = client.get(reverse("notifications:list")).content.decode()
    assert "未读的消息" in body and "已读的消息" in body and "别人的消息" not in body
    body = client.get(reverse("notifications:list") + "?status=unread").content.decode()
    assert "未读的消息" in body and "已读的消息" not in body
    assert reverse("notifications:open", args=[a.pk]) in body
    body = client.get(reverse("notifications:list") + "?status=read&kind=eval.digest").content.decode()
    assert "已读的消息" in body and "未读的消息" not in body


def test_opening_a_message_marks_it_read_and_follows_its_link(client, company):
    n = _msg(company.secretary_a, url="/assessments/")
    client.force_login(company.secretary_a)
    resp = client.get(reverse("notifications:open", args=[n.pk]))
    assert resp.status_code == 302 and resp.url == "/assessments/"
    n.refresh_from_db()
    assert n.read_at is not None


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_a_link_outside_the_platform_is_refused(client, company, url):
    n = _msg(company.secretary_a, url=url)  # written around notify (which would have dropped it)
    client.force_login(company.secretary_a)
    resp = client.get(reverse("notifications:open", args=[n.pk]), follow=True)
    assert resp.redirect_chain[-1][0] == reverse("notifications:list")
    assert "已拒绝打开" in resp.content.decode()


def test_another_users_message_is_404_and_unchanged(client, company):
    n = _msg(company.staff)
    client.force_login(company.secretary_a)
    assert client.get(reverse("notifications:open", args=[n.pk])).status_code == 404
    assert client.post(reverse("notifications:read", args=[n.pk])).status_code == 404
    client.post(reverse("notifications:read_all"))
    n.refresh_from_db()
    assert n.read_at is None


def test_mark_one_and_all_read_by_post(client, company):
    a, b, c = (_msg(company.staff, f"消息{i}") for i in range(3))
    client.force_login(company.staff)
    assert client.get(reverse("notifications:read", args=[a.pk])).status_code == 405
    resp = client.post(reverse("notifications:read", args=[a.pk]), {"next": "/notifications/?status=unread"})
    assert resp.status_code == 302 and resp.url == "/notifications/?status=unread"
    resp = client.post(reverse("notifications:read", args=[b.pk]), {"next": "https://evil.example/"})
    assert resp.url == reverse("notifications:list")
    assert notifications.unread_count(company.staff) == 1
    client.post(reverse("notifications:read_all"))
    assert notifications.unread_count(company.staff) == 0
    c.refresh_from_db()
    assert c.read_at is not None


def test_the_bell_shows_the_unread_count_on_every_page_for_one_query(client, company):
    client.force_login(company.member_user_a)
    body = client.get(reverse("home")).content.decode()
    assert 'data-testid="bell"' in body and 'data-testid="bell-count"' not in body
    for i in range(3):
        _msg(company.member_user_a, f"消息{i}")
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(reverse("home")).content.decode()
    assert 'data-testid="bell-count">3<' in body
    assert sum("core_notification" in q["sql"] for q in ctx.captured_queries) == 1
    Notification.objects.bulk_create([Notification(user=company.member_user_a, kind="eval.digest", title=str(i))
                                      for i in range(120)])
    assert 'data-testid="bell-count">99+<' in client.get(reverse("home")).content.decode()


def test_the_list_runs_a_constant_number_of_queries(client, company):
    client.force_login(company.staff)
    counts = []
    for n in (3, 40):
        Notification.objects.bulk_create([Notification(user=company.staff, kind="eval.digest", title=f"t{i}")
                                          for i in range(n)])
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("notifications:list") + "?status=unread").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 15, counts


def test_the_list_exports_own_messages_to_excel(client, company):
    import io

    from openpyxl import load_workbook

    _msg(company.staff, "我的消息")
    _msg(company.secretary_a, "别人的消息")
    client.force_login(company.staff)
    resp = client.get(reverse("notifications:list") + "?format=xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    titles = [row[2] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert titles == ["我的消息"]


# ---- API -----------------------------------------------------------------------------------------------------------


def _auth(user):
    return {"Authorization": f"Bearer {ApiToken.issue(user)}"}


def test_api_lists_own_messages_with_unread_filter(client, company):
    a = _msg(company.staff, "一")
    b = _msg(company.staff, "二")
    _msg(company.secretary_a, "别人的")
    notifications.mark_read(company.staff, [b.pk])
    data = client.get("/api/v1/notifications", headers=_auth(company.staff)).json()
    assert data["count"] == 2 and data["unread"] == 1 and {i["title"] for i in data["items"]} == {"一", "二"}
    data = client.get("/api/v1/notifications?unread=true", headers=_auth(company.staff)).json()
    assert [i["id"] for i in data["items"]] == [a.pk] and data["items"][0]["kind_label"] == "考评进度"
    data = client.get("/api/v1/notifications?unread=false&limit=1", headers=_auth(company.staff)).json()
    assert [i["id"] for i in data["items"]] == [b.pk]


def test_api_marks_own_messages_read_and_another_users_id_is_404(client, company):
    mine, other = _msg(company.staff), _msg(company.secretary_a)
    h = _auth(company.staff)
    resp = client.post(f"/api/v1/notifications/{other.pk}/read", headers=h)
    assert resp.status_code == 404
    other.refresh_from_db()
    assert other.read_at is None
    resp = client.post(f"/api/v1/notifications/{mine.pk}/read", headers=h)
    assert resp.status_code == 200 and resp.json() == {"marked": 1, "unread": 0}
    _msg(company.staff)
    resp = client.post("/api/v1/notifications/read-all", headers=h)
    assert resp.json() == {"marked": 1, "unread": 0}
    assert client.get("/api/v1/notifications").status_code == 401
    assert json.loads(client.post("/api/v1/notifications/read-all").content)["detail"]
