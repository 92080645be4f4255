"""Chinese by default, English on request: the language switch, pages without leftover Chinese, and a complete
English catalog (locale/en, msgids are the Chinese source text; `make` compiles the .mo)."""

import ast
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from dangjian.core.errors import DomainError
from dangjian.orgs import services
from dangjian.orgs.models import Level, Member, Organization
from tests.factories import make_member

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")


@pytest.fixture
def english(client):
    assert MO.exists(), "locale/en/LC_MESSAGES/django.mo is missing: run `make setup` (manage.py compilemessages)"
    resp = client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    assert resp.status_code == 302
    return client


def leftover_chinese(html: str, data: list[str]) -> list[str]:
    """Chinese text on a page that is not data (names, posts) and not the switch back to 简体中文."""
    for text in sorted(set(data), key=len, reverse=True):
        html = html.replace(text, "")
    html = html.replace("简体中文", "")
    return CJK.findall(html)


def data_strings() -> list[str]:
    from django.contrib.auth.models import User

    out = list(Organization.objects.values_list("name", flat=True))
    out += list(Member.objects.values_list("name", flat=True)) + list(Member.objects.values_list("post", flat=True))
    out += [n for n in User.objects.values_list("first_name", flat=True) if n]
    return [s for s in out if s]


def navbar(html: str) -> str:
    return html[html.index('<nav class="navbar'):html.index("</nav>")]


# ---- the switch ----------------------------------------------------------------------------------------


def test_the_default_language_is_chinese(client, db):
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html and "用户名" in html and "Sign in" not in html
    # Each language is offered under its own name.
    assert 'lang="en">English</button>' in html and 'lang="zh-hans">简体中文</button>' in html


def test_the_login_page_offers_the_switch_and_speaks_english_after_it(english):
    html = english.get(reverse("login")).content.decode()
    assert '<html lang="en">' in html
    assert "Sign in" in html and "Username" in html and "Password" in html
    assert "Party-Building Quantitative Assessment and Benchmarking Platform" in html
    assert leftover_chinese(html, []) == []
    # The switch back is labelled in its own language.
    assert 'lang="zh-hans">简体中文</button>' in html


def test_switching_back_to_chinese(english):
    english.post(reverse("set_language"), {"language": "zh-hans", "next": "/login/"})
    html = english.get(reverse("login")).content.decode()
    assert "登录" in html and "Sign in" not in html


def test_a_failed_login_is_explained_in_english(english, company):
    html = english.post(reverse("login"), {"username": "staff", "password": "wrong"}).content.decode()
    assert "Incorrect username or password. Please try again." in html


# ---- pages in English ----------------------------------------------------------------------------------


def test_org_tree_in_english(english, company):
    english.force_login(company.staff)
    html = english.get(reverse("orgs:tree")).content.decode()
    assert "Organization tree" in html and "Party Committee" in html and "Find" in html
    assert leftover_chinese(navbar(html), data_strings()) == []
    assert leftover_chinese(html, data_strings()) == []


def test_tree_children_in_english(english, company):
    english.force_login(company.staff)
    html = english.get(reverse("orgs:tree_children", args=[company.general.pk])).content.decode()
    assert "Party Branch" in html and "Production (incl. power supply stations)" in html
    assert re.search(r"\d+ members?\b", html)
    assert leftover_chinese(html, data_strings()) == []


def test_org_detail_in_english(english, company):
    english.force_login(company.staff)
    html = english.get(reverse("orgs:org_detail", args=[company.branch_a.pk])).content.decode()
    assert "Party Branch" in html and "Organization tree" in html and "Organization code" in html
    assert "Secretary and committee members" in html and "Full member" in html
    assert "No Secretary has been appointed." in html  # a health warning, made in the view
    assert leftover_chinese(navbar(html), data_strings()) == []
    assert leftover_chinese(html, data_strings()) == []


def test_org_list_in_english(english, company):
    english.force_login(company.staff)
    html = english.get(reverse("orgs:org_list")).content.decode()
    assert "Party organizations" in html and "All levels" in html and "General Party Branch" in html
    assert leftover_chinese(html, data_strings()) == []


def test_member_list_in_english(english, company):
    english.force_login(company.staff)
    html = english.get(reverse("orgs:member_list")).content.decode()
    assert "Party members" in html and "Full member" in html and "Male" in html and "Female" in html
    assert "All categories" in html and "Export to Excel" in html
    assert leftover_chinese(navbar(html), data_strings()) == []
    assert leftover_chinese(html, data_strings()) == []


def test_member_detail_in_english(english, company):
    english.force_login(company.staff)
    html = english.get(reverse("orgs:member_detail", args=[company.member_a.pk])).content.decode()
    assert "Date of birth" in html and "Jun 15, 1985" in html and "Full member" in html
    assert "Transfer membership" in html and "Party member pledges" in html
    assert leftover_chinese(navbar(html), data_strings()) == []
    assert leftover_chinese(html, data_strings()) == []


def test_home_audit_and_forms_in_english(english, company):
    english.force_login(company.admin)
    for name, args in [("home", []), ("audit_list", []), ("password_change", []), ("orgs:account_list", []),
                       ("orgs:org_edit", [company.branch_a.pk]), ("orgs:member_create", []),
                       ("orgs:seat_add", [company.branch_a.pk]), ("orgs:account_detail", [company.staff.pk])]:
        resp = english.get(reverse(name, args=args))
        assert resp.status_code == 200, name
        html = resp.content.decode()
        # Form select options list organizations by name (data); their indent is an ideographic space.
        assert leftover_chinese(html.replace("\u3000", ""), data_strings()) == [], name


