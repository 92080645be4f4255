"""`manage.py demo`: a realistic demo company with one login per role.

Idempotent: when the demo committee (code DEMO-C) exists, nothing is changed and only the accounts are printed.
`--reset` removes the demo company (organizations, members, pledges, seats, grants; audit events stay, the
database refuses deleting them and they do not reference organizations) and builds it again.

Accounts admin, dangjian, kaoping, shuji and dangyuan are created (or, if they exist, reset to the demo
password) with the grants listed in ACCOUNTS. Because the password is public, building requires DEBUG=1 or
--force.

Built with bulk inserts in one transaction, deterministic for a given --seed and date; takes a second or two.
"""

import datetime
import random
import time
import unicodedata

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from dangjian.core import crypto
from dangjian.core.pinyin import name_keys
from dangjian.orgs import bulk
from dangjian.orgs import demo_data as data
from dangjian.orgs.models import (
    CommitteeSeat,
    Duty,
    Level,
    Member,
    Organization,
    OrgChange,
    OrgType,
    Pledge,
    Role,
    RoleGrant,
    path_segment,
)
from dangjian.standards.demo import ensure_demo_set

DEMO_CODE = "DEMO-C"
PASSWORD = "Demo#2026dangjian"
SECRETARY_BRANCH = "DEMO-B17"  # 城关供电所党支部: home of the 支部书记 and 党员 accounts

C, G, B = Level.COMMITTEE, Level.GENERAL_BRANCH, Level.BRANCH

# (code, name, level, post family or None, short place name for the activity room, children)
TREE = (
    "DEMO-C", "国网示范市供电公司党委", C, None, "公司本部", (
        ("DEMO-G1", "运维检修党总支", G, None, "运维检修部", (
            ("DEMO-B01", "变电运维党支部", B, "production", "变电运维中心", ()),
            ("DEMO-B02", "变电检修党支部", B, "production", "变电检修中心", ()),
            ("DEMO-B03", "输电运检党支部", B, "production", "输电运检中心", ()),
            ("DEMO-B04", "配电运检党支部", B, "production", "配电运检中心", ()),
            ("DEMO-B05", "电力调度控制中心党支部", B, "production", "调控中心", ()),
        )),
        ("DEMO-G2", "营销服务党总支", G, None, "营销服务中心", (
            ("DEMO-B06", "营业厅党支部", B, "business", "城区营业厅", ()),
            ("DEMO-B07", "客户服务中心党支部", B, "business", "客户服务中心", ()),
            ("DEMO-B08", "计量中心党支部", B, "business", "计量中心", ()),
            ("DEMO-B09", "电费管理党支部", B, "business", "电费管理中心", ()),
        )),
        ("DEMO-G3", "机关党总支", G, None, "公司本部", (
            ("DEMO-B10", "机关第一党支部", B, "management", "公司本部", ()),
            ("DEMO-B11", "机关第二党支部", B, "management", "公司本部", ()),
            ("DEMO-B12", "机关第三党支部", B, "management", "公司本部", ()),
            ("DEMO-B13", "信息通信党支部", B, "management", "信息通信分公司", ()),
            ("DEMO-B14", "物资供应党支部", B, "management", "物资供应中心", ()),
        )),
        ("DEMO-G4", "建设党总支", G, None, "建设部", (
            ("DEMO-B15", "项目管理党支部", B, "production", "项目管理中心", ()),
            ("DEMO-B16", "经济技术研究所党支部", B, "management", "经济技术研究所", ()),
        )),
        ("DEMO-X", "国网示范县供电公司党委", C, None, "县公司本部", (
            ("DEMO-B17", "城关供电所党支部", B, "station", "城关供电所", ()),
            ("DEMO-B18", "东湖供电所党支部", B, "station", "东湖供电所", ()),
            ("DEMO-B19", "西山供电所党支部", B, "station", "西山供电所", ()),
            ("DEMO-B20", "县公司机关党支部", B, "management", "县公司本部", ()),
            ("DEMO-B21", "县公司营销党支部", B, "business", "县公司营业厅", ()),
        )),
    ),
)

# Organizations whose term ends within 90 days, so the "换届" warning has something to show.
TERM_ENDING_SOON = {"DEMO-B18": 35, "DEMO-B12": 80}

TYPE_OF_FAMILY = {"production": "production", "station": "production", "management": "management",
                  "business": "business"}
