"""The public need form (from the QR code in a 供电所's hall, no login): a person on a phone sends a need and gets
its number; the form is refused with a Chinese sentence, leaving no row and no audit event, for floods (per client
an hour, per channel a day, counted in the database), oversized posts (refused before parsing), malformed input,
NUL bytes, links, a forged, foreign or expired token, a post sooner than a person could type, the honeypot, an area
of another organization, and a missing CSRF token; a wrong, closed or renewed key is 404."""

import datetime
import hashlib
import hmac

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dangjian.core.models import AuditEvent
from dangjian.service import forms_needs
from dangjian.service import needs as services
from dangjian.service.models import Need

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


@pytest.fixture(autouse=True)
def no_wait(settings):
    """People take seconds to type; tests post at once. One test below puts the wait back."""
    settings.PUBLIC_FORM_MIN_SECONDS = 0


@pytest.fixture
def open_form(company):
    c = company
    c.area_a = services.create_area(c.staff, c.branch_a, name="城关网格", grid_manager="李卫东")
    c.area_a2 = services.create_area(c.staff, c.branch_a, name="东城网格")
    c.area_b = services.create_area(c.staff, c.branch_b, name="西城网格")
    c.channel = services.enable_channel(c.secretary_a, c.branch_a)
    c.url = reverse("service:public_need", args=[c.channel.key])
    return c


def post(client, c, url=None, **data):
    body = {"category": "need", "area": "", "title": "", "text": "幸福里小区3号楼表箱锈蚀，门关不上，存在安全隐患。",
            "requester": "", "contact": "", "website": "", "ts": forms_needs.form_token(c.channel.key)}
    body.update({k: v for k, v in data.items() if not k.isupper()})
    meta = {"HTTP_USER_AGENT": PHONE} | {k: v for k, v in data.items() if k.isupper()}
    return client.post(url or c.url, body, **meta)


def refused(resp, sentence, status=(400, 413, 429)):
    html = resp.content.decode()
    assert resp.status_code in status, resp.status_code
    assert sentence in html, html[:3000]
    assert not Need.objects.exists()
    assert not AuditEvent.objects.filter(action="need.received").exists()


# ---- the happy path -------------------------------------------------------------------------------------------


def test_the_form_works_on_a_phone_without_login(client, open_form):
    c = open_form
    resp = client.get(c.url, HTTP_USER_AGENT=PHONE)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'name="viewport" content="width=device-width' in html and 'name="robots" content="noindex' in html
    assert "csrfmiddlewaretoken" in html and 'name="website"' in html and 'class="public-hp"' in html
    assert 'name="ts"' in html and c.branch_a.name in html
    # The organization's form offers its own open areas only.
    assert "城关网格" in html and "东城网格" in html and "西城网格" not in html
    assert "李卫东" not in html  # nothing internal


def test_a_need_is_stored_with_its_number_audited_and_thanked(client, open_form):
    c = open_form
    resp = post(client, c, category="complaint", area=str(c.area_a.pk), requester="王女士", contact="13912345678",
                text="最近一周晚上停电三次，家里老人用制氧机很不方便。请尽快查明原因！")
    assert resp.status_code == 302
    need = Need.objects.get()
    assert (need.org, need.area, need.category, need.kind, need.source) == (c.branch_a, c.area_a, "complaint",
                                                                              "people", "online")
    assert (need.channel, need.state, need.requester, need.contact) == ("public", "received", "王女士", "13912345678")
    assert need.title == "最近一周晚上停电三次，家里老人用制氧机很不方便"
    assert need.number == f"XQ{timezone.localdate().year}-{need.pk:06d}" and need.created_by is None
    expected = hmac.new(django_settings.SECRET_KEY.encode(), f"127.0.0.1\n{PHONE}".encode(),
                        hashlib.sha256).hexdigest()
    assert need.client_hash == expected
    event = AuditEvent.objects.get(action="need.received")
    assert event.user is None and event.org_path == c.branch_a.path
    assert "13912345678" not in str(event.data) and "王女士" not in str(event.data) and "制氧机" not in str(event.data)
    thanks = client.get(resp.url).content.decode()
    assert need.number in thanks and "您的诉求已收到" in thanks
    assert "13912345678" not in thanks and "王女士" not in thanks


def test_an_area_form_files_the_need_under_its_area(client, open_form):
    c = open_form
    channel = services.enable_channel(c.staff, c.branch_a, c.area_a2)
    url = reverse("service:public_need", args=[channel.key])
    html = client.get(url).content.decode()
    assert 'name="area"' not in html and "东城网格" in html
    body = {"category": "suggestion", "text": "建议在小区地下车库增设充电桩，现在经常排队。", "website": "",
            "ts": forms_needs.form_token(channel.key)}
    assert client.post(url, body).status_code == 302
    assert Need.objects.get().area == c.area_a2


