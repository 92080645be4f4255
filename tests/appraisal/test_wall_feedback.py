"""The public feedback form (群众监督, from the wall's QR code, no login): what is accepted and audited, and what is
refused with a Chinese sentence leaving no row — rate limits per client and per wall (counted in the database),
the honeypot, a post sooner than a person could type, oversized input, links, a bad contact, a member who is not on
the wall, a missing CSRF token."""

import datetime
import hashlib
import hmac

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dangjian.appraisal import forms_wall
from dangjian.appraisal import wall as services
from dangjian.appraisal.models import WallFeedback
from dangjian.core import public
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from tests.appraisal.test_wall import publish_month


@pytest.fixture(autouse=True)
def no_wait(settings):
    """People take seconds to type; tests post at once. One test below puts the wait back."""
    settings.WALL_FEEDBACK_MIN_SECONDS = 0


@pytest.fixture
def open_wall(company):
    c = company
    publish_month(c, c.branch_a, [c.member_a, c.secretary_member_a])
    c.public = services.enable_public_wall(c.secretary_a, c.branch_a)
    c.url = reverse("appraisal:wall_public_feedback", args=[c.public.key])
    return c


def post(client, c, **data):
    body = {"kind": "suggestion", "member": "", "text": "希望党员服务队周末也能到小区服务。", "contact": "",
            "website": "", "ts": forms_wall.form_token(c.public.key)}
    body.update({k: v for k, v in data.items() if not k.isupper()})
    return client.post(c.url, body, **{k: v for k, v in data.items() if k.isupper()})


def refused(resp, sentence):
    html = resp.content.decode()
    assert resp.status_code in (400, 413, 429), resp.status_code
    assert sentence in html, html[:3000]
    assert not WallFeedback.objects.exists()


# ---- the form -------------------------------------------------------------------------------------------------------


def test_form_is_csrf_protected_has_a_honeypot_and_offers_the_walls_members(client, open_wall):
    html = client.get(open_wall.url).content.decode()
    assert "csrfmiddlewaretoken" in html
    assert 'class="public-hp"' in html and 'name="website"' in html and 'tabindex="-1"' in html
    assert 'name="ts"' in html
    assert f'value="{open_wall.member_a.pk}"' in html and "张三" in html
    assert f'value="{open_wall.member_b.pk}"' not in html
    assert open_wall.member_a.phone not in html and open_wall.member_a.id_number not in html