SIZE_OF_FAMILY = {"station": (18, 26), "production": (16, 24), "management": (15, 20), "business": (15, 22)}
UPPER_SECRETARY_PREFERENCE = ("management", "station", "business", "production")
COMMITTEE_DUTIES = (Duty.SECRETARY, Duty.ORGANIZATION, Duty.PUBLICITY, Duty.DISCIPLINE)

# username -> (role label, RoleGrant role, where the grant is, what the account sees)
ACCOUNTS = (
    ("admin", "系统管理员", Role.ADMIN, DEMO_CODE, "全部组织和功能：角色授权、审计日志、Django 管理后台"),
    ("dangjian", "党建管理员", Role.STAFF, DEMO_CODE, "全公司的组织、党员、承诺和考评管理，导入导出，审计日志"),
    ("kaoping", "考评员", Role.ASSESSOR, DEMO_CODE, "全公司的组织和党员（只读），考评打分"),
    ("shuji", "支部书记", Role.SECRETARY, SECRETARY_BRANCH, "城关供电所党支部：本支部党员、承诺和支委"),
    ("dangyuan", "党员", Role.MEMBER, SECRETARY_BRANCH, "本人信息和承诺，所在支部概况"),
)


def _walk(node, parent_code=None):
    code, name, level, family, place, children = node
    yield code, name, level, family, place, parent_code
    for child in children:
        yield from _walk(child, code)


def demo_root():
    return Organization.objects.filter(code=DEMO_CODE).first()


def remove_demo() -> dict[str, int]:
    """Delete the demo company and everything under it, set-based. Accounts stay (their grants go)."""
    root = demo_root()
    if root is None:
        return {}
    from dangjian.core.audit_chain import deletes_allowed

    # Published member months refuse DELETE (appraisal migration 0003) except under the maintenance switch,
    # which holds for this transaction only.
    with deletes_allowed():
        from dangjian.assessments.demo import remove_demo_assessments

        remove_demo_assessments(root)  # finalized months refuse deletes: taken away with their locks lifted
        return bulk.purge(Organization.objects.filter(path__startswith=root.path))


class TakenIdNumbers:
    """The ID numbers in use, held as blind indexes (the numbers themselves are sealed): ``in`` and ``add`` take a
    clear ID number, as demo_data.person expects of its ``taken`` set."""

    def __init__(self, indexes):
        self.indexes = set(indexes)
        self.index_of = crypto.indexer()

    def __contains__(self, id_number: str) -> bool:
        return self.index_of(id_number) in self.indexes

    def add(self, id_number: str) -> None:
        self.indexes.add(self.index_of(id_number))