def test_a_thanks_page_needs_a_signed_number(client, open_form):
    c = open_form
    assert client.get(reverse("service:public_need_thanks", args=[c.channel.key, "XQ2026-000001"])).status_code == 404


# ---- keys -----------------------------------------------------------------------------------------------------


def test_a_wrong_closed_or_renewed_key_is_404(client, open_form):
    c = open_form
    assert client.get(reverse("service:public_need", args=["x" * 32])).status_code == 404
    assert client.get(reverse("service:public_need", args=["x" * 65])).status_code == 404
    token = forms_needs.form_token(c.channel.key)
    services.disable_channel(c.staff, c.channel)
    assert client.get(c.url).status_code == 404
    assert post(client, c, ts=token).status_code == 404
    services.reopen_channel(c.staff, c.channel)
    assert client.get(c.url).status_code == 200
    services.renew_channel(c.staff, c.channel)
    assert client.get(c.url).status_code == 404
    assert post(client, c, ts=token).status_code == 404
    assert not Need.objects.exists()


def test_a_disabled_area_or_archived_organization_closes_the_form(client, open_form):
    c = open_form
    channel = services.enable_channel(c.staff, c.branch_a, c.area_a2)
    services.set_area_archived(c.staff, c.area_a2, True)
    assert client.get(reverse("service:public_need", args=[channel.key])).status_code == 404
    type(c.branch_a).objects.filter(pk=c.branch_a.pk).update(archived=True)
    assert client.get(c.url).status_code == 404


# ---- rate limits ----------------------------------------------------------------------------------------------


def test_a_fourth_need_within_the_hour_from_the_same_client_is_refused(client, open_form):
    c = open_form
    for i in range(services.PER_CLIENT_HOUR):
        assert post(client, c, text=f"第{i + 1}条：村口路灯线路老化，晚上经常不亮。").status_code == 302
    resp = post(client, c, text="第4条：村口路灯线路老化，晚上经常不亮。")
    assert resp.status_code == 429 and "一小时内已提交3条诉求" in resp.content.decode()
    assert Need.objects.count() == 3
    # Another phone (another address or browser) is not held back.
    assert post(client, c, REMOTE_ADDR="10.1.2.3").status_code == 302
    assert post(client, c, HTTP_USER_AGENT="Android 14 Chrome").status_code == 302


def test_the_hourly_limit_counts_only_the_last_hour(client, open_form):
    c = open_form
    for i in range(3):
        post(client, c, text=f"以前的第{i}条诉求：表箱门关不上了。")
    Need.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=61))
    assert post(client, c).status_code == 302


def test_a_channel_takes_at_most_its_daily_number(client, open_form):
    c = open_form
    Need.objects.bulk_create([
        Need(org=c.branch_a, number=f"~{i}", title="诉求", text="诉求内容很长很长", received_on=timezone.localdate(),
             channel="public", client_hash=f"{i:064x}") for i in range(services.PER_CHANNEL_DAY)])
    resp = post(client, c, REMOTE_ADDR="10.9.9.9")
    assert resp.status_code == 429 and "今日收到的诉求已达上限" in resp.content.decode()
    assert Need.objects.count() == services.PER_CHANNEL_DAY
    Need.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert post(client, c, REMOTE_ADDR="10.9.9.9").status_code == 302


def test_the_service_counts_the_limits_without_the_form(open_form):
    c = open_form
    for _ in range(3):
        services.submit_public_need(c.channel.key, category="need", text="表箱锈蚀，门关不上了。", client="a" * 64)
    with pytest.raises(services.RateLimited):
        services.submit_public_need(c.channel.key, category="need", text="表箱锈蚀，门关不上了。", client="a" * 64)
    assert Need.objects.count() == 3
    with pytest.raises(Exception, match="无法识别提交来源"):
        services.submit_public_need(c.channel.key, category="need", text="表箱锈蚀，门关不上了。", client="")


# ---- refused input leaves no row ------------------------------------------------------------------------------


def test_the_honeypot_leaves_no_row(client, open_form):
    refused(post(client, open_form, website="http://spam.example"), "提交失败，请刷新页面后重试")


def test_a_post_sooner_than_a_person_could_type_is_refused(client, open_form, settings):
    settings.PUBLIC_FORM_MIN_SECONDS = 3
    refused(post(client, open_form), "提交过快")


