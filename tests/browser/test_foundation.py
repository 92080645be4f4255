"""The foundation pages in a real browser: login, the org tree over HTMX, member search, scoping, the phone
layout, logout and password change, and the all-or-nothing Excel import. Screenshots go to /tmp/shots/."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from dangjian.orgs.models import Member
from tests.browser.conftest import login, no_horizontal_scroll, shot
from tests.factories import PASSWORD, valid_id

pytestmark = pytest.mark.browser


def open_nav(page, label):
    with page.expect_navigation():
        page.locator("nav.navbar .nav-link", has_text=label).click()


def expand(page, org_name):
    """Click the toggle in front of `org_name` in the tree and wait for HTMX to fill its child <ul>."""
    node = page.locator("[data-testid=org-tree] li").filter(
        has=page.locator(":scope > [data-testid=org-node]", has_text=org_name))
    node.locator(":scope > [data-tree-toggle]").click()
    expect(node.locator(":scope > ul > li").first).to_be_visible()
    return node


def test_staff_logs_in_and_browses_the_tree(browser_company, new_page):
    c = browser_company
    page = new_page()
    page.goto("/login/")
    expect(page.locator("#id_username")).to_be_visible()
    shot(page, "login-desktop")
    login(page, "staff")
    expect(page.locator("nav.navbar")).to_be_visible()
    expect(page.locator("nav.navbar .nav-link", has_text="组织架构")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("党建部")
    assert page.static_failures == [], f"static files missing: {page.static_failures}"
    # Bootstrap's CSS applied: the navbar is a flex row, not an unstyled list.
    assert page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).display") == "flex"
    shot(page, "home-staff-desktop")

    open_nav(page, "组织架构")
    tree = page.locator("[data-testid=org-tree]")
    expect(tree.get_by_text("国网示范市供电公司党委")).to_be_visible()
    expect(tree.get_by_text("运维检修党总支")).to_have_count(0)
    expand(page, "国网示范市供电公司党委")
    expect(tree.get_by_role("link", name="运维检修党总支")).to_be_visible()
    expect(tree.get_by_role("link", name="机关第一党支部")).to_be_visible()
    expand(page, "运维检修党总支")
    expect(tree.get_by_role("link", name="变电运维党支部")).to_be_visible()
    expect(tree.get_by_role("link", name="输电运检党支部")).to_be_visible()
    shot(page, "tree-expanded-desktop")

    with page.expect_navigation():
        tree.get_by_role("link", name="变电运维党支部").click()
    assert page.url.endswith(f"/orgs/{c.branch_a.pk}/")
    expect(page.locator("h1")).to_contain_text("变电运维党支部")
    expect(page.locator("main")).to_contain_text("张三")
    shot(page, "org-detail-branch-a-desktop")


def test_member_found_by_pinyin_and_initials(browser_company, new_page):
    page = new_page()
    login(page, "staff")
    open_nav(page, "党员管理")
    table = page.locator("[data-testid=member-table]")
    expect(table).to_contain_text("赵敏")
    shot(page, "member-list-desktop")

    def search(text):
        page.fill("[data-testid=member-search]", text)
        with page.expect_navigation():
            page.press("[data-testid=member-search]", "Enter")

    search("zhangsan")
    expect(table.get_by_role("link", name="张三")).to_be_visible()
    expect(table).not_to_contain_text("王芳")
    search("zs")
    expect(table.get_by_role("link", name="张三")).to_be_visible()
    expect(table).not_to_contain_text("赵敏")
    search("qianwu")
    expect(table).to_contain_text("没有符合条件的党员")
    expect(table.get_by_role("link", name="张三")).to_have_count(0)


def test_secretary_of_b_cannot_open_branch_a(browser_company, new_page):
    c = browser_company
    page = new_page()
    login(page, "secretary_b")
    resp = page.goto(f"/orgs/{c.branch_a.pk}/")
    assert resp.status == 404
    expect(page.locator("body")).not_to_contain_text("变电运维党支部")
    shot(page, "404-secretary-b")
    page.goto("/orgs/members/")
    table = page.locator("[data-testid=member-table]")
    expect(table).to_contain_text("王芳")
    expect(table).not_to_contain_text("张三")
    expect(table).not_to_contain_text("李建国")


def test_phone_layout(browser_company, new_page):
    c = browser_company
    page = new_page(phone=True)
    page.goto("/login/")
    expect(page.locator("#id_username")).to_be_visible()
    assert no_horizontal_scroll(page)
    shot(page, "login-phone")
    login(page, "member_a")
    toggler = page.locator("nav.navbar .navbar-toggler")
    expect(toggler).to_be_visible()
    my_file = page.locator("nav.navbar .nav-link", has_text="我的档案")
    expect(my_file).to_be_hidden()
    toggler.click()
    expect(my_file).to_be_visible()
    expect(page.locator("#mainnav")).to_have_class(re.compile(r"\bshow\b"))  # collapse animation finished
    shot(page, "home-member-phone-menu-open")
    with page.expect_navigation():
        my_file.click()
    assert page.url.endswith(f"/orgs/members/{c.member_a.pk}/")
    expect(page.locator("h1")).to_contain_text("张三")
    # One's own record is shown in full (views.member_detail and tests/test_api.py: "own or member.pii").
    expect(page.locator("[data-testid=id-number]")).to_have_text(c.member_a.id_number)
    assert no_horizontal_scroll(page), "member detail scrolls sideways on a phone"
    shot(page, "member-detail-phone-own")

    # Anyone else without member.pii sees it masked: the branch secretary on a phone.
    other = new_page(phone=True)
    login(other, "secretary_a")
    other.goto(f"/orgs/members/{c.member_a.pk}/")
    expect(other.locator("h1")).to_contain_text("张三")
    expect(other.locator("[data-testid=id-number]")).to_contain_text("*")
    assert c.member_a.id_number not in other.content()
    assert no_horizontal_scroll(other), "member detail scrolls sideways on a phone"
    shot(other, "member-detail-phone-masked")


def test_staff_pages_fit_a_phone(browser_company, new_page):
    """The pages staff use most, on a phone: no sideways scrolling (screenshots for review)."""
    c = browser_company
    page = new_page(phone=True)
    login(page, "staff")
    assert no_horizontal_scroll(page), "home"
    shot(page, "home-staff-phone")
    page.goto("/orgs/")
    expand(page, "国网示范市供电公司党委")
    expand(page, "运维检修党总支")
    expect(page.get_by_role("link", name="变电运维党支部")).to_be_visible()
    assert no_horizontal_scroll(page), "tree"
    shot(page, "tree-expanded-phone")
    page.goto(f"/orgs/{c.branch_a.pk}/")
    assert no_horizontal_scroll(page), "org detail"
    shot(page, "org-detail-branch-a-phone")
    page.goto("/orgs/members/")
    expect(page.locator("[data-testid=member-table]")).to_contain_text("张三")
    assert no_horizontal_scroll(page), "member list"
    shot(page, "member-list-phone")
    page.goto(f"/orgs/members/{c.member_a.pk}/")
    expect(page.locator("[data-testid=id-number]")).to_contain_text("*")
    assert no_horizontal_scroll(page), "member detail"
    shot(page, "member-detail-phone")

    desktop = new_page()
    login(desktop, "staff")
    desktop.goto(f"/orgs/members/{c.member_a.pk}/")
    expect(desktop.locator("[data-testid=id-number]")).to_contain_text("*")
    shot(desktop, "member-detail-desktop")


IMPORT_HEADER = ["姓名", "性别", "出生日期", "身份证号", "手机号", "所在党支部编码", "入党日期", "转正日期",
                 "党员类别", "岗位", "职务", "承诺"]


def test_bad_excel_import_changes_nothing(browser_company, new_page, tmp_path):
    import openpyxl

    birth = datetime.date(1990, 3, 8)
    good_id = valid_id(birth, serial=777)
    bad_id = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")  # same number, wrong check character
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(IMPORT_HEADER)
    ws.append(["孙立新", "男", birth, good_id, "13912345678", "B001", datetime.date(2015, 7, 1),
               datetime.date(2016, 7, 1), "正式党员", "变电运维工", "", "立足岗位作表率"])
    ws.append(["周海燕", "女", birth, bad_id, "13987654321", "B001", datetime.date(2015, 7, 1),
               datetime.date(2016, 7, 1), "正式党员", "变电运维工", "", ""])
    xlsx = tmp_path / "党员导入.xlsx"
    wb.save(xlsx)
    before = Member.objects.count()

    page = new_page()
    login(page, "staff")
    resp = page.goto("/orgs/import/members/")
    assert resp.status == 200, f"import page answered {resp.status}"
    page.set_input_files("input[type=file][name=file]", str(xlsx))
    with page.expect_navigation():
        page.locator("[data-testid=import-submit]").click()
    errors = page.locator("[data-testid=import-errors]")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("第3行")
    expect(errors).to_contain_text("身份证号")
    shot(page, "import-errors-desktop")
    assert Member.objects.count() == before, "a file with an error must import nothing"
    assert not Member.objects.filter(name__in=["孙立新", "周海燕"]).exists()


def test_logout_and_password_change_pages(browser_company, new_page):
    page = new_page()
    login(page, "secretary_a")
    page.locator("[data-testid=user-menu]").click()
    logout = page.locator("[data-testid=logout]")
    expect(logout).to_be_visible()
    with page.expect_navigation():
        logout.click()
    assert "/login/" in page.url
    expect(page.locator("#id_username")).to_be_visible()
    page.goto("/orgs/members/")
    assert "/login/" in page.url, "still signed in after logout"

    login(page, "secretary_a")
    page.locator("[data-testid=user-menu]").click()
    with page.expect_navigation():
        page.get_by_role("link", name="修改密码").click()
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", "Ab#1")
    page.fill("#id_new_password2", "Ab#1")
    with page.expect_navigation():
        page.get_by_role("button", name="保存新密码").click()
    errors = page.locator(".invalid-feedback")
    expect(errors.first).to_be_visible()
    shot(page, "password-change-too-short")
    text = " ".join(errors.all_inner_texts())
    assert "密码" in text and "12" in text, f"not a Chinese message: {text}"
