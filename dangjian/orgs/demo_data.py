"""Pools for realistic demo and generated data: names, posts, titles, pledges, area codes.

Everything here is plain data plus a few pure functions driven by a ``random.Random`` passed in, so the demo
company and the synthetic generator are deterministic for a given seed.

Surnames with a different reading as a surname (曾 zeng, 单 shan, 解 xie, 查 zha, 仇 qiu ...) are left out on
purpose: pinyin keys are computed per character, and a surname's isolated reading must match the reading of the
whole name, so that the generator can concatenate precomputed keys.
"""

import datetime
import random

from dangjian.core.validators import id_check_char

# The ~120 most common surnames, most frequent first; weights follow their rough share of the population.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕季裴"
)
SURNAME_WEIGHTS = tuple(max(1.0, 7.5 - i * 0.12) for i in range(len(SURNAMES)))

MALE_GIVEN = (
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宁 健 亮 浩 凯 峰 林 东 龙 宇 帅 俊 "
    "建国 建华 建军 志强 志刚 志勇 海涛 海波 国强 国庆 国栋 文博 文涛 文杰 晓东 晓明 晓峰 振华 振宇 宏伟 "
    "俊杰 子豪 浩然 宇航 天宇 博文 思远 明辉 立军 立新 卫东 永刚 永强 德明 德华 春雷 春生 红军 向阳 "
    "家豪 嘉诚 鹏飞 云飞 一鸣 少华 少军 学文 学军 光明 松林 泽宇 子轩 昊天 铭轩 皓轩 梓豪 承志 "
    "锦程 旭东 旭辉 新民 新华 金龙 玉龙 继伟 继东 忠诚 保国 德胜 雨辰 奕辰 晨阳 怀远 中华 宏亮"
).split()
FEMALE_GIVEN = (
    "芳 娜 敏 静 丽 艳 娟 霞 燕 玲 婷 颖 雪 琳 洁 慧 倩 萍 红 梅 蕾 璐 瑶 欣 悦 薇 菲 岚 莉 楠 "
    "秀英 秀兰 桂英 玉兰 丽娟 丽华 晓燕 晓红 晓丽 小红 海燕 春梅 冬梅 雪梅 美玲 美华 文静 雅琴 "
    "雅婷 雨欣 欣怡 梓涵 诗涵 思琪 佳怡 佳琪 子涵 梦瑶 一诺 雨彤 心怡 可馨 语桐 紫涵 婉婷 丹丹 "
    "亚楠 晶晶 琳琳 莉莉 婷婷 倩倩 雪莹 慧敏 淑华 淑珍 凤英 翠花 金凤 爱华 红梅 秋菊 玉梅 彩霞 "
    "艳红 海霞 晓雯 晓璐 丽萍 丽君 静怡 嘉欣 慧琳 雨婷 思雨 梦婷 佳慧 书瑶 安琪 筱雨"
).split()

# 6-digit administrative codes (城区/县). Demo and generator use disjoint sets, so their ID numbers never clash.
DEMO_AREA_CODES = ("320102", "320104", "320105", "320106", "320111", "320115", "320116", "321181")
GEN_AREA_CODES = (
    "110101", "110105", "110108", "120101", "130102", "140105", "150102", "210102", "220102", "230102",
    "310101", "310104", "330102", "330106", "340102", "350102", "360102", "370102", "410102", "420102",
    "430102", "440103", "450102", "460105", "500101", "510104", "520102", "530102", "610102", "620102",
)
PHONE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "183", "185", "186", "187",
    "188", "189", "191", "198", "199",
)

# ---- posts and titles by branch type ------------------------------------------------------------------

