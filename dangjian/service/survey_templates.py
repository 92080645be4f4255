"""The questionnaires shipped with the platform, in Chinese: a government satisfaction survey (政府满意度调查) and a
customer satisfaction survey (客户满意度调查). A survey created from one copies its questions (the survey can then be
edited while it is a draft); each scale question names the ``topic`` (关注方面) it measures, so the results and the
decision-support charts can say which driver is weak. The customer questions follow the drivers that matter most
in practice: voltage quality, billing accuracy, continuity of supply and repair, business handling, attitude,
complaint waiting time."""

from decimal import Decimal

from django.utils.translation import gettext_noop

from dangjian.service.models import QKind, SurveyKind

# key -> {title, kind, intro, threshold, questions: [(kind, text, required, options, topic)]}
TEMPLATES: dict[str, dict] = {
    "government": {
        "name": gettext_noop("政府满意度调查"),
        "title": "政府满意度调查问卷",
        "kind": SurveyKind.GOVERNMENT,
        "threshold": Decimal("85.0"),
        "intro": ("尊敬的领导：为深入了解地方政府及有关部门对我公司服务地方经济社会发展的评价，持续改进供电服务，"
                  "特开展本次满意度调查。问卷匿名填写，约需3分钟，感谢您的支持！"),
        "questions": [
            (QKind.SCALE, "公司服务地方经济社会发展、落实地方政府重大决策部署的情况", True, [], "服务地方发展"),
            (QKind.SCALE, "重大活动、重要节日和迎峰度夏（冬）期间的电力保障工作", True, [], "电力保障"),
            (QKind.SCALE, "优化电力营商环境、压减“获得电力”办电时间和成本的成效", True, [], "营商环境"),
            (QKind.SCALE, "重点项目、招商引资项目的配套电网建设进度", True, [], "电网建设"),
            (QKind.SCALE, "与地方政府及部门的沟通协调、信息报送的及时性", True, [], "沟通协调"),
            (QKind.SCALE, "应急抢修、防汛抗灾等突发事件的响应和处置", True, [], "应急处置"),
            (QKind.SCALE, "乡村振兴、光伏扶贫、便民服务等社会责任履行情况", True, [], "社会责任"),
            (QKind.MULTI, "您认为公司今后最需要加强的方面（可多选）", False,
             ["电网规划与建设", "供电可靠性", "办电效率", "电价政策落实", "信息沟通", "应急保障"], ""),
            (QKind.TEXT, "您对公司服务地方发展的意见和建议", False, [], ""),
        ],
    },
    "customer": {
        "name": gettext_noop("客户满意度调查"),
        "title": "供电服务客户满意度调查问卷",
        "kind": SurveyKind.CUSTOMER,
        "threshold": Decimal("80.0"),
        "intro": ("尊敬的客户：感谢您使用国家电网供电服务。为了解您对我们服务的评价，请花1–2分钟填写本问卷。"
                  "问卷匿名，不收集您的个人信息。如有紧急用电问题，请拨打95598。"),
        "questions": [
            (QKind.SCALE, "您对家中（单位）供电质量、电压稳定情况的评价", True, [], "供电质量"),
            (QKind.SCALE, "您对电费计量和电费电价准确、清楚的评价", True, [], "电费电价"),
            (QKind.SCALE, "您对停电通知提前告知、故障抢修到达和复电速度的评价", True, [], "停电及抢修"),
            (QKind.SCALE, "您对业务办理（新装、增容、过户等）便捷程度的评价", True, [], "业务办理"),
            (QKind.SCALE, "您对供电所工作人员服务态度的评价", True, [], "服务态度"),
            (QKind.SCALE, "您对投诉、意见处理及时性和等待时间的评价", True, [], "投诉处理"),
            (QKind.CHOICE, "您最近一次与我们联系的方式", False,
             ["95598热线", "网上国网App", "营业厅", "供电所上门服务", "网格经理", "其他"], ""),
            (QKind.TEXT, "您对我们的供电服务还有哪些意见或建议？", False, [], ""),
        ],
    },
}


def template_choices() -> list[tuple[str, str]]:
    return [(key, t["name"]) for key, t in TEMPLATES.items()]
