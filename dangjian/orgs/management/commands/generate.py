"""`manage.py generate --orgs N --members M [--seed S]`: synthetic data of any size, for benchmarks.

The data goes under its own root committee (code GEN-ROOT, every code starts with "GEN-") beside whatever
exists: 1 root → provincial committees → city committees → 党总支 → 党支部, ~20 members per branch.

Set-based: primary keys are allocated here (max id), so materialized paths are computed in Python; rows are
inserted with executemany (SQLite) or COPY (PostgreSQL) in chunks inside one transaction, and the id
sequences are moved afterwards. Names come from pools whose pinyin is computed once per surname and given
name; ID numbers are unique by construction (a bijection from a counter to area × birth date × serial).

`--clear` removes the generated data again (set-based deletes).
"""

import bisect
import datetime
import math
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from dangjian.core import crypto
from dangjian.core.pinyin import name_keys
from dangjian.core.validators import id_check_char
from dangjian.orgs import bulk
from dangjian.orgs import demo_data as data
from dangjian.orgs.models import CommitteeSeat, Level, Member, Organization, OrgType, Pledge, path_segment

ROOT_CODE = "GEN-ROOT"
CODE_PREFIX = "GEN-"

ORG_FIELDS = ["id", "name", "code", "level", "type", "parent", "path", "depth", "established_on", "term_ends_on",
              "address", "archived", "archived_on", "merged_into", "order", "created_at"]
MEMBER_FIELDS = ["id", "org", "name", "name_pinyin", "name_initials", "gender", "birth_date", "id_number",
                 "phone", "id_number_index", "joined_on", "confirmed_on", "status", "post", "title", "photo", "user",
                 "active", "created_at"]
SEAT_FIELDS = ["org", "member", "duty", "since", "until"]
PLEDGE_FIELDS = ["member", "year", "text", "updated_at"]

PROVINCES = ("北京", "天津", "河北", "冀北", "山西", "山东", "上海", "江苏", "浙江", "安徽", "福建", "湖北", "湖南",
             "河南", "江西", "四川", "重庆", "辽宁", "吉林", "黑龙江", "蒙东", "陕西", "甘肃", "青海", "宁夏", "新疆",
             "西藏")
CITIES = ("东州", "西平", "南阳", "北安", "临江", "清河", "长乐", "永安", "青山", "白水", "金华", "宝鸡", "兴隆",
          "安宁", "云龙", "新城", "泰和", "平远", "广安", "高平", "龙泉", "丰城", "凤阳", "德兴", "静海", "瑞金",
          "宜兴", "常宁", "瓦房", "海城")
GENERALS = ("运维检修党总支", "营销服务党总支", "机关党总支", "建设党总支", "供电服务党总支", "调控运行党总支")
BRANCHES = {
    "production": ("变电运维", "变电检修", "输电运检", "配电运检", "电力调度", "带电作业", "电缆运检"),
    "station": ("城关", "东湖", "西山", "南湖", "北关", "河口", "新桥", "石桥", "白沙", "柳林", "高庄", "龙门"),
    "management": ("机关", "综合服务", "物资供应", "信息通信", "经济技术研究所", "财务共享"),
    "business": ("营业厅", "客户服务中心", "计量中心", "电费管理", "市场营销", "综合能源服务"),
}
BRANCH_FAMILIES = ("production", "station", "management", "business")
# ~40 % production (供电所 included), 35 % management, 25 % business (DOMAIN.md).
FAMILY_WEIGHTS = (0.22, 0.18, 0.35, 0.25)
TYPE_OF_FAMILY = {"production": "production", "station": "production", "management": "management",
                  "business": "business"}

# GB 11643 check character: weights of the first 17 digits and the character for each remainder mod 11.
# Kept here so the sum can be split into precomputed parts (area, birth date, serial); checked against
# core.validators.id_check_char below.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
assert all(
    _ID_CHECK[sum(int(c) * w for c, w in zip(s, _ID_WEIGHTS, strict=True)) % 11] == id_check_char(s)
    for s in ("11010119850615001", "32010619900101123", "44030320001231998")
)

# From this many members (and more than the table holds), secondary indexes are built once after the load.
REBUILD_INDEXES_FROM = 50_000

DAY_18_YEARS = 18 * 365 + 5 + 1  # more than 18 calendar years whatever the leap days: joined ≥ 18th birthday