class Builder:
    def __init__(self, seed: int, today: datetime.date):
        self.rng = random.Random(seed)
        self.today = today
        self.now = timezone.now()

    def build(self) -> dict[str, int]:
        rng, today = self.rng, self.today
        bulk.lock([Organization, Member, Pledge, CommitteeSeat, OrgChange])
        types = {t.code: t for t in OrgType.objects.filter(code__in=set(TYPE_OF_FAMILY.values()))}
        missing = set(TYPE_OF_FAMILY.values()) - set(types)
        if missing:
            raise CommandError(f"缺少组织类型 {', '.join(sorted(missing))}，请先运行 manage.py migrate。")

        # ---- organizations: ids allocated here so paths are known before the insert
        org_id = bulk.id_base(Organization)
        orgs: dict[str, Organization] = {}
        elections: dict[str, datetime.date] = {}
        for order, (code, name, level, family, place, parent_code) in enumerate(_walk(TREE)):
            org_id += 1
            parent = orgs.get(parent_code)
            years = 5 if level == C else 3  # 基层党委 5 years, 总支 and 支部 3 years
            if code in TERM_ENDING_SOON:
                term_ends = today + datetime.timedelta(days=TERM_ENDING_SOON[code])
            else:
                term_ends = today + datetime.timedelta(days=rng.randint(150, years * 365 - 30))
            elected = data.add_years(term_ends, -years)
            established = datetime.date(rng.choice((1998, 2002, 2005, 2008, 2011, 2014)), rng.randint(1, 12),
                                        rng.randint(1, 28))
            established = min(established, elected)
            orgs[code] = Organization(
                id=org_id, name=name, code=code, level=level, parent=parent,
                type=types[TYPE_OF_FAMILY[family]] if family else None,
                path=(parent.path if parent else "") + path_segment(org_id),
                depth=(parent.depth + 1) if parent else 0,
                established_on=established, term_ends_on=term_ends,
                address=f"{place}党员活动室", order=order,
            )
            orgs[code].family = family
            elections[code] = elected
        Organization.objects.bulk_create(orgs.values())
        OrgChange.objects.bulk_create(
            OrgChange(org=o, kind=OrgChange.Kind.CREATE, effective_on=o.established_on,
                      after={"name": o.name, "code": o.code, "level": o.level, "parent": o.parent_id,
                             "path": o.path}, reason="演示数据")
            for o in orgs.values()
        )

        # ---- members, branch by branch
        taken = TakenIdNumbers(Member.objects.values_list("id_number_index", flat=True))
        member_id = bulk.id_base(Member)
        members: list[Member] = []
        by_branch: dict[str, list[Member]] = {}
        for code, org in orgs.items():
            if org.level != B:
                continue
            family = org.family
            size = rng.randint(*SIZE_OF_FAMILY[family])
            titles = data.TITLES[family]
            branch_members = []
            for i in range(size):
                # The first four hold the committee seats, so they are full members; ~10 % of the rest are
                # probationary (admitted within the last year).
                probationary = i >= 4 and rng.random() < 0.13
                p = data.person(rng, today, min_age=30 if i < 4 else 23, probationary=probationary, taken=taken)
                pinyin, initials = name_keys(p["name"])
                member_id += 1
                m = Member(
                    id=member_id, org=org, name=p["name"], name_pinyin=pinyin, name_initials=initials,
                    gender=p["gender"], birth_date=p["birth_date"], id_number=p["id_number"], phone=p["phone"],
                    joined_on=p["joined_on"], confirmed_on=p["confirmed_on"], status=p["status"],
                    post=rng.choice(data.POSTS[family]), title=titles[i] if i < len(titles) else "",
                )
                m.post = data.TITLE_POSTS.get(m.title, m.post)
                branch_members.append(m)
            by_branch[code] = branch_members
            members.extend(branch_members)

        # Secretaries of committees and general branches: a senior member of one of their branches.
        upper_secretaries = {}
        for code, org in orgs.items():
            if org.level == B:
                continue
            # Prefer a 机关 (management) branch of the subtree, then a 供电所, then any.
            branch_codes = sorted(
                (c for c, o in orgs.items() if o.level == B and o.path.startswith(org.path)),
                key=lambda c: (UPPER_SECRETARY_PREFERENCE.index(orgs[c].family), c))
            taken_members = set(upper_secretaries.values())
            candidates = [m for m in by_branch[branch_codes[0]][4:]
                          if m.status == "full" and not m.title and m not in taken_members]
            chosen = min(candidates, key=lambda m: m.birth_date)  # the most senior one
            chosen.title = chosen.post = "党委书记" if org.level == C else "党总支书记"
            upper_secretaries[code] = chosen

        Member.objects.bulk_create(members)

        # ---- pledges for the current year
        year = today.year
        Pledge.objects.bulk_create(
            Pledge(member=m, year=year, text=data.pledge_text(m.org.family, m.post, rng)) for m in members
        )

        # ---- committee seats: 书记 everywhere; 组织/宣传/纪检委员 where there are ≥ 7 full members
        seats = []
        for code, branch_members in by_branch.items():
            full = sum(1 for m in branch_members if m.status == "full")
            duties = COMMITTEE_DUTIES if full >= 7 else COMMITTEE_DUTIES[:1]
            for m, duty in zip(branch_members, duties, strict=False):
                seats.append(CommitteeSeat(org=orgs[code], member=m, duty=duty,
                                           since=max(elections[code], m.confirmed_on)))
        for code, m in upper_secretaries.items():
            seats.append(CommitteeSeat(org=orgs[code], member=m, duty=Duty.SECRETARY,
                                       since=max(elections[code], m.confirmed_on)))
        CommitteeSeat.objects.bulk_create(seats)
        bulk.reset_sequences([Organization, Member])

        # ---- accounts
        self.make_accounts(orgs, by_branch[SECRETARY_BRANCH])
        return {
            "orgs": len(orgs), "branches": len(by_branch), "members": len(members), "pledges": len(members),
            "seats": len(seats),
        }

    def make_accounts(self, orgs, branch_members):
        encoded = make_password(PASSWORD)  # hashed once: PBKDF2 is deliberately slow
        secretary = branch_members[0]
        ordinary = next(m for m in branch_members[4:] if m.status == "full" and not m.title)
        linked = {"shuji": secretary, "dangyuan": ordinary}
        names = {"admin": "系统管理员", "dangjian": "党建部", "kaoping": "考评组"}
        for username, _label, role, org_code, _sees in ACCOUNTS:
            member = linked.get(username)
            user, _ = User.objects.get_or_create(username=username)
            user.password = encoded
            user.first_name = member.name if member else names[username]
            user.is_active = True
            user.is_superuser = user.is_staff = username == "admin"
            user.save()
            RoleGrant.objects.get_or_create(user=user, role=role, org=orgs[org_code])
            if member is not None:
                Member.objects.filter(user=user).exclude(pk=member.pk).update(user=None)
                Member.objects.filter(pk=member.pk).update(user=user)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def accounts_table() -> str:
    """The demo accounts as a text table: role, username, password, what the account sees."""
    from dangjian.assessments.demo import EXTRA_ASSESSORS

    # The assessments demo adds three more assessors (one lenient, one strict) when it builds the months.
    extra = [(username, "考评员", Role.ASSESSOR, DEMO_CODE, f"同考评员（{name}，演示数据中{note}）")
             for username, name, note in EXTRA_ASSESSORS]
    users = {u.username: u for u in User.objects.filter(username__in=[a[0] for a in ACCOUNTS + tuple(extra)])}
    extra = [a for a in extra if a[0] in users]
    members = {m.user_id: m for m in Member.objects.filter(user__in=users.values()).select_related("org")}
    rows = [("角色", "用户名", "密码", "可以看到")]
    for username, label, _role, _org, sees in ACCOUNTS + tuple(extra):
        user = users.get(username)
        if user is None:
            rows.append((label, username, "（未创建）", sees))
            continue
        member = members.get(user.pk)
        if member is not None:
            sees = f"{sees}（本人：{member.name}）"
        rows.append((label, username, PASSWORD, sees))
    widths = [max(_width(r[i]) for r in rows) for i in range(3)]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(_pad(r[i], widths[i]) for i in range(3)) + "  " + r[3])
        if n == 0:
            lines.append("-" * (sum(widths) + 6 + max(_width(x[3]) for x in rows)))
    return "\n".join(lines)


