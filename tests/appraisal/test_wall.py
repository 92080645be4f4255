"""The wall inside the platform: the data of a published month (cards, order, rank, pledge, post), who sees it,
the month and branch selectors, photos through the access check, the big screen, the export, and constant query
counts for 5 and 30 members.

Published months are built here with the ORM (``publish_month``): a member standard set, a period, one
evaluation and one result per member, and the branch's aggregate — what the month close writes.
"""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image

from dangjian.appraisal import close
from dangjian.appraisal import wall as services
from dangjian.appraisal.models import (
    AppraisalPeriod,
    AState,
    BranchAggregate,
    MemberEvaluation,
    MemberLine,
    MemberResult,
    PeriodStatus,
)
from dangjian.orgs.models import Pledge
from dangjian.standards.models import MemberItem, MemberStandardSet, SetStatus
from tests.factories import make_member

D = Decimal
OCT = datetime.date(2026, 10, 1)
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = ["建国", "海燕", "志强", "丽娟", "文博", "晓东", "春梅", "国庆", "红霞", "立新"]


def jpeg_bytes(color="red", size=(60, 80)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


def give_photo(member, color="red"):
    member.photo.save(f"{member.pk}.jpg", ContentFile(jpeg_bytes(color)), save=True)
    return member


def member_set(company, year=2026, public_ranking=False) -> MemberStandardSet:
    ms = MemberStandardSet.objects.filter(owner=company.committee, year=year, status=SetStatus.PUBLISHED).first()
    if ms is None:
        ms = MemberStandardSet.objects.create(owner=company.committee, year=year, name=f"{year}年党员量化评价标准",
                                              status=SetStatus.PUBLISHED, pass_mark=D("60"),
                                              public_ranking=public_ranking)
    elif ms.public_ranking != public_ranking:
        MemberStandardSet.objects.filter(pk=ms.pk).update(public_ranking=public_ranking)
        ms.public_ranking = public_ranking
    return ms


def publish_month(company, org, members, month=OCT, *, public_ranking=False, totals=None, posts=None,
                  note="", reason=""):
    """What the month close writes for ``org``: results (rank by total, ties by name) and the aggregate.
    ``totals`` maps a member to their total (default 90 down by one per member); ``posts`` to the post of the
    month (the evaluation's snapshot); ``note``/``reason`` put a branch note and a deduction reason on every
    member's month (they must never reach a wall)."""
    ms = member_set(company, month.year, public_ranking)
    period, _ = AppraisalPeriod.objects.get_or_create(
        owner=company.committee, month=month,
        defaults=dict(standard_set=ms, status=PeriodStatus.OPEN, self_due=month + datetime.timedelta(days=24),
                      determine_due=month + datetime.timedelta(days=27)))
    item = None
    if reason:
        item, _ = MemberItem.objects.get_or_create(standard_set=ms, code="K9", defaults=dict(
            part="deduction", dimension="rules", text="违反安全规定", points=D("3")))
    totals = totals or {m: D(90) - i for i, m in enumerate(members)}
    ordered = sorted(members, key=lambda m: (-totals[m], m.name_pinyin))
    now = timezone.now()
    results = []
    for rank, m in enumerate(ordered, 1):
        total = totals[m]
        ev = MemberEvaluation.objects.create(
            period=period, member=m, org=org, org_path=org.path, org_name=org.name, member_name=m.name,
            post=(posts or {}).get(m, m.post), state=AState.DETERMINED, total=total, branch_note=note)
        if item is not None:
            MemberLine.objects.create(evaluation=ev, item=item, part="deduction", dimension="rules", count=1,
                                      points=D("-3"), reason=reason)
        results.append(MemberResult(
            period=period, evaluation=ev, member=m, org=org, org_path=org.path, org_name=org.name,
            member_name=m.name, month=month, base=D(80), bonus=total - D(80) if total > 80 else D(0),
            deduction=D(0), self_total=total, branch_total=total, total=total, vetoed=False,
            qualified=total >= 60, rank=rank, branch_size=len(members), published_at=now))
    # Published last, as the close does: the database refuses lines of a published month.
    MemberEvaluation.objects.filter(pk__in=[r.evaluation_id for r in results]).update(state=AState.PUBLISHED)
    MemberResult.objects.bulk_create(results)
    values = [totals[m] for m in members]
    BranchAggregate.objects.create(
        period=period, org=org, org_path=org.path, month=month, count=len(members),
        avg=(sum(values) / len(values)).quantize(D("0.01")), min=min(values), max=max(values),
        unqualified=sum(1 for v in values if v < 60), published_at=now,
        digest=close.engine(period).digests(org.pk)[org.pk])
    return period


def many_members(org, n, start=0):
    out = []
    for i in range(start, start + n):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
        out.append(make_member(org, name, post=f"运维检修{i + 1}班班员"))
    return out


@pytest.fixture
def wall_a(company):
    """Branch A's October: member A (photo, pledge 2026) 88.0 and the secretary's member 92.5."""
    c = company
    give_photo(c.member_a)
    Pledge.objects.create(member=c.member_a, year=2026, text="带头做好迎峰度冬保供电，全年零违章。")
    Pledge.objects.create(member=c.member_a, year=2025, text="去年的承诺")
    publish_month(c, c.branch_a, [c.member_a, c.secretary_member_a],
                  totals={c.member_a: D("88.0"), c.secretary_member_a: D("92.5")})
    return c


def login_get(client, user, url, **kw):
    client.force_login(user)
    return client.get(url, **kw)


# ---- data -------------------------------------------------------------------------------------------------------


def test_wall_orders_by_name_and_hides_rank_when_ranking_is_not_public(wall_a):
    c = wall_a
    wall = services.build_wall(c.branch_a)
    assert wall.month == OCT and wall.public_ranking is False
    # 李建国 (li) before 张三 (zhang): by pinyin, although 李建国 has the higher score.
    assert [card.name for card in wall.cards] == ["李建国", "张三"]
    assert all(card.rank is None for card in wall.cards)
    assert [card.total for card in wall.cards] == [D("92.5"), D("88.0")]
    assert wall.count == 2 and wall.average == D("90.3")


def test_wall_orders_by_rank_and_shows_it_when_ranking_is_public(company):
    c = company
    members = many_members(c.branch_a, 3)
    publish_month(c, c.branch_a, members, public_ranking=True,
                  totals={members[0]: D(70), members[1]: D(95), members[2]: D(80)})
    wall = services.build_wall(c.branch_a)
    assert [(card.name, card.rank) for card in wall.cards] == [
        (members[1].name, 1), (members[2].name, 2), (members[0].name, 3)]


def test_wall_card_has_the_pledge_of_the_months_year_and_the_post_of_that_month(wall_a):
    c = wall_a
    card = next(card for card in services.build_wall(c.branch_a).cards if card.member_id == c.member_a.pk)
    assert card.pledge == "带头做好迎峰度冬保供电，全年零违章。"
    assert card.post == c.member_a.post and card.has_photo
    other = next(card for card in services.build_wall(c.branch_a).cards if card.member_id != c.member_a.pk)
    assert other.pledge == "" and not other.has_photo and other.initials == "建国"


def test_the_post_shown_is_the_one_of_that_month(company):
    c = company
    publish_month(c, c.branch_a, [c.member_a], posts={c.member_a: "变电站值班员"})
    c.member_a.post = "安全员"
    c.member_a.save()
    assert services.build_wall(c.branch_a).cards[0].post == "变电站值班员"


def test_initials_of_chinese_and_latin_names():
    assert services.initials("欧阳建国") == "建国"
    assert services.initials("王芳") == "王芳"
    assert services.initials("Anna Lee") == "AL"
    assert services.initials("") == "?"


def test_the_latest_month_is_shown_and_older_months_can_be_chosen(wall_a):
    c = wall_a
    publish_month(c, c.branch_a, [c.member_a], month=datetime.date(2026, 11, 1), totals={c.member_a: D("77")})
    wall = services.build_wall(c.branch_a)
    assert wall.months == [datetime.date(2026, 11, 1), OCT] and wall.month == datetime.date(2026, 11, 1)
    assert [card.total for card in wall.cards] == [D("77.0")]
    assert len(services.build_wall(c.branch_a, "2026-10").cards) == 2


@pytest.mark.parametrize("month", ["2026-09", "2026-13", "abc", "2026-1", "2026-10-01"])
def test_a_month_not_published_or_malformed_is_not_found(wall_a, month):
    from django.http import Http404

    with pytest.raises(Http404):
        services.build_wall(wall_a.branch_a, month)


def test_a_branch_without_published_month_has_an_empty_wall(company):
    wall = services.build_wall(company.branch_b)
    assert wall.month is None and wall.cards == [] and wall.months == []


# ---- the page ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin", "staff", "secretary_a", "member_user_a"])
def test_branch_members_secretary_and_staff_see_the_wall(client, wall_a, persona):
    resp = login_get(client, getattr(wall_a, persona), reverse("appraisal:wall_detail", args=[wall_a.branch_a.pk]))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "张三" in html and "李建国" in html and "88.0" in html and "92.5" in html
    assert "带头做好迎峰度冬保供电" in html and "合格" in html
    assert "去年的承诺" not in html
    assert reverse("appraisal:wall_photo", args=[wall_a.branch_a.pk, wall_a.member_a.pk]) in html
    assert "<script>" not in html and "style=" not in html


@pytest.mark.parametrize("persona", ["secretary_b", "assessor", "outsider"])
def test_other_branch_secretary_assessor_and_outsider_get_404(client, wall_a, persona):
    user = getattr(wall_a, persona)
    for name in ("wall_detail", "wall_screen", "wall_poster"):
        assert login_get(client, user, reverse(f"appraisal:{name}", args=[wall_a.branch_a.pk])).status_code == 404
    url = reverse("appraisal:wall_photo", args=[wall_a.branch_a.pk, wall_a.member_a.pk])
    assert login_get(client, user, url).status_code == 404


def test_anonymous_is_sent_to_login(client, wall_a):
    resp = client.get(reverse("appraisal:wall_detail", args=[wall_a.branch_a.pk]))
    assert resp.status_code == 302 and resp.url.startswith(reverse("login"))


def test_rank_is_on_the_page_only_when_public(client, company):
    c = company
    publish_month(c, c.branch_a, [c.member_a, c.secretary_member_a])
    url = reverse("appraisal:wall_detail", args=[c.branch_a.pk])
    assert "支部第1名" not in login_get(client, c.secretary_a, url).content.decode()
    MemberStandardSet.objects.update(public_ranking=True)
    assert "支部第1名" in client.get(url).content.decode()


def test_month_selector_lists_published_months_and_unknown_month_is_404(client, wall_a):
    c = wall_a
    publish_month(c, c.branch_a, [c.member_a], month=datetime.date(2026, 11, 1))
    url = reverse("appraisal:wall_detail", args=[c.branch_a.pk])
    html = login_get(client, c.member_user_a, url).content.decode()
    assert 'value="2026-11" selected' in html and 'value="2026-10"' in html
    assert "李建国" in client.get(url, {"month": "2026-10"}).content.decode()
    assert client.get(url, {"month": "2026-08"}).status_code == 404


def test_branch_selector_sends_to_the_chosen_branch_and_still_checks_access(client, wall_a):
    c = wall_a
    resp = login_get(client, c.staff, reverse("appraisal:wall_index"), data={"org": c.branch_b.pk})
    assert resp.status_code == 302 and resp.url == reverse("appraisal:wall_detail", args=[c.branch_b.pk])
    resp = login_get(client, c.secretary_b, reverse("appraisal:wall_index"), data={"org": c.branch_a.pk})
    assert client.get(resp.url).status_code == 404


def test_a_branch_without_results_shows_an_empty_wall(client, company):
    resp = login_get(client, company.secretary_b, reverse("appraisal:wall_detail", args=[company.branch_b.pk]))
    assert resp.status_code == 200 and "还没有公示的月度评价结果" in resp.content.decode()


def test_wall_index_lists_branches_in_scope_and_sends_a_member_to_their_branch(client, wall_a):
    c = wall_a
    html = login_get(client, c.staff, reverse("appraisal:wall_index")).content.decode()
    assert c.branch_a.name in html and c.branch_b.name in html and c.branch_c.name in html and "2026-10" in html
    resp = login_get(client, c.member_user_a, reverse("appraisal:wall_index"))
    assert resp.status_code == 302 and resp.url == reverse("appraisal:wall_detail", args=[c.branch_a.pk])
    assert login_get(client, c.outsider, reverse("appraisal:wall_index")).status_code == 404
    assert login_get(client, c.assessor, reverse("appraisal:wall_index")).status_code == 404


def test_wall_index_filters_and_exports(client, wall_a):
    c = wall_a
    client.force_login(c.staff)
    html = client.get(reverse("appraisal:wall_index"), {"published": "1"}).content.decode()
    assert c.branch_a.name in html and c.branch_b.name not in html
    resp = client.get(reverse("appraisal:wall_index"), {"q": "变电", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(resp.content)).active.values)
    assert rows[1][:3] == (c.branch_a.name, "2026-10", 2)


def test_wall_export_has_the_months_cards(client, wall_a):
    resp = login_get(client, wall_a.secretary_a, reverse("appraisal:wall_detail", args=[wall_a.branch_a.pk]),
                     data={"month": "2026-10", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(resp.content)).active.values)
    assert rows[0][:4] == ("姓名", "岗位", "承诺", "月度得分")
    assert [r[0] for r in rows[1:]] == ["李建国", "张三"]


def test_internal_photo_is_served_for_a_member_on_the_wall_only(client, wall_a):
    c = wall_a
    give_photo(c.member_b, "blue")
    client.force_login(c.member_user_a)
    resp = client.get(reverse("appraisal:wall_photo", args=[c.branch_a.pk, c.member_a.pk]))
    assert resp.status_code == 200 and resp["Content-Type"] == "image/jpeg"
    assert b"".join(resp.streaming_content)[:2] == b"\xff\xd8"
    # A member of another branch, through branch A's wall: not on it.
    assert client.get(reverse("appraisal:wall_photo", args=[c.branch_a.pk, c.member_b.pk])).status_code == 404
    # On the wall but without a photo.
    url = reverse("appraisal:wall_photo", args=[c.branch_a.pk, c.secretary_member_a.pk])
    assert client.get(url).status_code == 404


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", ["wall_detail", "wall_screen"])
def test_wall_pages_use_the_same_number_of_queries_for_5_and_30_members(client, company, name):
    c = company
    small = many_members(c.branch_a, 5)
    big = many_members(c.branch_b, 30, start=5)
    for m in small[:2] + big[:10]:
        give_photo(m)
        Pledge.objects.create(member=m, year=2026, text="立足岗位作贡献")
    publish_month(c, c.branch_a, small)
    publish_month(c, c.branch_b, big)
    client.force_login(c.staff)
    client.get(reverse("appraisal:wall_index"))  # warm the session
    n5 = _count_queries(client, reverse(f"appraisal:{name}", args=[c.branch_a.pk]))
    n30 = _count_queries(client, reverse(f"appraisal:{name}", args=[c.branch_b.pk]))
    assert n5 == n30 <= 15


# ---- the big screen -----------------------------------------------------------------------------------------------


def test_screen_has_pages_of_cards_a_clock_and_no_inline_script(client, company):
    c = company
    members = many_members(c.branch_a, 11)
    publish_month(c, c.branch_a, members)
    resp = login_get(client, c.member_user_a, reverse("appraisal:wall_screen", args=[c.branch_a.pk]),
                     data={"per_page": "10", "interval": "3"})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'data-per-page="10"' in html and 'data-interval="5"' in html  # at least five seconds a page
    assert html.count("data-card") == 11 and html.count(" hidden>") == 1  # the 11th card waits for page two
    assert "data-clock" in html and "appraisal/wall.js" in html
    assert "<script>" not in html and "style=" not in html
    assert "screen-qr" not in html  # no public link: no QR code


def test_screen_shows_the_qr_code_of_the_public_form_when_the_link_is_open(client, wall_a):
    services.enable_public_wall(wall_a.secretary_a, wall_a.branch_a)
    html = login_get(client, wall_a.member_user_a,
                     reverse("appraisal:wall_screen", args=[wall_a.branch_a.pk])).content.decode()
    assert 'data-testid="screen-qr"' in html and "<svg" in html


def test_screen_ignores_sizes_it_does_not_offer(client, wall_a):
    html = login_get(client, wall_a.staff, reverse("appraisal:wall_screen", args=[wall_a.branch_a.pk]),
                     data={"per_page": "999", "interval": "x"}).content.decode()
    assert 'data-per-page="8"' in html and 'data-interval="10"' in html


# ---- with the real month close -----------------------------------------------------------------------------------


def test_the_wall_shows_a_month_published_by_the_close(client, company, published_month):
    """The lead's fixture publishes branch A's October through appraisal.close: the wall reads what it wrote."""
    c = company
    wall = services.build_wall(c.branch_a)
    assert wall.month == published_month.month and wall.count == 2
    results = {r.member_id: r for r in MemberResult.objects.filter(org=c.branch_a, period=published_month)}
    assert {card.member_id: card.total for card in wall.cards} == {pk: r.total for pk, r in results.items()}
    resp = login_get(client, c.member_user_a, reverse("appraisal:wall_detail", args=[c.branch_a.pk]))
    assert resp.status_code == 200 and f"{results[c.member_a.pk].total:.1f}" in resp.content.decode()
