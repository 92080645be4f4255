"""The A3 poster (PDF): portrait A3, the Chinese font embedded, 30 members on one page with their photos, a long
pledge cut to fit, the QR code of the public form when the link is open, and the same access as the wall."""

import os
import re
import shutil
import subprocess
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from dangjian.appraisal import wall as services
from dangjian.appraisal.poster import render_poster
from dangjian.core.models import AuditEvent
from dangjian.orgs.models import Pledge
from tests.appraisal.test_wall import give_photo, many_members, publish_month

D = Decimal
LONG_PLEDGE = ("立足变电运维岗位，严格执行两票三制，带头开展设备巡视和隐患排查，确保全年零违章、零差错；"
               "积极参加党员服务队，每月至少参加一次志愿服务；认真学习党的理论，按时参加组织生活，"
               "按月足额交纳党费；在迎峰度夏、迎峰度冬和抢修保电中冲锋在前。") * 3


def pdf_text(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = tmp_path / "poster.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_pages(pdf: bytes) -> int:
    return int(re.search(rb"/Count (\d+) /Kids \[[^\]]*\] /Type /Pages", pdf).group(1))


@pytest.fixture
def thirty(company):
    c = company
    members = many_members(c.branch_a, 30)
    for i, m in enumerate(members):
        if i % 3 != 2:
            give_photo(m, ["red", "navy", "teal"][i % 3])
        Pledge.objects.create(member=m, year=2026, text=LONG_PLEDGE if i % 5 == 0 else "立足岗位，争当先锋。")
    publish_month(c, c.branch_a, members, public_ranking=True)
    c.members = members
    return c


def test_poster_is_an_a3_pdf_with_the_font_embedded(client, company):
    c = company
    give_photo(c.member_a)
    Pledge.objects.create(member=c.member_a, year=2026, text="全年零违章。")
    publish_month(c, c.branch_a, [c.member_a, c.secretary_member_a])
    client.force_login(c.member_user_a)
    resp = client.get(reverse("appraisal:wall_poster", args=[c.branch_a.pk]), {"month": "2026-10"})
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    pdf = resp.content
    assert pdf.startswith(b"%PDF-")
    assert b"/FontFile2" in pdf  # the TrueType font is embedded
    assert b"/MediaBox [ 0 0 841.8898 1190.551 ]" in pdf  # portrait A3
    assert AuditEvent.objects.filter(action="export", data__what="上墙海报").exists()


def test_thirty_members_fit_one_page_legibly(thirty, tmp_path):
    c = thirty
    wall = services.build_wall(c.branch_a)
    started = time.perf_counter()
    pdf = render_poster(wall, "https://dj.example.cn/appraisal/wall/p/abc/feedback/")
    elapsed = time.perf_counter() - started
    print(f"\n30-member A3 poster: {elapsed:.2f} s, {len(pdf) // 1024} KB")
    if os.environ.get("WALL_POSTER_OUT"):
        with open(os.environ["WALL_POSTER_OUT"], "wb") as fh:
            fh.write(pdf)
    assert pdf_pages(pdf) == 1
    text = pdf_text(pdf, tmp_path)
    for m in c.members:
        assert m.name in text
    assert "支部第1名" in text and "扫描右侧二维码" in text
    assert "…" in text  # the long pledges are cut to fit their cells
    assert text.count("88.0") >= 1 and text.count("分") >= 30


def test_a_larger_branch_continues_on_a_second_page(company, tmp_path):
    c = company
    publish_month(c, c.branch_a, many_members(c.branch_a, 36))
    pdf = render_poster(services.build_wall(c.branch_a), None)
    assert pdf_pages(pdf) == 2
    text = pdf_text(pdf, tmp_path)
    assert "第1/2页" in text and "第2/2页" in text
    assert "扫描右侧二维码" not in text and "意见和建议请向本党支部反映" in text


def test_poster_shows_nothing_private(company, tmp_path):
    c = company
    publish_month(c, c.branch_a, [c.member_a], reason="作业现场未戴安全帽扣分", note="评定意见保密")
    text = pdf_text(render_poster(services.build_wall(c.branch_a), None), tmp_path)
    assert c.member_a.name in text
    for secret in (c.member_a.phone, c.member_a.id_number, "未戴安全帽", "评定意见保密", "合格"):
        assert secret not in text


def test_a_missing_photo_file_falls_back_to_initials(company, tmp_path):
    c = company
    give_photo(c.member_a)
    publish_month(c, c.branch_a, [c.member_a])
    c.member_a.photo.storage.delete(c.member_a.photo.name)
    text = pdf_text(render_poster(services.build_wall(c.branch_a), None), tmp_path)
    assert c.member_a.name in text


def test_no_poster_before_a_month_is_published(client, company):
    client.force_login(company.secretary_b)
    resp = client.get(reverse("appraisal:wall_poster", args=[company.branch_b.pk]), follow=True)
    assert "无法生成海报" in resp.content.decode()