class Command(BaseCommand):
    help = "创建演示公司（国网示范市供电公司党委，约20个党支部、400名党员）和各角色的演示账号；已存在时只打印账号。"

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="先删除演示数据再重新创建")
        parser.add_argument("--accounts", action="store_true",
                            help="打印演示账号（每次运行都会打印，保留此选项以兼容旧用法）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子（默认 2026）")
        parser.add_argument("--force", action="store_true",
                            help="在 DEBUG 关闭时也创建（演示账号使用公开密码，切勿用于生产环境）")

    def handle(self, *args, reset=False, seed=2026, force=False, **options):
        root = demo_root()
        if root is not None and not reset:
            self.stdout.write(f"演示数据已存在（{root.name}），未做任何修改；如需重建请加 --reset。")
        else:
            if not (settings.DEBUG or force):
                raise CommandError("演示账号使用公开的密码，只能在开发环境（DEBUG=1）创建；确需创建请加 --force。")
            started = time.perf_counter()
            with transaction.atomic():
                removed = remove_demo() if reset else {}
                stats = Builder(seed, timezone.localdate()).build()
            if removed:
                self.stdout.write("已删除原演示数据：" + "，".join(
                    f"{label} {n} 行" for label, n in sorted(removed.items()) if n))
            self.stdout.write(self.style.SUCCESS(
                f"已创建演示公司：{stats['orgs']} 个党组织（其中党支部 {stats['branches']} 个），"
                f"党员 {stats['members']} 名，{timezone.localdate().year} 年度承诺 {stats['pledges']} 条，"
                f"支委职务 {stats['seats']} 个，用时 {time.perf_counter() - started:.1f} 秒。"))
        ensure_demo_set(self.stdout)
        from dangjian.assessments.demo import ensure_demo_assessments

        ensure_demo_assessments(self.stdout)
        from dangjian.appraisal.demo import ensure_demo_appraisal

        ensure_demo_appraisal(self.stdout)
        from dangjian.service.demo import ensure_demo_service

        ensure_demo_service(self.stdout)
        self.stdout.write("")
        self.stdout.write("演示账号（所有账号密码相同，仅供演示）：")
        self.stdout.write(accounts_table())
