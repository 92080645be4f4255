"""The public response page (no login, by the link's key): a person answers on a phone; every abusive submission
(floods, oversized or malformed posts, out-of-range choices, NUL, links, wrong or used invitation codes, the
honeypot, a stale token) is refused with a Chinese sentence and stores nothing."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dangjian.core import public
from dangjian.core.models import AuditEvent
from dangjian.service import forms_surveys
from dangjian.service import surveys as svc
from dangjian.service.models import (
    Answer,
    QKind,
    SatisfactionIndex,
    SurveyInvitation,
    SurveyResponse,
    Ticket,
)


@pytest.fixture(autouse=True)
def no_wait(settings):
    """People take seconds to answer; tests post at once."""
    settings.PUBLIC_FORM_MIN_SECONDS = 0


class World:
    pass


@pytest.fixture
def open_survey(company):
    c = company
    w = World()
    w.c = c
    s = svc.create_survey(c.staff, c.committee, title="客户满意度调查", min_responses=2)
    w.q_scale = svc.add_question(c.staff, s, kind=QKind.SCALE, text="供电质量", topic="供电质量")
    w.q_scale2 = svc.add_question(c.staff, s, kind=QKind.SCALE, text="服务态度", topic="服务态度")
    w.q_choice = svc.add_question(c.staff, s, kind=QKind.CHOICE, text="联系方式", required=False,
                                  options=["95598", "营业厅", "网上国网"])
    w.q_multi = svc.add_question(c.staff, s, kind=QKind.MULTI, text="希望改进", required=False,
                                 options=["电压", "电费", "抢修"])
    w.q_text = svc.add_question(c.staff, s, kind=QKind.TEXT, text="意见建议", required=False)
    svc.add_links(c.staff, s, orgs=[c.branch_a])
    w.survey = svc.open_survey(c.staff, s)
    w.link = s.links.get()
    w.url = reverse("service:survey_public", args=[w.link.key])
    return w


def guard(key, **extra):
    return {"website": "", "ts": public.form_token(forms_surveys.PUBLIC_SALT, key), **extra}


def good(w, **over):
    data = guard(w.link.key, **{f"q_{w.q_scale.pk}": "0", f"q_{w.q_scale2.pk}": "1", f"q_{w.q_choice.pk}": "2",
                                f"q_{w.q_multi.pk}": ["0", "2"], f"q_{w.q_text.pk}": "抢修很及时，感谢！"})
    data.update(over)
    return data


def nothing_stored():
    return not SurveyResponse.objects.exists() and not Answer.objects.exists()


def test_the_page_is_phone_friendly_and_has_the_guards(client, open_survey):
    w = open_survey
    resp = client.get(w.url)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'name="viewport"' in html and "scale-options" in html and 'name="ts"' in html and "public-hp" in html
    for label in ("满意", "比较满意", "不太满意", "不满意", "不清楚"):
        assert label in html
    assert "noindex" in html


def test_a_response_is_stored_with_its_score_and_month(client, open_survey):
    w = open_survey
    resp = client.post(w.url, good(w))
    assert resp.status_code == 302 and resp.url == reverse("service:survey_public_thanks", args=[w.link.key])
    r = SurveyResponse.objects.get()
    assert r.score == Decimal("90.0")  # (100 + 80) / 2
    assert r.month == timezone.localdate().replace(day=1) and r.org == w.c.branch_a and len(r.client_hash) == 64
    answers = {a.question_id: a for a in r.answers.all()}
    assert answers[w.q_multi.pk].choices == [0, 2] and answers[w.q_choice.pk].choice == 2
    assert answers[w.q_text.pk].text == "抢修很及时，感谢！"
    event = AuditEvent.objects.get(action="survey.response_received")
    assert "抢修" not in str(event.data) and event.user is None
    # the index of the organization and month is up to date at once
    ix = SatisfactionIndex.objects.get(org=w.c.branch_a)
    assert (ix.responses, ix.mean_score) == (1, Decimal("90.0"))
    assert client.get(resp.url).status_code == 200


def test_unclear_answers_are_left_out_of_the_score(client, open_survey):
    w = open_survey
    client.post(w.url, good(w, **{f"q_{w.q_scale.pk}": "4", f"q_{w.q_scale2.pk}": "2"}))
    assert SurveyResponse.objects.get().score == Decimal("40.0")
    SurveyResponse.objects.all().delete()
    client.post(w.url, good(w, **{f"q_{w.q_scale.pk}": "4", f"q_{w.q_scale2.pk}": "4"}))
    assert SurveyResponse.objects.get().score is None


def test_low_public_responses_open_a_ticket_by_themselves(client, open_survey):
    w = open_survey
    for _i in range(2):
        client.post(w.url, good(w, **{f"q_{w.q_scale.pk}": "3", f"q_{w.q_scale2.pk}": "2"}))
    ticket = Ticket.objects.get()
    assert ticket.org == w.c.branch_a and ticket.title.startswith("客户满意度偏低") and "20.0分" in ticket.title
    client.post(w.url, good(w, **{f"q_{w.q_scale.pk}": "3"}))
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("scale", "", "必答题"),
    ("scale", "5", "答案无效"),
    ("scale", "-1", "答案无效"),
    ("scale", "1.0", "答案无效"),
    ("scale", "[0]", "答案无效"),
    ("scale", '{"a": 1}', "答案无效"),
    ("scale", "０", "答案无效"),  # a full-width digit
    ("scale", "00000001", "答案无效"),
    ("choice", "3", "答案无效"),
    ("multi", ["0", "0"], "答案无效"),
    ("multi", ["1", "9"], "答案无效"),
    ("text", "请访问 www.example.com 领奖", "网址"),
    ("text", "有效内容\x00", "无效字符"),
    ("text", "字" * 501, "不能超过"),
])
def test_bad_answers_are_refused_and_nothing_is_stored(client, open_survey, field, value, message):
    w = open_survey
    q = {"scale": w.q_scale, "choice": w.q_choice, "multi": w.q_multi, "text": w.q_text}[field]
    resp = client.post(w.url, good(w, **{f"q_{q.pk}": value}))
    assert resp.status_code == 400
    assert message in resp.content.decode()
    assert nothing_stored()


def test_answers_to_unknown_questions_are_refused(client, open_survey):
    w = open_survey
    for key in ("q_999999", "q_abc", "q_1e3"):
        resp = client.post(w.url, good(w, **{key: "0"}))
        assert resp.status_code == 400 and "刷新页面" in resp.content.decode()
    assert nothing_stored()


def test_an_empty_post_is_refused(client, open_survey):
    w = open_survey
    resp = client.post(w.url, guard(w.link.key))
    assert resp.status_code == 400 and "必答题" in resp.content.decode()
    assert nothing_stored()


def test_honeypot_and_stale_or_foreign_tokens_are_refused(client, open_survey):
    w = open_survey
    assert client.post(w.url, good(w, website="http://spam")).status_code == 400
    assert client.post(w.url, good(w, ts="garbage")).status_code == 400
    assert client.post(w.url, good(w, ts=public.form_token(forms_surveys.PUBLIC_SALT, "another-key"))).status_code \
        == 400
    data = good(w)
    del data["ts"]
    assert client.post(w.url, data).status_code == 400
    assert nothing_stored()


def test_a_post_sooner_than_a_person_can_answer_is_refused(client, open_survey, settings):
    settings.PUBLIC_FORM_MIN_SECONDS = 3
    w = open_survey
    resp = client.post(w.url, good(w))
    assert resp.status_code == 400 and "提交过快" in resp.content.decode()
    assert nothing_stored()


def test_an_oversized_body_is_refused_before_parsing(client, open_survey):
    w = open_survey
    resp = client.post(w.url, good(w, **{f"q_{w.q_text.pk}": "好" * 20000}))
    assert resp.status_code == 413 and "过长" in resp.content.decode()
    assert nothing_stored()


def test_the_hourly_limit_per_client(client, open_survey):
    w = open_survey
    for _i in range(svc.PER_CLIENT_HOUR):
        assert client.post(w.url, good(w)).status_code == 302
    resp = client.post(w.url, good(w))
    assert resp.status_code == 429 and "一小时内" in resp.content.decode()
    assert SurveyResponse.objects.count() == svc.PER_CLIENT_HOUR
    # an hour later the client may answer again
    SurveyResponse.objects.update(submitted_at=timezone.now() - datetime.timedelta(hours=2))
    assert client.post(w.url, good(w)).status_code == 302


def test_the_daily_limit_per_link(client, open_survey, monkeypatch):
    w = open_survey
    monkeypatch.setattr(svc, "PER_LINK_DAY", 3)
    SurveyResponse.objects.bulk_create([SurveyResponse(survey=w.survey, link=w.link, org=w.c.branch_a,
                                                       month=timezone.localdate().replace(day=1),
                                                       client_hash=f"{i:064d}") for i in range(3)])
    resp = client.post(w.url, good(w))
    assert resp.status_code == 429 and "今日" in resp.content.decode()
    assert SurveyResponse.objects.count() == 3


def test_a_draft_closed_or_disabled_survey_takes_nothing(client, open_survey):
    w = open_survey
    svc.close_survey(w.c.staff, w.survey)
    resp = client.get(w.url)
    assert resp.status_code == 200 and "已结束" in resp.content.decode()
    resp = client.post(w.url, good(w))
    assert resp.status_code == 200 and "已结束" in resp.content.decode()
    assert nothing_stored()
    svc.set_link_enabled(w.c.staff, w.link, False)
    assert client.get(w.url).status_code == 404
    assert client.post(w.url, good(w)).status_code == 404
    assert client.get(reverse("service:survey_public", args=["no-such-key"])).status_code == 404
    assert client.get(reverse("service:survey_public", args=["k" * 200])).status_code == 404
    assert nothing_stored()


def test_the_service_refuses_a_closed_survey_too(open_survey):
    w = open_survey
    svc.close_survey(w.c.staff, w.survey)
    with pytest.raises(svc.DomainError, match="不在收集期"):
        svc.submit_response(w.link.key, answers={w.q_scale.pk: ["0"], w.q_scale2.pk: ["0"]}, client="a" * 64)
    with pytest.raises(svc.DomainError):
        svc.submit_response(w.link.key, answers={w.q_scale.pk: ["0"]}, client="")
    assert nothing_stored()


# ---- invitation codes -------------------------------------------------------------------------------------------


@pytest.fixture
def invited(open_survey):
    w = open_survey
    w.survey.one_per_invitation = True
    w.survey.save(update_fields=["one_per_invitation"])
    w.tokens = [i.token for i in svc.create_invitations(w.c.staff, w.link, 3)]
    return w


def test_an_invitation_answers_once(client, invited):
    w = invited
    t = w.tokens[0]
    assert client.get(f"{w.url}?t={t}").status_code == 200
    assert client.post(f"{w.url}?t={t}", good(w, t=t)).status_code == 302
    inv = SurveyInvitation.objects.get(token=t)
    assert inv.used_at is not None and inv.response.score == Decimal("90.0")
    resp = client.post(f"{w.url}?t={t}", good(w, t=t))
    assert resp.status_code == 400 and "已经提交过" in resp.content.decode()
    assert SurveyResponse.objects.count() == 1


@pytest.mark.parametrize("token", ["", "wrong-token", "x" * 65, "abc\x00"])
def test_missing_or_wrong_invitation_codes_are_refused(client, invited, token):
    w = invited
    resp = client.post(w.url, good(w, t=token))
    assert resp.status_code == 400
    assert "邀请码" in resp.content.decode() or "提交失败" in resp.content.decode()
    assert nothing_stored() and not SurveyInvitation.objects.filter(used_at__isnull=False).exists()


def test_a_token_of_another_link_is_refused(client, invited):
    w = invited
    svc.add_links(w.c.staff, w.survey, orgs=[w.c.branch_b])
    other = w.survey.links.get(org=w.c.branch_b)
    foreign = svc.create_invitations(w.c.staff, other, 1)[0].token
    resp = client.post(w.url, good(w, t=foreign))
    assert resp.status_code == 400 and "邀请码无效" in resp.content.decode()
    assert nothing_stored()


def test_without_a_token_the_page_asks_for_the_personal_qr_code(client, invited):
    resp = client.get(invited.url)
    assert resp.status_code == 200 and "专属二维码" in resp.content.decode()


def test_outside_its_dates_the_survey_takes_nothing(client, open_survey):
    w = open_survey
    today = timezone.localdate()
    w.survey.closes_on = today - datetime.timedelta(days=1)
    w.survey.save(update_fields=["closes_on"])
    assert "不在收集期" in client.get(w.url).content.decode()
    assert client.post(w.url, good(w)).status_code == 200
    w.survey.closes_on, w.survey.opens_on = None, today + datetime.timedelta(days=3)
    w.survey.save(update_fields=["closes_on", "opens_on"])
    assert client.post(w.url, good(w)).status_code == 200
    assert nothing_stored()
    w.survey.opens_on = today
    w.survey.save(update_fields=["opens_on"])
    assert client.post(w.url, good(w)).status_code == 302
