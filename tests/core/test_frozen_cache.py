"""Frozen months rendered once (core.frozen_cache): the wall's cards and the results table of a finalized month come
from the cache on the second request, and never stale — an adjustment (even one that brings the digest back), an
edited pledge, a changed result row (the digest check still runs first and refuses), another user's scope, another
language: each is a different key or a refusal. Access is checked before the cache: an outsider gets 404 with the
cache warm."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dangjian.appraisal import wall as wall_services
from dangjian.assessments.close import adjust_result
from dangjian.assessments.models import Result
from dangjian.core import frozen_cache
from dangjian.orgs.models import Pledge
from tests.appraisal.conftest import appraisal_period, member_set, published_month  # noqa: F401 (fixtures)
from tests.appraisal.test_digest import REFUSED, tamper_result
from tests.appraisal.test_wall import give_photo, many_members, publish_month
from tests.assessments.matrix_results import finalized_month

D = Decimal
CARD = "appraisal/wall/_card.html"
TABLE = "assessments/results/_table.html"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def get(client, url, **kw):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url, **kw)
    rendered = {t.name for t in resp.templates if t.name}
    return resp, len(ctx.captured_queries), rendered


def wall_url(name, *args):
    return reverse(f"appraisal:{name}", args=args)


@pytest.fixture
def wall_30(company):
    """Branch A's October with 30 members published (ORM, as the close writes it), its public link open."""
    c = company
    c.wall_members = many_members(c.branch_a, 30)
    publish_month(c, c.branch_a, c.wall_members, public_ranking=True)
    c.public = wall_services.enable_public_wall(c.secretary_a, c.branch_a)
    return c


# ---- the wall ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["wall_detail", "wall_screen", "wall_public", "wall_public_screen"])
def test_the_second_request_of_a_frozen_wall_renders_no_card(client, wall_30, page):
    c = wall_30
    client.force_login(c.staff)
    client.get(reverse("home"))  # the session's first request reads more than any later one
    url = wall_url(page, c.public.key if "public" in page else c.branch_a.pk)
    first, n1, t1 = get(client, url)
    second, n2, t2 = get(client, url)
    assert first.status_code == second.status_code == 200
    if page.endswith("screen"):  # the other pages carry a CSRF token of their own
        assert first.content == second.content
    body = second.content.decode()
    assert body.count('data-card') + body.count('data-testid="wall-card"') >= 30
    assert c.wall_members[0].name in body
    if page in ("wall_detail", "wall_public"):
        assert CARD in t1 and CARD not in t2  # 30 cards rendered once
    else:
        assert "appraisal/wall/_screen_cards.html" in t1 and "appraisal/wall/_screen_cards.html" not in t2
    # The access check, the digest check and the members' live data are read every time: the same queries.
    assert n2 == n1


def test_an_edited_pledge_or_a_new_photo_is_shown_at_once(client, wall_30):
    """What a card shows besides the frozen results (pledge, photo) may change after publication."""
    c = wall_30
    member = c.wall_members[3]
    photo = wall_url("wall_public_photo", c.public.key, member.pk)
    for url in (wall_url("wall_public", c.public.key), wall_url("wall_public_screen", c.public.key)):
        body = client.get(url).content.decode()
        assert "新的承诺内容" not in body and photo not in body
    Pledge.objects.create(member=member, year=2026, text="新的承诺内容：全年安全生产零事故")
    give_photo(member)
    for url in (wall_url("wall_public", c.public.key), wall_url("wall_public_screen", c.public.key)):
        body = client.get(url).content.decode()
        assert "新的承诺内容：全年安全生产零事故" in body and photo in body


def test_a_changed_result_is_refused_with_the_cache_warm(client, company, published_month):  # noqa: F811
    c = company
    key = wall_services.enable_public_wall(c.secretary_a, c.branch_a).key
    client.force_login(c.staff)
    urls = [wall_url("wall_detail", c.branch_a.pk), wall_url("wall_screen", c.branch_a.pk),
            wall_url("wall_public", key)]
    for url in urls:
        assert client.get(url).status_code == 200
    tamper_result(c, published_month)
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 409 and REFUSED in resp.content.decode()


def test_an_outsider_gets_404_with_the_cache_warm(client, wall_30):
    c = wall_30
    client.force_login(c.staff)
    for name in ("wall_detail", "wall_screen"):
        assert client.get(wall_url(name, c.branch_a.pk)).status_code == 200
    for user in (c.outsider, c.secretary_b):
        client.force_login(user)
        for name in ("wall_detail", "wall_screen"):
            resp = client.get(wall_url(name, c.branch_a.pk))
            assert resp.status_code == 404 and c.wall_members[0].name not in resp.content.decode()
    client.logout()
    assert client.get(wall_url("wall_detail", c.branch_a.pk)).status_code == 302
    # A closed public link is closed, cache or no cache.
    wall_services.disable_public_wall(c.secretary_a, c.branch_a)
    assert client.get(wall_url("wall_public", c.public.key)).status_code == 404