def test_messages_from_services_and_validators_are_translated(english, company):
    english.force_login(company.staff)
    resp = english.post(reverse("orgs:org_create"), {
        "parent": company.general.pk, "name": "新党委", "code": "NEW1", "level": "committee", "order": 0})
    assert "A Party Committee cannot be set up under a General Party Branch." in resp.content.decode()
    good = company.member_a.id_number
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    resp = english.post(reverse("orgs:member_edit", args=[company.member_a.pk]), {
        "name": "张三", "gender": "M", "birth_date": "1985-06-15", "id_number": bad,
        "joined_on": "2010-07-01", "confirmed_on": "2011-07-01", "status": "full"})
    assert "The check character of the ID card number is wrong." in resp.content.decode()


def test_choice_labels_show_translated_but_stay_chinese_as_data(db):
    label = Level.BRANCH.label
    with translation.override("en"):
        assert str(label) == "Party Branch" and f"{label}" == "Party Branch"
        assert label == "党支部" and json.dumps(label, ensure_ascii=False) == '"党支部"'
        assert "、".join(lbl for _, lbl in Level.choices) == "党委、党总支、党支部"
        with pytest.raises(DomainError, match="cannot be set up under a Party Branch"):
            services.check_placement(Level.BRANCH, None, Organization(name="x", level=Level.BRANCH))
    with translation.override("zh-hans"):
        assert str(label) == "党支部"


def test_the_minimum_length_message_is_in_our_catalog():
    from django.core.exceptions import ValidationError

    from dangjian.core.passwords import MinimumLengthValidator

    validator = MinimumLengthValidator(min_length=12)
    for lang, text in [("zh-hans", "密码太短，至少需要 12 个字符。"),
                       ("en", "The password is too short: it needs at least 12 characters.")]:
        with translation.override(lang), pytest.raises(ValidationError) as exc:
            validator.validate("Ab#1")
        assert exc.value.messages == [text]


def test_an_english_export_keeps_the_audit_record_chinese(english, company):
    from dangjian.core.models import AuditEvent

    english.force_login(company.staff)
    resp = english.get(reverse("orgs:member_list") + "?format=xlsx")
    assert resp.status_code == 200 and "Party%20member%20roster" in resp["Content-Disposition"]
    assert AuditEvent.objects.get(action="export").data["what"] == "党员名册"


def test_a_success_message_is_in_english(english, company):
    english.force_login(company.staff)
    member = make_member(company.branch_a, "钱七")
    resp = english.post(reverse("orgs:member_pledge", args=[member.pk]), {"year": 2026, "text": "带头学习"},
                        follow=True)
    assert "The pledge has been saved." in resp.content.decode()


# ---- the catalog ---------------------------------------------------------------------------------------


def po_entries(path: Path):
    """(msgctxt, msgid, msgid_plural, {n: msgstr}, flags) for each entry of a .po file."""
    entry, key, out = None, None, []

    def flush():
        if entry and entry.get("msgid") is not None:
            out.append(entry)

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            flush()
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key.startswith("msgstr"):
                entry["msgstr"][key] += value
            else:
                entry[key] += value
        else:
            key, _, value = line.partition(" ")
            value = ast.literal_eval(value)
            if key.startswith("msgstr"):
                key = "msgstr[0]" if key == "msgstr" else key
                entry["msgstr"][key] = value
            else:
                entry[key] = value
    return [e for e in out if e["msgid"] != ""]


def test_every_message_has_an_english_translation():
    entries = po_entries(PO)
    assert len(entries) > 300
    untranslated = [e["msgid"] for e in entries if not e["msgstr"] or not all(e["msgstr"].values())]
    assert untranslated == [], f"untranslated in {PO.name}: {untranslated[:10]}"
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert fuzzy == [], f"fuzzy entries in {PO.name}: {fuzzy[:10]}"
    plural = [e for e in entries if "msgid_plural" in e]
    assert plural and all(set(e["msgstr"]) == {"msgstr[0]", "msgstr[1]"} for e in plural)


def test_translations_keep_their_placeholders_and_contain_no_chinese():
    for e in po_entries(PO):
        wanted = sorted(re.findall(r"%\(\w+\)s|\{\w+\}", e["msgid"]))
        for n, text in e["msgstr"].items():
            assert sorted(re.findall(r"%\(\w+\)s|\{\w+\}", text)) == wanted, (e["msgid"], n, text)
            assert not CJK.search(text), (e["msgid"], text)


def test_the_compiled_catalog_matches_the_po_file():
    assert MO.exists(), "locale/en/LC_MESSAGES/django.mo is missing: run `make setup` (manage.py compilemessages)"
    stale = []
    with translation.override("en"):
        for e in po_entries(PO):
            ctx, msgid, strs = e.get("msgctxt"), e["msgid"], e["msgstr"]
            if "msgid_plural" in e:
                got = [translation.npgettext(ctx, msgid, e["msgid_plural"], n) if ctx else
                       translation.ngettext(msgid, e["msgid_plural"], n) for n in (1, 2)]
                want = [strs["msgstr[0]"], strs["msgstr[1]"]]
            else:
                got = translation.pgettext(ctx, msgid) if ctx else translation.gettext(msgid)
                want = strs["msgstr[0]"]
            if got != want:
                stale.append(msgid)
    assert stale == [], f"django.mo is older than django.po, run compilemessages: {stale[:5]}"