POSTS = {
    "production": (
        "变电运维工", "变电运维工", "变电检修工", "配电线路工", "配电线路工", "输电线路工", "继电保护工",
        "电力调度员", "配网抢修工", "配网抢修工", "电缆运检工", "带电作业工", "安全员", "技术员",
        "设备状态评价专责", "高压试验工",
    ),
    "station": (  # 供电所 branches are production branches with front-line service posts
        "台区经理", "台区经理", "台区经理", "配电线路工", "配网抢修工", "农网配电营业工", "农网配电营业工",
        "装表接电工", "用电检查员", "安全员", "综合柜员", "网格化服务专责",
    ),
    "management": (
        "党建专责", "党建专责", "财务专责", "人力资源专责", "综合管理专责", "安全监察专责", "办公室秘书",
        "纪检监察专责", "工会专责", "计划专责", "审计专责", "法律事务专责", "宣传专责", "档案管理员",
        "物资管理专责", "信息运维专责",
    ),
    "business": (
        "客户经理", "客户经理", "营业厅值班长", "营业员", "营业员", "电费核算员", "抄表催费员",
        "95598工单处理员", "市场拓展专责", "计量专责", "电能表校验工", "客户服务专员", "用电检查员",
        "综合能源服务专责",
    ),
}

# (title, how many per branch at most) — the first members of a branch get them.
TITLES = {
    "production": ("班长", "副班长", "班长", "技术员"),
    "station": ("所长", "副所长", "营销班班长", "运检班班长"),
    "management": ("主任", "副主任", "副主任"),
    "business": ("主任", "营业厅值班长", "班长"),
}

# Posts that go with a title (a 所长's post is running the station, not reading meters).
TITLE_POSTS = {
    "所长": "供电所所长", "副所长": "供电所副所长", "主任": "部门主任", "副主任": "部门副主任",
    "营业厅值班长": "营业厅值班长", "营销班班长": "农网配电营业工", "运检班班长": "配电线路工", "技术员": "技术员",
    "党委书记": "党委书记", "党总支书记": "党总支书记",
}

# ---- pledges ------------------------------------------------------------------------------------------

# Openers by post family; "{post}" is filled with the member's post.
_OPENERS = (
    "立足{post}岗位，", "作为一名{post}，我承诺", "我是{post}，本年度", "在{post}岗位上，我将",
    "扎根{post}岗位，", "牢记党员身份，立足{post}岗位，",
)

_TARGETS = {
    "production": (
        "确保故障抢修到达现场不超过{n45}分钟",
        "全年所辖设备零非计划停运",
        "严格执行“两票三制”，全年无违章作业",
        "带头开展隐患排查，每月至少发现并消除{n3}处设备缺陷",
        "巡视到位率100%，巡视记录真实完整",
        "全年保电任务零差错",
        "牵头完成{n2}项技术革新或合理化建议",
        "带好{n2}名新员工，做到师带徒有计划、有记录",
        "确保所辖线路跳闸率同比下降{n10}%",
        "抢修保电冲在前，随叫随到",
    ),
    "station": (
        "确保故障抢修到达现场城区不超过45分钟、农村不超过90分钟",
        "所辖台区线损率控制在{n5}%以内",
        "每月走访所辖台区困难群众和重要客户至少{n3}户",
        "居民报装接电不超过5个工作日",
        "全年辖区内无责任投诉",
        "计划停电提前7天告知到户",
        "网格内客户诉求当日响应、限时办结",
        "带头开展“红色电管家”志愿服务不少于{n4}次",
        "台区供电可靠率不低于99.8%",
    ),
    "management": (
        "文件办理不过夜，急事急办、特事特办",
        "全年党费收缴、统计报表零差错",
        "每季度深入基层班组调研不少于{n2}次，帮助解决实际问题",
        "按时完成“三会一课”台账整理，资料规范完整",
        "严守财经纪律，全年报销审核零差错",
        "带头讲一次微党课",
        "坚持每月自学不少于{n4}篇理论文章并撰写心得",
        "服务基层“最多跑一次”",
        "严格执行中央八项规定精神，廉洁自律",
        "全年完成{n2}项管理制度的修订完善",
    ),
    "business": (
        "全年无责任投诉",
        "客户满意度不低于{n95}%",
        "营业厅业务办理等候时间不超过{n10}分钟",
        "电费回收率100%，电费差错为零",
        "95598工单当日回访、按时办结，回访满意率100%",
        "主动上门服务重要客户每月不少于{n4}户",
        "居民报装接电不超过5个工作日",
        "微笑服务、首问负责，一次性告知办理材料",
        "全年推广线上办电{n100}户以上",
        "计量装置检定结果5个工作日内告知客户",
    ),
}