@pytest.mark.parametrize("token", ["", "garbage", "FOREIGN"])
def test_a_missing_forged_or_foreign_token_is_refused(client, open_form, token):
    if token == "FOREIGN":
        token = forms_needs.form_token("another-channel-key")
    refused(post(client, open_form, ts=token), "页面已过期")


def test_an_expired_token_is_refused(client, open_form, monkeypatch):
    import time as time_module

    token = forms_needs.form_token(open_form.channel.key)
    later = time_module.time() + 24 * 3600 + 60
    monkeypatch.setattr(time_module, "time", lambda: later)
    refused(post(client, open_form, ts=token), "页面已过期")


def test_a_wall_token_does_not_open_the_need_form(client, open_form):
    from dangjian.appraisal import forms_wall

    refused(post(client, open_form, ts=forms_wall.form_token(open_form.channel.key)), "页面已过期")


@pytest.mark.parametrize(("text", "sentence"), [
    ("表箱坏了", "请至少填写10个字"),
    ("     表箱坏了     ", "请至少填写10个字"),
    ("很" * 1001, "内容不能超过1000个字"),
    ("详情请见 http://example.com/a 谢谢您们的帮助", "不能包含网址或链接"),
    ("加我微信 www.abc.cn 了解更多优惠信息", "不能包含网址或链接"),
    ("去 fake-shop.com 买便宜的电表箱吧吧", "不能包含网址或链接"),
    ("表箱锈蚀\x00门关不上存在隐患请处理", "无效字符"),
])
def test_bad_text_is_refused_in_chinese(client, open_form, text, sentence):
    resp = post(client, open_form, text=text)
    assert resp.status_code == 400 and not Need.objects.exists()
    html = resp.content.decode()
    assert sentence in html or "空字符" in html or "Null characters" in html, html[:2000]


def test_a_link_in_the_title_is_refused(client, open_form):
    refused(post(client, open_form, title="优惠 www.spam.cn"), "不能包含网址或链接")


def test_an_overlong_title_or_name_is_refused(client, open_form):
    refused(post(client, open_form, title="很" * 61), "标题不能超过60个字")
    refused(post(client, open_form, requester="王" * 41), "称呼不能超过40个字")


def test_an_oversized_post_is_refused_before_reading_it(client, open_form):
    refused(post(client, open_form, text="很" * 20000), "提交的内容过长", status=(413,))


def test_a_lying_content_length_is_refused(client, open_form):
    resp = client.post(open_form.url, b"category=need", content_type="application/x-www-form-urlencoded",
                       CONTENT_LENGTH="not-a-number")
    assert resp.status_code == 413 and not Need.objects.exists()


def test_a_malformed_body_changes_nothing(client, open_form):
    resp = client.post(open_form.url, b"\xff\xfe\x00garbage==&&&", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400 and not Need.objects.exists()
    resp = client.post(open_form.url, b'{"text": "json"}', content_type="application/json")
    assert resp.status_code == 400 and not Need.objects.exists()


@pytest.mark.parametrize("contact", ["12345", "abc", "139123456789", "a@b", "13912345678' OR 1=1", "x" * 41])
def test_a_bad_contact_is_refused(client, open_form, contact):
    refused(post(client, open_form, contact=contact), "联系方式请填写手机号" if len(contact) <= 40 else "联系方式不能超过")


def test_an_area_of_another_organization_or_an_unknown_category_is_refused(client, open_form):
    c = open_form
    refused(post(client, c, area=str(c.area_b.pk)), "选择一个有效的选项")
    refused(post(client, c, area="abc"), "选择一个有效的选项")
    refused(post(client, c, category="spam"), "选择一个有效的选项")
    with pytest.raises(Exception, match="所选服务区域无效"):
        services.submit_public_need(c.channel.key, category="need", text="表箱锈蚀，门关不上了。", client="b" * 64,
                                    area_id=c.area_b.pk)
    assert not Need.objects.exists()


def test_csrf_token_is_required(open_form):
    client = Client(enforce_csrf_checks=True)
    resp = client.post(open_form.url, {"category": "need", "text": "表箱锈蚀，门关不上，存在安全隐患。",
                                       "ts": forms_needs.form_token(open_form.channel.key)})
    assert resp.status_code == 403 and not Need.objects.exists()


def test_after_a_refusal_the_form_keeps_the_input_with_a_fresh_token(client, open_form):
    resp = post(client, open_form, contact="abc", text="表箱锈蚀，门关不上，存在安全隐患。")
    html = resp.content.decode()
    assert "表箱锈蚀，门关不上，存在安全隐患。" in html and 'name="ts"' in html