def test_the_english_wall_is_not_served_from_the_chinese_cache(client, wall_30):
    c = wall_30
    url = wall_url("wall_public", c.public.key)
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "承诺：" in zh and "Pledge:" not in zh
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Pledge:" in en and "承诺：" not in en
    assert "承诺：" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_the_public_photo_links_carry_their_own_key(client, company):
    """Two public walls with the same cards never share a fragment: the photo URLs hold the wall's key."""
    c = company
    members = many_members(c.branch_a, 3)
    publish_month(c, c.branch_a, members)
    old = wall_services.enable_public_wall(c.secretary_a, c.branch_a).key
    assert old in client.get(wall_url("wall_public", old)).content.decode()
    new = wall_services.renew_public_wall(c.secretary_a, c.branch_a).key
    body = client.get(wall_url("wall_public", new)).content.decode()
    assert new in body and old not in body


# ---- the results of a finalized month ----------------------------------------------------------------------------


def results_url(period):
    return reverse("assessments:period_results", args=[period.pk])


def test_the_second_request_of_the_results_reads_no_row_and_renders_no_table(client, company):
    c = company
    period = finalized_month(c)
    client.force_login(c.staff)
    client.get(reverse("home"))
    first, n1, t1 = get(client, results_url(period))
    second, n2, t2 = get(client, results_url(period))
    assert first.status_code == second.status_code == 200
    assert TABLE in t1 and TABLE not in t2
    assert n2 == n1 - 1  # the page of rows is not read
    body = second.content.decode()
    for org in (c.branch_a, c.branch_b, c.general):
        assert org.name in body


def test_an_adjustment_changes_what_is_served_even_when_it_is_undone(client, company):
    c = company
    period = finalized_month(c)
    result = Result.objects.get(period=period, org=c.branch_a)
    original = result.total
    client.force_login(c.staff)
    body = client.get(results_url(period)).content.decode()
    assert 'data-testid="adjusted"' not in body
    adjust_result(c.staff, result, original - D("7.5"), "补录佐证后复核")
    period.refresh_from_db()
    body = client.get(results_url(period)).content.decode()
    assert str(original - D("7.5")) in body and 'data-testid="adjusted"' in body
    # Undone: the digest is the one of the first rendering again, but the row is marked as adjusted.
    adjust_result(c.staff, Result.objects.get(pk=result.pk), original, "复核后恢复原得分")
    body = client.get(results_url(period)).content.decode()
    row = body[body.index(f'id="result-{result.pk}"'):]
    row = row[:row.index("</tr>")]
    assert str(original) in row and 'data-testid="adjusted"' in row


def test_each_scope_gets_its_own_table_and_an_outsider_404_with_the_cache_warm(client, company):
    c = company
    period = finalized_month(c)
    client.force_login(c.staff)
    assert c.branch_b.name in client.get(results_url(period)).content.decode()
    client.force_login(c.secretary_a)
    body = client.get(results_url(period)).content.decode()
    table = body[body.index('id="results-table"'):]
    assert c.branch_a.name in table and c.branch_b.name not in table and 'data-testid="adjust"' not in table
    client.force_login(c.outsider)
    assert client.get(results_url(period)).status_code == 404


def test_the_english_results_are_not_served_from_the_chinese_cache(client, company):
    c = company
    period = finalized_month(c)
    client.force_login(c.staff)
    zh = client.get(results_url(period), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "同类排名" in zh
    en = client.get(results_url(period), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    table = en[en.index('id="results-table"'):en.index("</table>", en.index('id="results-table"'))]
    assert "同类排名" not in table and "组织名称" not in table


def test_a_changed_result_row_is_refused_with_the_cache_warm(client, company):
    from django.db import transaction

    from dangjian.assessments import close

    c = company
    period = finalized_month(c)
    client.force_login(c.staff)
    assert client.get(results_url(period)).status_code == 200
    # Someone with database access changes a result behind the application's back.
    with transaction.atomic(), close.close(period).adjusting():
        Result.objects.filter(period=period, org=c.branch_a).update(total=D("99.0"))
    body = client.get(results_url(period)).content.decode()
    assert 'data-testid="digest-error"' in body and 'id="results-table"' not in body


# ---- the cache itself ----------------------------------------------------------------------------------------------


def test_a_failing_cache_renders_the_fragment(monkeypatch):
    class Broken:
        def get(self, *a, **k):
            raise ConnectionError("redis down")

        def set(self, *a, **k):
            raise ConnectionError("redis down")

    monkeypatch.setattr(frozen_cache, "caches", {"default": Broken()})
    assert frozen_cache.fragment("t", TABLE, (1,), lambda: "<b>x</b>") == "<b>x</b>"


def test_keys_differ_by_view_parts_and_language():
    from django.utils import translation

    with translation.override("zh-hans"):
        a = frozen_cache.key("v", TABLE, (1, "x"))
        assert a == frozen_cache.key("v", TABLE, (1, "x"))
        assert a != frozen_cache.key("w", TABLE, (1, "x")) and a != frozen_cache.key("v", TABLE, (2, "x"))
    with translation.override("en"):
        assert a != frozen_cache.key("v", TABLE, (1, "x"))