_CLOSERS = (
    "。", "，做到干在实处、走在前列。", "，争当党员先锋岗。", "，以实际行动践行“人民电业为人民”。",
    "，自觉接受党员群众监督。", "，在班组中发挥先锋模范作用。", "，为“让人民生活更美好”贡献力量。",
)


def _fill(template: str, rng: random.Random) -> str:
    numbers = {
        "n45": rng.choice((30, 35, 40, 45)), "n3": rng.choice((2, 3, 4, 5)), "n2": rng.choice((1, 2, 3)),
        "n10": rng.choice((5, 8, 10, 15)), "n5": rng.choice((4, 5, 6)), "n4": rng.choice((4, 6, 8, 10, 12)),
        "n95": rng.choice((95, 96, 98, 99)), "n100": rng.choice((100, 150, 200, 300)),
    }
    return template.format(**numbers)


def pledge_text(family: str, post: str, rng: random.Random) -> str:
    """A first-person pledge for a member of ``family`` (production/station/management/business)."""
    targets = rng.sample(_TARGETS[family], 2)
    opener = rng.choice(_OPENERS).format(post=post)
    body = "，".join(_fill(t, rng) for t in targets)
    closer = rng.choice(_CLOSERS)
    return opener + body + closer


# ---- people -------------------------------------------------------------------------------------------


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def id_number(area: str, birth: datetime.date, serial: int) -> str:
    """A valid 18-digit 身份证号; ``serial`` is 0–999 and its last digit's parity is the gender (odd = male)."""
    first17 = f"{area}{birth:%Y%m%d}{serial:03d}"
    return first17 + id_check_char(first17)


def serial_for(gender: str, rng: random.Random) -> int:
    serial = rng.randrange(1, 1000)
    odd = serial % 2 == 1
    if (gender == "M") != odd:
        serial = serial - 1 if serial % 10 else serial + 1
    return serial


def person(rng: random.Random, today: datetime.date, *, min_age=23, max_age=60, probationary=False,
           area_codes=DEMO_AREA_CODES, taken=None) -> dict:
    """A realistic member: name, gender, birth date, ID number, phone, joined/confirmed dates, status.

    ``taken`` is a set of ID numbers already used; the new one is added to it."""
    gender = "M" if rng.random() < 0.72 else "F"  # power-industry staff are mostly men
    surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    given = rng.choice(MALE_GIVEN if gender == "M" else FEMALE_GIVEN)
    age = rng.randint(min_age, max_age)
    birth = add_years(today, -age) - datetime.timedelta(days=rng.randrange(0, 360))
    while True:
        idn = id_number(rng.choice(area_codes), birth, serial_for(gender, rng))
        if taken is None or idn not in taken:
            break
    if taken is not None:
        taken.add(idn)
    phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(0, 10**8):08d}"
    earliest = add_years(birth, 18)
    if probationary:
        # Admitted within the last year: still in the one-year probation.
        joined = today - datetime.timedelta(days=rng.randrange(20, 330))
        confirmed = None
    else:
        latest = today - datetime.timedelta(days=400)
        start = add_years(birth, rng.randint(20, 30))  # most join in their twenties
        start = min(max(start, earliest), latest)
        joined = start + datetime.timedelta(days=rng.randrange(0, max(1, min(900, (latest - start).days))))
        joined = min(joined, latest)
        confirmed = add_years(joined, 1)
    return {
        "name": surname + given, "surname": surname, "given": given, "gender": gender, "birth_date": birth,
        "id_number": idn, "phone": phone, "joined_on": joined, "confirmed_on": confirmed,
        "status": "probationary" if probationary else "full",
    }