def test_a_message_is_stored_audited_and_thanked(client, open_wall):
    c = open_wall
    resp = post(client, c, kind="praise", member=str(c.member_a.pk), text="张三师傅抢修及时，服务热情，点赞！",
                contact="13912345678", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert resp.status_code == 302 and resp.url == reverse("appraisal:wall_public_thanks", args=[c.public.key])
    fb = WallFeedback.objects.get()
    assert (fb.org, fb.member, fb.kind, fb.contact) == (c.branch_a, c.member_a, "praise", "13912345678")
    assert fb.read_at is None and fb.handled_at is None
    expected = hmac.new(django_settings.SECRET_KEY.encode(), b"127.0.0.1\nMozilla/5.0 (iPhone)",
                        hashlib.sha256).hexdigest()
    assert fb.client_hash == expected
    event = AuditEvent.objects.get(action="wall.feedback_received")
    assert event.org_path == c.branch_a.path and event.user is None
    assert "13912345678" not in str(event.data) and "点赞" not in str(event.data)
    assert "感谢您的监督" in client.get(resp.url).content.decode()


def test_email_and_landline_contacts_are_accepted(client, open_wall):
    assert post(client, open_wall, contact="zhang.san@example.com").status_code == 302
    assert post(client, open_wall, contact="0571-87654321", REMOTE_ADDR="10.0.0.9").status_code == 302
    assert sorted(WallFeedback.objects.values_list("contact", flat=True)) == ["0571-87654321",
                                                                              "zhang.san@example.com"]


def test_csrf_token_is_required(open_wall):
    client = Client(enforce_csrf_checks=True)
    resp = client.post(open_wall.url, {"kind": "praise", "text": "很好很好很好", "ts": forms_wall.form_token(
        open_wall.public.key)})
    assert resp.status_code == 403 and not WallFeedback.objects.exists()


# ---- rate limits ----------------------------------------------------------------------------------------------------


def test_a_fourth_message_within_the_hour_from_the_same_client_is_refused(client, open_wall):
    for i in range(3):
        assert post(client, open_wall, text=f"第{i + 1}条建议：加强巡视。").status_code == 302
    resp = post(client, open_wall, text="第4条建议：加强巡视。")
    assert resp.status_code == 429 and "一小时内已提交3条留言" in resp.content.decode()
    assert WallFeedback.objects.count() == 3
    # Another client (another address) is not held back.
    assert post(client, open_wall, text="另一位群众的建议。", REMOTE_ADDR="10.1.2.3").status_code == 302
    # Nor another browser behind the same address.
    assert post(client, open_wall, text="同一网络的另一部手机。", HTTP_USER_AGENT="Android").status_code == 302


def test_the_hourly_limit_counts_only_the_last_hour(client, open_wall):
    c = open_wall
    h = services.client_hash(type("R", (), {"META": {"REMOTE_ADDR": "127.0.0.1"}})())
    old = timezone.now() - datetime.timedelta(minutes=61)
    WallFeedback.objects.bulk_create([WallFeedback(org=c.branch_a, kind="praise", text="以前的留言", client_hash=h)
                                      for _ in range(3)])
    WallFeedback.objects.update(created_at=old)
    assert post(client, c).status_code == 302


def test_a_wall_takes_at_most_200_messages_a_day(client, open_wall):
    c = open_wall
    WallFeedback.objects.bulk_create([WallFeedback(org=c.branch_a, kind="suggestion", text="留言内容",
                                                   client_hash=f"{i:064x}") for i in range(200)])
    resp = post(client, c, REMOTE_ADDR="10.9.9.9")
    assert resp.status_code == 429 and "今日收到的留言已达上限" in resp.content.decode()
    assert WallFeedback.objects.count() == 200
    WallFeedback.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert post(client, c, REMOTE_ADDR="10.9.9.9").status_code == 302


def test_the_service_counts_limits_without_the_form(open_wall):
    c = open_wall
    for _ in range(3):
        services.submit_feedback(c.public.key, kind="praise", text="服务很好的", client="a" * 64)
    with pytest.raises(services.RateLimited):
        services.submit_feedback(c.public.key, kind="praise", text="服务很好的", client="a" * 64)
    assert WallFeedback.objects.count() == 3


# ---- refused input leaves no row -------------------------------------------------------------------------------------


def test_the_honeypot_leaves_no_row(client, open_wall):
    refused(post(client, open_wall, website="http://spam.example"), "提交失败，请刷新页面后重试")


def test_a_post_sooner_than_a_person_could_type_is_refused(client, open_wall, settings):
    settings.WALL_FEEDBACK_MIN_SECONDS = 3
    refused(post(client, open_wall), "提交过快")


@pytest.mark.parametrize("token", ["", "garbage", "KEY"])
def test_a_missing_forged_or_foreign_token_is_refused(client, open_wall, token):
    if token == "KEY":
        token = forms_wall.form_token("another-wall-key")
    refused(post(client, open_wall, ts=token), "页面已过期")


def test_an_expired_token_is_refused(client, open_wall, monkeypatch):
    token = forms_wall.form_token(open_wall.public.key)
    import time as time_module

    later = time_module.time() + public.TOKEN_MAX_AGE + 60
    monkeypatch.setattr(time_module, "time", lambda: later)
    refused(post(client, open_wall, ts=token), "页面已过期")


@pytest.mark.parametrize(("text", "sentence"), [
    ("好", "请至少填写5个字"),
    ("    短    ", "请至少填写5个字"),
    ("很" * 501, "内容不能超过500个字"),
    ("详情请见 http://example.com/a 谢谢", "不能包含网址或链接"),
    ("加我微信 www.abc.cn 了解", "不能包含网址或链接"),
    ("去 fake-shop.com 买便宜货", "不能包含网址或链接"),
    ("打开HTTPS://EVIL.CN看看吧", "不能包含网址或链接"),
    ("我的邮箱是 a@b.net 请联系", "不能包含网址或链接"),
])
def test_bad_text_is_refused_in_chinese(client, open_wall, text, sentence):
    refused(post(client, open_wall, text=text), sentence)


def test_an_oversized_post_is_refused_before_reading_it(client, open_wall):
    refused(post(client, open_wall, text="很" * 20000), "提交的内容过长")


@pytest.mark.parametrize("contact", ["12345", "abc", "139123456789", "a@b", "13912345678' OR 1=1", "x" * 41])
def test_a_bad_contact_is_refused(client, open_wall, contact):
    refused(post(client, open_wall, contact=contact), "联系方式请填写手机号" if len(contact) <= 40 else "联系方式不能超过")


def test_a_member_not_on_the_wall_is_refused(client, open_wall):
    refused(post(client, open_wall, member=str(open_wall.member_b.pk)), "选择一个有效的选项")
    with pytest.raises(DomainError, match="不在本支部的上墙名单"):
        services.submit_feedback(open_wall.public.key, kind="praise", text="服务很好的", client="b" * 64,
                                 member_id=open_wall.member_b.pk)
    assert not WallFeedback.objects.exists()


def test_an_unknown_kind_is_refused(client, open_wall):
    refused(post(client, open_wall, kind="spam"), "选择一个有效的选项")


def test_a_closed_or_renewed_wall_takes_no_message(client, open_wall):
    c = open_wall
    token = forms_wall.form_token(c.public.key)
    services.renew_public_wall(c.secretary_a, c.branch_a)
    assert post(client, c, ts=token).status_code == 404
    assert not WallFeedback.objects.exists()
