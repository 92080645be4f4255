"""The default member standard set shipped with the platform (党员量化评价标准), loaded by
``member_services.load_default_member_set`` and ``manage.py load_member_standards``. Written for this platform
after the shapes seen in practice (DOMAIN.md); the committee adapts it before publishing.

Scheme "基础分80 + 奖励分（封顶20）− 减项分": ten base items worth 80 points in all; bonus items per occurrence,
each with a month and a year cap, at most 20 a month in total and a cap per dimension; deductions per occurrence,
at most 40 a month; five veto items (一票否决) that make the month unqualified. Floor 0, pass mark 60, the branch's
determination counts 100 %, rankings are not shown on the wall.

Items name an activity ``source`` where the platform keeps the record (attendance, study records, dues, lectures,
service hours), so the month's count is filled in from it. Base items lose ``per_miss`` points per miss, or
the whole item at the first miss when it is empty.
"""

NAME = "{year}年度党员量化评价标准"
NOTE = (
    "平台默认标准，按“基础分80分＋奖励分（每月最多20分）－减项分”计分：基础分对应做合格党员的基本要求，"
    "未做到的按项扣减；奖励分按次计分，各项设每月、全年上限，各维度另设每月上限；减项分按次扣减，每月最多扣40分；"
    "触发一票否决项的，当月评价为不合格、得分计0。月度得分不低于0分，60分以上为合格。"
    "组织生活、学习、党费、党课和志愿服务时长由活动记录自动带入。请结合本单位实际修改后发布。"
)

SETTINGS = {
    "bonus_cap": "20",
    "deduction_cap": "40",
    "floor": "0",
    "pass_mark": "60",
    "dimension_caps": {"politics": "6", "rules": "4", "morals": "4", "dedication": "10", "central": "10"},
    "veto_effect": "month",
    "weight_self": "0",
    "weight_branch": "100",
    "public_ranking": False,
}


def _item(part, code, dimension, points, text, rule="", *, per_miss=None, month_cap=None, year_cap=None,
          source="", evidence=False):
    return {"part": part, "code": code, "dimension": dimension, "points": points, "text": text, "rule": rule,
            "per_miss": per_miss, "month_cap": month_cap, "year_cap": year_cap, "source": source,
            "evidence_required": evidence}


def _base(code, dimension, points, text, rule, **kw):
    return _item("base", code, dimension, points, text, rule, **kw)


def _bonus(code, dimension, points, text, rule, **kw):
    return _item("bonus", code, dimension, points, text, rule, **kw)


def _deduction(code, dimension, points, text, rule, **kw):
    return _item("deduction", code, dimension, points, text, rule, **kw)


def _veto(code, dimension, text, rule):
    return _item("veto", code, dimension, "0", text, rule)