def plan_levels(n_orgs: int) -> list[int]:
    """How many organizations per level (root, provinces, cities, 党总支, 党支部), summing to ``n_orgs``."""
    if n_orgs < 5:
        raise CommandError("--orgs 至少为 5（根党委、省公司、地市公司、党总支、党支部各一个）。")
    rest = n_orgs - 1
    provinces = min(len(PROVINCES), max(1, round(rest / 1850)))
    cities = max(provinces, round(rest / 160))
    generals = max(cities, round(rest / 10))
    branches = rest - provinces - cities - generals
    if branches < generals:  # small sizes: at least one branch per 党总支
        generals = max(cities, (rest - provinces - cities) // 2)
        branches = rest - provinces - cities - generals
    return [1, provinces, cities, generals, branches]


class Generator:
    """Builds the rows. Deterministic for (sizes, seed, today); knows nothing about the database."""

    def __init__(self, n_orgs: int, n_members: int, seed: int = 1, today: datetime.date | None = None,
                 created_at=None):
        self.n_orgs, self.n_members, self.seed = n_orgs, n_members, seed
        self.today = today or timezone.localdate()
        self.created_at = created_at if created_at is not None else timezone.now()
        self.levels = plan_levels(n_orgs)
        self.branches: list[tuple[int, str, str]] = []  # (org id, family, path)

    # ---- organizations ---------------------------------------------------------------------------------

    def org_rows(self, id_base: int, type_ids: dict[str, int]) -> list[tuple]:
        rng = random.Random(self.seed)
        today = self.today
        rows = []
        prev: list[tuple[int, str, int]] = []  # (id, path, depth) of the level above
        next_id = id_base
        counters = {}
        for level_no, count in enumerate(self.levels):
            current = []
            for i in range(count):
                next_id += 1
                parent = prev[i * len(prev) // count] if prev else None
                path = (parent[1] if parent else "") + path_segment(next_id)
                depth = level_no
                family = None
                if level_no == 0:
                    name, code, level = "合成数据集团党委", ROOT_CODE, Level.COMMITTEE
                elif level_no == 1:
                    name, code, level = f"国网{PROVINCES[i]}电力公司党委", f"GEN-P{i + 1:03d}", Level.COMMITTEE
                elif level_no == 2:
                    city = CITIES[i % len(CITIES)] + (str(i // len(CITIES) + 1) if i >= len(CITIES) else "")
                    name, code, level = f"国网{city}供电公司党委", f"GEN-C{i + 1:05d}", Level.COMMITTEE
                elif level_no == 3:
                    name, code, level = GENERALS[i % len(GENERALS)], f"GEN-G{i + 1:06d}", Level.GENERAL_BRANCH
                else:
                    family = rng.choices(BRANCH_FAMILIES, weights=FAMILY_WEIGHTS)[0]
                    base = rng.choice(BRANCHES[family])
                    key = (parent[0], base)
                    counters[key] = counters.get(key, 0) + 1
                    n = counters[key]
                    if family == "station":
                        name = f"{base}供电所党支部" if n == 1 else f"{base}第{n}供电所党支部"
                    else:
                        name = f"{base}党支部" if n == 1 else f"{base}第{n}党支部"
                    code, level = f"GEN-B{i + 1:07d}", Level.BRANCH
                    self.branches.append((next_id, family, path))
                years = 5 if level == Level.COMMITTEE else 3
                # ~3 % of terms end within 90 days, so the warnings have something to show.
                days_left = rng.randint(1, 90) if rng.random() < 0.03 else rng.randint(91, years * 365)
                term_ends = today + datetime.timedelta(days=days_left)
                established = today - datetime.timedelta(days=rng.randint(years * 365, 30 * 365))
                rows.append((
                    next_id, name, code, level.value, type_ids[TYPE_OF_FAMILY[family]] if family else None,
                    parent[0] if parent else None, path, depth, established.isoformat(), term_ends.isoformat(),
                    "党员活动室", False, None, None, i, self.created_at,
                ))
                current.append((next_id, path, depth))
            prev = current
        return rows

    # ---- members ---------------------------------------------------------------------------------------

    def branch_sizes(self) -> list[int]:
        """Members per branch: about equal, ±40 %, summing exactly to n_members."""
        rng = random.Random(self.seed + 1)
        weights = [rng.uniform(0.6, 1.4) for _ in self.branches]
        total = sum(weights)
        sizes, acc, given = [], 0.0, 0
        for w in weights:
            acc += w
            upto = round(self.n_members * acc / total)
            sizes.append(upto - given)
            given = upto
        return sizes

    def member_chunks(self, id_base: int, *, taken: set[str] | frozenset = frozenset(), chunk_size: int = 20_000,
                      pledges: bool = False):
        """Yield (member_rows, pledge_rows, seat_rows) chunk by chunk. ID and phone numbers are sealed and the ID
        number's blind index computed here (core.crypto); ``taken`` holds blind indexes already in use."""
        rng = random.Random(self.seed + 2)
        today = self.today
        today_ord = today.toordinal()
        year = today.year
        created = self.created_at

        # Pinyin once per surname and per given name; keys of a full name are their concatenation.
        surnames = data.SURNAMES
        s_keys = [name_keys(s) for s in surnames]
        cum = []
        acc = 0.0
        for w in data.SURNAME_WEIGHTS:
            acc += w
            cum.append(acc)
        s_total = acc
        given = {g: [(n, *name_keys(n)) for n in pool]
                 for g, pool in (("M", data.MALE_GIVEN), ("F", data.FEMALE_GIVEN))}
        n_given = {g: len(pool) for g, pool in given.items()}

        # ID numbers: a counter per gender mapped one-to-one onto area × birth day × serial.
        areas = data.GEN_AREA_CODES
        first_birth = data.add_years(today, -60) + datetime.timedelta(days=1)
        last_birth = data.add_years(today, -23)
        days = last_birth.toordinal() - first_birth.toordinal() + 1
        base_ord = first_birth.toordinal()
        birth_iso = [datetime.date.fromordinal(base_ord + d).isoformat() for d in range(days)]
        birth_digits = [iso.replace("-", "") for iso in birth_iso]
        birth_sum = [sum(int(c) * w for c, w in zip(digits, _ID_WEIGHTS[6:14], strict=True))
                     for digits in birth_digits]
        area_sum = [sum(int(c) * w for c, w in zip(a, _ID_WEIGHTS[:6], strict=True)) for a in areas]
        serial_sum = [sum(int(c) * w for c, w in zip(f"{s:03d}", _ID_WEIGHTS[14:17], strict=True))
                      for s in range(1000)]
        halves = 499  # male serials 1, 3 … 997; female 2, 4 … 998 (odd = male, as on real cards)
        space = len(areas) * days * halves
        if self.n_members > space // 2:
            raise CommandError("党员人数超出可生成的身份证号范围。")
        step = 1_000_003
        while math.gcd(step, space) != 1:
            step += 2
        counters = {"M": 0, "F": 0}
        offsets = {"M": rng.randrange(space), "F": rng.randrange(space)}

        latest_full = today_ord - 400  # full members joined more than a year ago
        posts = data.POSTS
        titles = data.TITLES
        prefixes = data.PHONE_PREFIXES
        n_prefixes = len(prefixes)
        title_posts = data.TITLE_POSTS
        rand = rng.random  # int(rand() * n) is several times faster than randrange(n)
        seal, index_of = crypto.encrypter(), crypto.indexer()
        fromordinal = datetime.date.fromordinal
        bisect_right = bisect.bisect_right
        # Pledges: 256 variants per family with a placeholder for the post, filled in per member.
        pledge_pool = {f: [data.pledge_text(f, "\0", rng) for _ in range(256)] for f in data.POSTS}

        member_rows, pledge_rows, seat_rows = [], [], []
        member_id = id_base
        for (org_id, family, _path), size in zip(self.branches, self.branch_sizes(), strict=True):
            post_pool = posts[family]
            title_pool = titles[family]
            full_count = 0
            first_ids = []
            for i in range(size):
                member_id += 1
                gender = "M" if rand() < 0.72 else "F"
                s = bisect_right(cum, rand() * s_total)
                if s >= len(surnames):
                    s = len(surnames) - 1
                g_name, g_py, g_ini = given[gender][int(rand() * n_given[gender])]
                s_py, s_ini = s_keys[s]
                while True:
                    k = counters[gender]
                    counters[gender] = k + 1
                    t = (k * step + offsets[gender]) % space
                    half, rest = t % halves, t // halves
                    day, area = rest % days, rest // days
                    serial = 2 * half + (1 if gender == "M" else 2)
                    total = area_sum[area] + birth_sum[day] + serial_sum[serial]
                    idn = f"{areas[area]}{birth_digits[day]}{serial:03d}{_ID_CHECK[total % 11]}"
                    idx = index_of(idn)
                    if idx not in taken:
                        break
                birth_ord = base_ord + day
                if i >= 4 and rand() < 0.1:
                    status = "probationary"
                    joined = fromordinal(today_ord - 20 - int(rand() * 310)).isoformat()
                    confirmed = None
                else:
                    status = "full"
                    full_count += 1
                    earliest = birth_ord + DAY_18_YEARS
                    joined_ord = min(earliest + 730 + int(rand() * 3650), latest_full)
                    joined = fromordinal(max(joined_ord, earliest)).isoformat()
                    confirmed = (f"{int(joined[:4]) + 1}-02-28" if joined[5:] == "02-29"
                                 else f"{int(joined[:4]) + 1}{joined[4:]}")
                title = title_pool[i] if i < len(title_pool) else ""
                post = title_posts.get(title) or post_pool[int(rand() * len(post_pool))]
                phone = f"{prefixes[int(rand() * n_prefixes)]}{int(rand() * 100_000_000):08d}"
                member_rows.append((
                    member_id, org_id, surnames[s] + g_name, s_py + g_py, s_ini + g_ini, gender, birth_iso[day],
                    seal(idn), seal(phone), idx, joined, confirmed, status, post, title, "", None, True, created,
                ))
                if pledges:
                    pledge_rows.append((member_id, year, pledge_pool[family][int(rand() * 256)].replace("\0", post),
                                        created))
                if i < 4:
                    first_ids.append((member_id, confirmed))
                if len(member_rows) >= chunk_size:
                    yield member_rows, pledge_rows, seat_rows
                    member_rows, pledge_rows, seat_rows = [], [], []
            # 书记 for every branch with members; a committee of four where there are ≥ 7 full members.
            duties = ("secretary", "organization", "publicity", "discipline") if full_count >= 7 else ("secretary",)
            for (mid, confirmed), duty in zip(first_ids, duties, strict=False):
                seat_rows.append((org_id, mid, duty, confirmed, None))
        if member_rows or pledge_rows or seat_rows:
            yield member_rows, pledge_rows, seat_rows

    def member_rows(self, id_base: int = 0, chunk_size: int = 20_000):
        """Just the member rows, for benchmarks."""
        for members, _pledges, _seats in self.member_chunks(id_base, chunk_size=chunk_size):
            yield from members


def generated_roots():
    return Organization.objects.filter(code__startswith=CODE_PREFIX, parent__isnull=True)


def clear_generated() -> dict[str, int]:
    counts: dict[str, int] = {}
    with transaction.atomic():
        for root in generated_roots():
            for label, n in bulk.purge(Organization.objects.filter(path__startswith=root.path)).items():
                counts[label] = counts.get(label, 0) + n
    return counts


def generate(n_orgs: int, n_members: int, seed: int = 1, *, pledges: bool = False, chunk_size: int = 20_000,
             log=None) -> dict[str, float]:
    """Insert the synthetic data set; returns row counts and timings."""
    log = log or (lambda msg: None)
    started = time.perf_counter()
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    gen = Generator(n_orgs, n_members, seed, created_at=created)
    tables = [Organization, Member, CommitteeSeat, Pledge]
    stats: dict[str, float] = {}
    with transaction.atomic():
        bulk.lock(tables)
        if generated_roots().exists():
            raise CommandError("已存在生成的数据（组织编码 GEN-ROOT），请先运行 manage.py generate --clear。")
        cache_size = None
        if connection.vendor == "sqlite":
            with connection.cursor() as cur:  # a larger page cache (256 MB) keeps index inserts off the disk
                cur.execute("PRAGMA cache_size")
                cache_size = cur.fetchone()[0]
                cur.execute("PRAGMA cache_size = -262144")
        types = dict(OrgType.objects.filter(code__in=["production", "management", "business"])
                     .values_list("code", "id"))
        if len(types) < 3:
            raise CommandError("缺少组织类型（生产类、管理类、经营类），请先运行 manage.py migrate。")

        org_rows = gen.org_rows(bulk.id_base(Organization), types)
        stats["orgs"] = bulk.insert_rows(Organization._meta.db_table, bulk.columns_of(Organization, ORG_FIELDS),
                                         org_rows, chunk_size=chunk_size)
        del org_rows
        stats["orgs_s"] = time.perf_counter() - started
        log(f"党组织 {stats['orgs']:,} 个，{stats['orgs_s']:.1f} 秒")

        # ID numbers already in use, by blind index (the numbers themselves are sealed).
        taken = set(Member.objects.values_list("id_number_index", flat=True))

        member_cols = bulk.columns_of(Member, MEMBER_FIELDS)
        seat_cols = bulk.columns_of(CommitteeSeat, SEAT_FIELDS)
        pledge_cols = bulk.columns_of(Pledge, PLEDGE_FIELDS)
        stats.update(members=0, seats=0, pledges=0)
        next_report = 100_000
        # A load larger than what is there: build the secondary indexes once at the end.
        big_load = n_members >= REBUILD_INDEXES_FROM and n_members >= Member.objects.count()
        with bulk.indexes_rebuilt_after([Member, CommitteeSeat, Pledge], enabled=big_load):
            for members, pledge_rows, seats in gen.member_chunks(bulk.id_base(Member), taken=taken,
                                                                 chunk_size=chunk_size, pledges=pledges):
                stats["members"] += bulk.insert_rows(Member._meta.db_table, member_cols, members,
                                                     chunk_size=chunk_size)
                if pledge_rows:
                    stats["pledges"] += bulk.insert_rows(Pledge._meta.db_table, pledge_cols, pledge_rows,
                                                         chunk_size=chunk_size)
                if seats:
                    stats["seats"] += bulk.insert_rows(CommitteeSeat._meta.db_table, seat_cols, seats,
                                                       chunk_size=chunk_size)
                if stats["members"] >= next_report:
                    log(f"党员 {stats['members']:,} 名，{time.perf_counter() - started:.1f} 秒")
                    next_report += 100_000
            if big_load:
                log(f"重建索引……（{time.perf_counter() - started:.1f} 秒）")
        bulk.reset_sequences(tables)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                for model in tables:
                    cur.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        if cache_size is not None:
            with connection.cursor() as cur:
                cur.execute(f"PRAGMA cache_size = {int(cache_size)}")
    stats["seconds"] = time.perf_counter() - started
    stats["rows"] = stats["orgs"] + stats["members"] + stats["seats"] + stats["pledges"]
    return stats


class Command(BaseCommand):
    help = ("生成任意规模的合成数据（独立的根党委“合成数据集团党委”，组织编码以 GEN- 开头），"
            "用于性能测试；--clear 删除生成的数据。")

    def add_arguments(self, parser):
        parser.add_argument("--orgs", type=int, default=60, help="党组织总数（默认 60）")
        parser.add_argument("--members", type=int, default=1000, help="党员总数（默认 1000）")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
        parser.add_argument("--pledges", action="store_true", help="同时为每名党员生成本年度承诺")
        parser.add_argument("--chunk", type=int, default=20_000, help="每批写入的行数（默认 20000）")
        parser.add_argument("--clear", action="store_true", help="删除生成的数据（先党员、后组织）")

    def handle(self, *args, orgs=60, members=1000, seed=1, pledges=False, chunk=20_000, clear=False, **options):
        verbose = options.get("verbosity", 1) >= 1
        if clear:
            started = time.perf_counter()
            counts = clear_generated()
            if not counts:
                self.stdout.write("没有生成的数据，无需删除。")
                return
            seconds = time.perf_counter() - started
            total = sum(counts.values())
            detail = "，".join(f"{label} {n:,} 行" for label, n in sorted(counts.items()) if n)
            self.stdout.write(self.style.SUCCESS(
                f"已删除生成的数据：{detail}；共 {total:,} 行，用时 {seconds:.1f} 秒（{total / max(seconds, 1e-9):,.0f} 行/秒）。"))
            return
        if members < 0:
            raise CommandError("--members 不能为负数。")
        if chunk < 100:
            raise CommandError("--chunk 至少为 100。")
        stats = generate(orgs, members, seed, pledges=pledges, chunk_size=chunk,
                         log=(lambda msg: self.stdout.write(msg)) if verbose else None)
        seconds = stats["seconds"]
        self.stdout.write(self.style.SUCCESS(
            f"已生成：党组织 {stats['orgs']:,} 个，党员 {stats['members']:,} 名，支委职务 {stats['seats']:,} 个"
            + (f"，承诺 {stats['pledges']:,} 条" if stats["pledges"] else "")
            + f"；共 {stats['rows']:,} 行，用时 {seconds:.1f} 秒，{stats['rows'] / max(seconds, 1e-9):,.0f} 行/秒"
            f"（党员 {stats['members'] / max(seconds, 1e-9):,.0f} 名/秒）。"))
