"""The public wall (no login): only what a wall shows, keys that open, close and renew, photos of the wall's own
members only, the public big screen, and the management page with its QR code."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from dangjian.appraisal import wall as services
from dangjian.appraisal.models import PublicWall
from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from dangjian.orgs.models import Pledge
from dangjian.standards.models import MemberStandardSet
from tests.appraisal.test_wall import give_photo, many_members, publish_month

D = Decimal
SECRET_NOTE = "支委会评定意见：该同志本月表现需改进"
SECRET_REASON = "10月12日作业现场未戴安全帽扣分"


@pytest.fixture
def public_a(company):
    """Branch A's October published (with a branch note and a deduction reason on each month, which no public page
    may show) and its public link open."""
    c = company
    give_photo(c.member_a)
    Pledge.objects.create(member=c.member_a, year=2026, text="带头做好迎峰度冬保供电，全年零违章。")
    publish_month(c, c.branch_a, [c.member_a, c.secretary_member_a], note=SECRET_NOTE, reason=SECRET_REASON,
                  totals={c.member_a: D("55.0"), c.secretary_member_a: D("92.5")})
    c.public = services.enable_public_wall(c.secretary_a, c.branch_a)
    return c


def public_url(name, key, *args):
    return reverse(f"appraisal:{name}", args=[key, *args])


# ---- privacy ------------------------------------------------------------------------------------------------------


def test_public_wall_shows_name_photo_post_pledge_and_score_without_login(client, public_a):
    c = public_a
    resp = client.get(public_url("wall_public", c.public.key))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "张三" in html and "李建国" in html and c.member_a.post in html
    assert "带头做好迎峰度冬保供电" in html and "55.0" in html and "92.5" in html
    assert public_url("wall_public_photo", c.public.key, c.member_a.pk) in html
    assert 'name="robots" content="noindex' in html


def test_public_pages_never_show_phone_id_number_birth_date_or_reasons(client, public_a):
    c = public_a
    pages = [public_url(n, c.public.key) for n in ("wall_public", "wall_public_screen", "wall_public_feedback",
                                                   "wall_public_thanks")]
    for url in pages:
        html = client.get(url).content.decode()
        for m in (c.member_a, c.secretary_member_a):
            assert m.phone not in html, url
            assert m.id_number not in html, url
            assert m.id_number[:14] not in html, url
            assert m.birth_date.isoformat() not in html and f"{m.birth_date:%Y年%-m月%-d日}" not in html, url
        assert SECRET_NOTE not in html and SECRET_REASON not in html, url
        # Not even whether a member passed: the public sees the score only.
        assert "不合格" not in html and "合格" not in html, url
        # Nor the branch's figures.
        assert "平均分" not in html and "参评人数" not in html, url


def test_public_wall_shows_rank_only_when_the_month_shows_ranks(client, public_a):
    url = public_url("wall_public", public_a.public.key)
    assert "支部第1名" not in client.get(url).content.decode()
    MemberStandardSet.objects.update(public_ranking=True)
    html = client.get(url).content.decode()
    assert "支部第1名" in html and "支部第2名" in html
    assert html.index("李建国") < html.index("张三")  # by rank: 92.5 first


# ---- keys ---------------------------------------------------------------------------------------------------------


def test_wrong_or_disabled_key_is_404(client, public_a):
    c = public_a
    assert client.get(public_url("wall_public", "x" * 32)).status_code == 404
    services.disable_public_wall(c.secretary_a, c.branch_a)
    for name in ("wall_public", "wall_public_screen", "wall_public_feedback", "wall_public_thanks"):
        assert client.get(public_url(name, c.public.key)).status_code == 404
    assert client.get(public_url("wall_public_photo", c.public.key, c.member_a.pk)).status_code == 404
    services.enable_public_wall(c.secretary_a, c.branch_a)  # re-opened with the same key
    assert client.get(public_url("wall_public", c.public.key)).status_code == 200


def test_a_renewed_key_closes_the_old_link_and_opens_the_new_one(client, public_a):
    c = public_a
    old = c.public.key
    new = services.renew_public_wall(c.secretary_a, c.branch_a).key
    assert new != old and len(new) == 32
    assert client.get(public_url("wall_public", old)).status_code == 404
    assert client.get(public_url("wall_public_feedback", old)).status_code == 404
    assert client.get(public_url("wall_public", new)).status_code == 200


def test_the_wall_of_an_archived_branch_is_closed(client, public_a):
    type(public_a.branch_a).objects.filter(pk=public_a.branch_a.pk).update(archived=True)
    assert client.get(public_url("wall_public", public_a.public.key)).status_code == 404


def test_public_month_is_among_published_months_only(client, public_a):
    c = public_a
    publish_month(c, c.branch_a, [c.member_a], month=datetime.date(2026, 11, 1), totals={c.member_a: D("81")})
    url = public_url("wall_public", c.public.key)
    html = client.get(url).content.decode()
    assert "81.0" in html and "李建国" not in html  # the latest month
    assert "李建国" in client.get(url, {"month": "2026-10"}).content.decode()
    assert client.get(url, {"month": "2026-09"}).status_code == 404
    assert client.get(url, {"month": "<script>"}).status_code == 404


# ---- photos ---------------------------------------------------------------------------------------------------------


def test_public_photo_serves_only_members_on_that_wall(client, public_a):
    c = public_a
    key = c.public.key
    resp = client.get(public_url("wall_public_photo", key, c.member_a.pk))
    assert resp.status_code == 200 and resp["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(resp.streaming_content))).format == "JPEG"
    # A member of branch B with a photo, through branch A's key.
    give_photo(c.member_b, "blue")
    assert client.get(public_url("wall_public_photo", key, c.member_b.pk)).status_code == 404
    # A new member of branch A with a photo, not yet on any published month.
    newcomer = give_photo(many_members(c.branch_a, 1, start=40)[0])
    assert client.get(public_url("wall_public_photo", key, newcomer.pk)).status_code == 404
    # Branch B's own wall serves its own member only once published there.
    b = services.enable_public_wall(c.staff, c.branch_b)
    assert client.get(public_url("wall_public_photo", b.key, c.member_b.pk)).status_code == 404
    publish_month(c, c.branch_b, [c.member_b])
    assert client.get(public_url("wall_public_photo", b.key, c.member_b.pk)).status_code == 200
    assert client.get(public_url("wall_public_photo", b.key, c.member_a.pk)).status_code == 404


def test_public_pages_use_the_same_number_of_queries_for_5_and_30_members(client, company):
    c = company
    small, big = many_members(c.branch_a, 5), many_members(c.branch_b, 30, start=5)
    for m in small[:3] + big[:12]:
        give_photo(m)
        Pledge.objects.create(member=m, year=2026, text="争当先锋")
    publish_month(c, c.branch_a, small)
    publish_month(c, c.branch_b, big)
    keys = [services.enable_public_wall(c.staff, org).key for org in (c.branch_a, c.branch_b)]
    for name in ("wall_public", "wall_public_screen", "wall_public_feedback"):
        counts = []
        for key in keys:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(public_url(name, key)).status_code == 200
            counts.append(len(ctx.captured_queries))
        assert counts[0] == counts[1] <= 6, name


def test_public_screen_works_without_login_with_the_qr_code(client, public_a):
    html = client.get(public_url("wall_public_screen", public_a.public.key)).content.decode()
    assert 'data-wall-screen' in html and 'data-testid="screen-qr"' in html
    assert public_url("wall_public_photo", public_a.public.key, public_a.member_a.pk) in html


# ---- the public link's management ------------------------------------------------------------------------------------


def test_secretary_opens_renews_and_closes_the_link_and_each_step_is_audited(client, company):
    c = company
    client.force_login(c.secretary_a)
    url = reverse("appraisal:wall_link", args=[c.branch_a.pk])
    assert client.post(url, {"action": "enable"}).status_code == 302
    wall = PublicWall.objects.get(org=c.branch_a)
    assert wall.enabled and len(wall.key) == 32
    old = wall.key
    client.post(url, {"action": "renew"})
    wall.refresh_from_db()
    assert wall.key != old and wall.enabled
    client.post(url, {"action": "disable"})
    wall.refresh_from_db()
    assert not wall.enabled
    actions = list(AuditEvent.objects.filter(action__startswith="wall.public").order_by("id")
                   .values_list("action", "username"))
    assert actions == [("wall.public_enabled", "secretary_a"), ("wall.public_renewed", "secretary_a"),
                       ("wall.public_disabled", "secretary_a")]
    assert all(old not in str(e.data) for e in AuditEvent.objects.filter(action__startswith="wall.public"))


def test_wrong_moves_of_the_link_say_why_in_chinese_and_change_nothing(company):
    c = company
    with pytest.raises(DomainError, match="还没有开放"):
        services.renew_public_wall(c.secretary_a, c.branch_a)
    with pytest.raises(DomainError, match="没有开放"):
        services.disable_public_wall(c.secretary_a, c.branch_a)
    services.enable_public_wall(c.secretary_a, c.branch_a)
    with pytest.raises(DomainError, match="已经开放"):
        services.enable_public_wall(c.secretary_a, c.branch_a)
    assert PublicWall.objects.count() == 1


def test_invalid_action_on_the_link_changes_nothing(client, company):
    client.force_login(company.secretary_a)
    resp = client.post(reverse("appraisal:wall_link", args=[company.branch_a.pk]), {"action": "drop"}, follow=True)
    assert "无效的操作" in resp.content.decode() and not PublicWall.objects.exists()


@pytest.mark.parametrize("persona", ["secretary_b", "member_user_a", "assessor", "outsider"])
def test_only_those_who_manage_the_branch_can_touch_its_link(client, company, persona):
    c = company
    user = getattr(c, persona)
    client.force_login(user)
    assert client.post(reverse("appraisal:wall_link", args=[c.branch_a.pk]), {"action": "enable"}).status_code == 404
    assert client.get(reverse("appraisal:wall_manage", args=[c.branch_a.pk])).status_code == 404
    assert client.get(reverse("appraisal:wall_qr", args=[c.branch_a.pk])).status_code == 404
    with pytest.raises(AccessDenied):
        services.enable_public_wall(user, c.branch_a)
    assert not PublicWall.objects.exists()


def test_manage_page_shows_the_qr_code_links_and_unread_count(client, public_a):
    c = public_a
    client.force_login(c.secretary_a)
    html = client.get(reverse("appraisal:wall_manage", args=[c.branch_a.pk])).content.decode()
    assert '<svg class="wall-manage-qr"' in html
    assert f"http://testserver/appraisal/wall/p/{c.public.key}/feedback/" in html
    assert reverse("appraisal:wall_poster", args=[c.branch_a.pk]) in html
    assert reverse("appraisal:wall_screen", args=[c.branch_a.pk]) in html
    resp = client.get(reverse("appraisal:wall_qr", args=[c.branch_a.pk]))
    assert resp.status_code == 200 and resp.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_qr_code_uses_the_public_address_when_configured(client, public_a, settings):
    settings.WALL_PUBLIC_BASE_URL = "https://dj.example.cn/"
    client.force_login(public_a.secretary_a)
    html = client.get(reverse("appraisal:wall_manage", args=[public_a.branch_a.pk])).content.decode()
    assert f"https://dj.example.cn/appraisal/wall/p/{public_a.public.key}/feedback/" in html


def test_qr_png_is_404_while_the_link_is_closed(client, company):
    client.force_login(company.secretary_a)
    assert client.get(reverse("appraisal:wall_qr", args=[company.branch_a.pk])).status_code == 404