ITEMS = (
    # ---- 基础分 做合格党员 (80) -------------------------------------------------------------------------
    _base("JC-01", "politics", "8",
          "坚定理想信念，对党忠诚老实，在思想上政治上行动上同党中央保持高度一致。",
          "有违背党的理论和路线方针政策的言行、经支部指出的，本项不得分。"),
    _base("JC-02", "politics", "12",
          "按时参加支部党员大会、党小组会、党课和主题党日等组织生活，不无故缺席。",
          "无故缺席组织生活的，每次扣2分，扣完为止；因公、因病请假的不扣分。",
          per_miss="2", source="meeting_absent"),
    _base("JC-03", "politics", "8",
          "每月参加集中学习或自学党的创新理论，认真记录学习内容和心得体会。",
          "当月没有学习记录的，本项不得分。", source="study"),
    _base("JC-04", "rules", "8",
          "按月足额交纳党费，不拖欠、不少交。",
          "当月未按时交纳党费的，本项不得分。", source="dues_missing"),
    _base("JC-05", "rules", "8",
          "严守政治纪律和政治规矩，遵守国家法律法规和公司规章制度，如实向组织报告个人有关事项。",
          "有违反纪律或规章制度行为、经支部认定的，每次扣4分，扣完为止。", per_miss="4"),
    _base("JC-06", "morals", "6",
          "践行社会主义核心价值观，遵守社会公德、职业道德和家庭美德，廉洁自律、作风正派。",
          "有违反公德或廉洁要求的不良言行、经支部认定的，每次扣3分，扣完为止。", per_miss="3"),
    _base("JC-07", "morals", "4",
          "团结同志、密切联系群众，主动了解和反映职工群众的意见建议。",
          "不团结同志、造成不良影响的，本项不得分。"),
    _base("JC-08", "dedication", "12",
          "履行岗位职责，按时保质完成本职工作和上级交办的任务。",
          "工作任务未按时完成或质量不达标、经支部认定的，每次扣4分，扣完为止。", per_miss="4"),
    _base("JC-09", "dedication", "6",
          "结合岗位作出公开承诺，承诺事项按计划推进并接受群众监督。",
          "承诺事项当月无进展或群众反映属实的，每次扣3分，扣完为止。", per_miss="3"),
    _base("JC-10", "central", "8",
          "完成公司和本单位年度重点工作中分解到本人的任务，严格执行安全生产规程。",
          "分解任务未完成的，每项扣4分，扣完为止。", per_miss="4"),

    # ---- 奖励分 发挥模范带头作用 (per occurrence) ------------------------------------------------------
    _bonus("JL-01", "politics", "3",
           "为党员群众讲党课、微党课，或在主题党日中作专题辅导。",
           "每讲1次加3分，每月最多加3分，全年最多加9分。",
           month_cap="3", year_cap="9", source="lecture_given", evidence=True),
    _bonus("JL-02", "politics", "2",
           "撰写的学习体会、理论文章或党建经验材料被上级党组织或媒体采用。",
           "每篇加2分，每月最多加4分，全年最多加8分。", month_cap="4", year_cap="8", evidence=True),
    _bonus("JL-03", "politics", "2",
           "在上级党组织举办的党建知识竞赛、理论测试中获奖或成绩优秀。",
           "每次加2分，全年最多加4分。", year_cap="4", evidence=True),
    _bonus("JL-04", "dedication", "0.5",
           "参加党员服务队、社区和乡村志愿服务等公益活动。",
           "每服务1小时加0.5分，每月最多加3分，全年最多加15分。",
           month_cap="3", year_cap="15", source="service_hours"),
    _bonus("JL-05", "central", "2",
           "在抢修保电、迎峰度夏（度冬）、防汛抗灾、重大活动保电等急难险重任务中冲在前、表现突出。",
           "每次加2分，每月最多加6分，全年最多加20分。", month_cap="6", year_cap="20", evidence=True),
    _bonus("JL-06", "central", "3",
           "技术创新、QC小组、管理创新成果获奖，或在本单位推广应用。",
           "每项加3分，每月最多加6分，全年最多加12分。", month_cap="6", year_cap="12", evidence=True),
    _bonus("JL-07", "central", "2",
           "党员示范岗、责任区或示范线路当月目标全部达成（零跳闸、零违章、零投诉）。",
           "当月达成的加2分，全年最多加24分。", month_cap="2", year_cap="24"),
    _bonus("JL-08", "rules", "2",
           "主动发现并制止违章作业，或及时发现、消除重大安全隐患。",
           "每次加2分，每月最多加4分，全年最多加12分。", month_cap="4", year_cap="12", evidence=True),
    _bonus("JL-09", "morals", "1",
           "收到服务对象的表扬信、锦旗或感谢电话，或有好人好事经核实。",
           "每次加1分，被媒体报道的按2次计，每月最多加3分，全年最多加10分。",
           month_cap="3", year_cap="10", evidence=True),
    _bonus("JL-10", "morals", "2",
           "见义勇为、无偿献血、捐资助学等善行义举。",
           "每次加2分，全年最多加6分。", year_cap="6", evidence=True),
    _bonus("JL-11", "dedication", "1",
           "结对帮扶困难群众，或师带徒、传授技能并取得成效。",
           "每次加1分，每月最多加2分，全年最多加12分。", month_cap="2", year_cap="12"),
    _bonus("JL-12", "dedication", "10",
           "获得国家级表彰或荣誉称号。",
           "每项加10分，全年最多加10分。", year_cap="10", evidence=True),
    _bonus("JL-13", "dedication", "6",
           "获得省部级表彰或荣誉称号（含国家电网公司级）。",
           "每项加6分，全年最多加12分。", year_cap="12", evidence=True),
    _bonus("JL-14", "dedication", "4",
           "获得地市级表彰或荣誉称号（含省公司级）。",
           "每项加4分，全年最多加12分。", year_cap="12", evidence=True),
    _bonus("JL-15", "dedication", "2",
           "获得县级或本单位表彰、荣誉称号。",
           "每项加2分，全年最多加8分。", year_cap="8", evidence=True),

    # ---- 减项分 考核项 (per occurrence) ---------------------------------------------------------------
    _deduction("KF-01", "rules", "1",
               "参加组织生活迟到、早退，或会上不遵守会议纪律。",
               "每次扣1分，每月最多扣3分。", month_cap="3"),
    _deduction("KF-02", "rules", "2",
               "经支部提醒后，仍逾期一个月以上未交纳党费。",
               "每次扣2分。"),
    _deduction("KF-03", "central", "3",
               "违反安全工作规程，发生一般违章行为。",
               "每次扣3分。"),
    _deduction("KF-04", "central", "5",
               "违反安全工作规程，发生严重违章行为。",
               "每次扣5分。"),
    _deduction("KF-05", "morals", "4",
               "因本人责任引发95598等客户有责投诉，经核实属实。",
               "每件扣4分。"),
    _deduction("KF-06", "dedication", "10",
               "无正当理由拒绝、推诿支部安排的工作任务。",
               "每次扣10分。"),
    _deduction("KF-07", "rules", "10",
               "违反中央八项规定精神，经查证属实。",
               "每次扣10分。"),
    _deduction("KF-08", "dedication", "3",
               "未作出承诺，或承诺事项无正当理由未兑现。",
               "每次扣3分，全年最多扣9分。", year_cap="9"),
    _deduction("KF-09", "politics", "5",
               "在网络或公开场合发表不当言论、传播不良信息，造成不良影响。",
               "每次扣5分。"),
    _deduction("KF-10", "rules", "5",
               "受到诫勉谈话、通报批评等组织处理，或受到单位书面警告。",
               "每次扣5分。"),
    _deduction("KF-11", "dedication", "5",
               "工作失职失责，造成不良影响或经济损失。",
               "每次扣5分。"),
    _deduction("KF-12", "morals", "3",
               "违反社会公德、家庭美德，造成不良影响。",
               "每次扣3分。"),

    # ---- 一票否决 ----------------------------------------------------------------------------------------
    _veto("FJ-01", "rules", "受到党纪处分。", "处分决定作出当月评价为不合格。"),
    _veto("FJ-02", "rules", "因违法犯罪受到刑事处罚或治安管理处罚。", "处罚决定作出当月评价为不合格。"),
    _veto("FJ-03", "central", "对人身、电网、设备安全事故负有责任。", "责任认定当月评价为不合格。"),
    _veto("FJ-04", "politics", "参加非法组织、邪教组织或其活动。", "查实当月评价为不合格。"),
    _veto("FJ-05", "politics", "公开发表违背党的理论和路线方针政策的言论，造成恶劣影响。",
          "查实当月评价为不合格。"),
)
