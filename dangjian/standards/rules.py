"""The field rules of standard sets, categories and items, shared by the services, the forms, the API and the
Excel import: each raises DomainError with a Chinese sentence naming the field."""

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from dangjian.core.errors import DomainError
from dangjian.orgs.models import OrgType
from dangjian.standards.models import LEVEL_ORDER, METHOD_ORDER, AutoSource, Item, StandardSet

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
MAX_POINTS = Decimal("999.9")
MAX_WEIGHT = Decimal("10")


def clean_text(value, field: str, label: str, max_length: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("请填写{label}。").format(label=label), field)
    if len(text) > max_length:
        raise DomainError(_("{label}不能超过{n}个字（现有{m}个字）。").format(label=label, n=max_length, m=len(text)),
                          field)
    return text


def clean_code(value, field: str, label: str, max_length: int) -> str:
    code = clean_text(value, field, label, max_length)
    if not CODE_RE.match(code):
        raise DomainError(_("{label}只能由字母、数字、短横线、下划线或点组成，如 ZZ-01。").format(label=label), field)
    return code


def clean_points(value) -> Decimal:
    try:
        points = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        points = None
    if points is None or not points.is_finite() or points <= 0 or points > MAX_POINTS \
            or points != points.quantize(Decimal("0.1")):
        raise DomainError(_("分值应为大于0、不超过999.9的数，最多一位小数，如 5 或 2.5。"), "max_points")
    return points.quantize(Decimal("0.1"))


def clean_methods(values) -> list[str]:
    values = set(values or [])
    unknown = values - set(METHOD_ORDER)
    if unknown:
        raise DomainError(_("未知的考评方式：{codes}。").format(codes="、".join(sorted(unknown))), "methods")
    if not values:
        raise DomainError(_("请至少选择一种考评方式（信息资料报送、自我评价、现场考评）。"), "methods")
    return [m for m in METHOD_ORDER if m in values]


def clean_levels(values) -> list[str]:
    values = set(values or [])
    unknown = values - set(LEVEL_ORDER)
    if unknown:
        raise DomainError(_("未知的层级：{codes}。").format(codes="、".join(sorted(unknown))), "applies_levels")
    if values == set(LEVEL_ORDER):
        return []  # every level: the same as no restriction
    return [v for v in LEVEL_ORDER if v in values]


def clean_weight(value) -> Decimal:
    try:
        weight = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        weight = None
    if weight is None or not weight.is_finite() or weight <= 0 or weight > MAX_WEIGHT \
            or weight != weight.quantize(Decimal("0.01")):
        raise DomainError(_("权重应为大于0、不超过10的数，最多两位小数，如 1.2。"), "weights")
    return weight


def clean_weights(weights: dict, types: list[OrgType], all_types: dict[str, OrgType]) -> dict[str, str]:
    """{type code: weight} -> {type code: "1.2"}; weights of 1 are dropped (1 is the default)."""
    out = {}
    allowed = {t.code for t in types}
    for code, value in (weights or {}).items():
        if code not in all_types:
            raise DomainError(_("权重中的组织类型编码“{code}”不存在。").format(code=code), "weights")
        if allowed and code not in allowed:
            raise DomainError(_("“{name}”不在本项的适用类型内，不能为它设置权重。").format(
                name=all_types[code].display_name), "weights")
        if value is None or value == "":
            continue
        weight = clean_weight(value)
        if weight != 1:
            out[code] = format(weight.normalize(), "f")
    return dict(sorted(out.items()))


def clean_item(standard_set: StandardSet, data: dict, *, item: Item | None = None) -> dict:
    """The rules of an item, for every entry point. ``data`` holds the fields to set; missing ones keep the
    item's values (or the defaults for a new item). Returns the cleaned fields, ``applies_types`` as a list."""
    out = {}
    if "category" in data or item is None:
        category = data.get("category")
        if category is None or category.standard_set_id != standard_set.pk:
            raise DomainError(_("请选择本标准中的考评类别。"), "category")
        out["category"] = category
    if "code" in data or item is None:
        code = clean_code(data.get("code"), "code", _("细则编码"), 20)
        clash = Item.objects.filter(standard_set=standard_set, code=code)
        if item is not None:
            clash = clash.exclude(pk=item.pk)
        if clash.exists():
            raise DomainError(_("细则编码“{code}”在本标准中已被使用，请换一个。").format(code=code), "code")
        out["code"] = code
    if "text" in data or item is None:
        out["text"] = clean_text(data.get("text"), "text", _("考评内容"), 1000)
    if "max_points" in data or item is None:
        out["max_points"] = clean_points(data.get("max_points"))
    if "rule" in data or item is None:
        out["rule"] = clean_text(data.get("rule"), "rule", _("扣分标准"), 1000)
    if "evidence" in data or item is None:
        out["evidence"] = clean_text(data.get("evidence"), "evidence", _("要求报送的资料"), 1000, required=False)
    if "methods" in data or item is None:
        out["methods"] = clean_methods(data.get("methods"))
    if "applies_levels" in data or item is None:
        out["applies_levels"] = clean_levels(data.get("applies_levels"))
    types = None
    if "applies_types" in data or item is None:
        types = sorted(set(data.get("applies_types") or []), key=lambda t: (t.order, t.pk))
        out["applies_types"] = types
    if "weights" in data or "applies_types" in data or item is None:
        if types is None:
            types = list(item.applies_types.all())
        weights = data["weights"] if "weights" in data else (item.weights if item is not None else {})
        if "weights" not in data and types:
            # Types changed and weights were not sent: keep only the weights of types still applying.
            codes = {t.code for t in types}
            weights = {k: v for k, v in weights.items() if k in codes}
        out["weights"] = clean_weights(weights, types, {t.code: t for t in OrgType.objects.all()})
    if "is_veto" in data or item is None:
        out["is_veto"] = bool(data.get("is_veto"))
    if any(k in data for k in AUTO_FIELDS) or item is None:
        out.update(clean_auto({k: data[k] if k in data else (getattr(item, k) if item is not None else None)
                               for k in AUTO_FIELDS}))
    return out


AUTO_FIELDS = ("auto_source", "auto_full_at", "auto_zero_at", "auto_min_sample")
MAX_SAMPLE = 10000


def _figure(value, field: str, label: str) -> Decimal:
    try:
        figure = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        figure = None
    if figure is None or not figure.is_finite() or figure < 0 or figure > 100 \
            or figure != figure.quantize(Decimal("0.1")):
        raise DomainError(_("{label}应为0至100之间的数，最多一位小数，如 95 或 92.5。").format(label=label), field)
    return figure.quantize(Decimal("0.1"))


def clean_auto(data: dict) -> dict:
    """服务数据计分: a source, and when there is one the full-marks line above the zero line (both 0–100) and a
    minimum sample; without a source the lines are cleared."""
    source = (data.get("auto_source") or "").strip()
    if source not in AutoSource.values:
        raise DomainError(_("服务数据计分的来源“{value}”不正确。").format(value=source), "auto_source")
    if not source:
        return {"auto_source": "", "auto_full_at": None, "auto_zero_at": None, "auto_min_sample": 1}
    if data.get("auto_full_at") in (None, ""):
        raise DomainError(_("按服务数据计分时请填写满分线（达到该值得满分）。"), "auto_full_at")
    if data.get("auto_zero_at") in (None, ""):
        raise DomainError(_("按服务数据计分时请填写零分线（不高于该值得0分）。"), "auto_zero_at")
    full = _figure(data["auto_full_at"], "auto_full_at", _("满分线"))
    zero = _figure(data["auto_zero_at"], "auto_zero_at", _("零分线"))
    if zero >= full:
        raise DomainError(_("零分线应低于满分线，如满分线 95、零分线 60。"), "auto_zero_at")
    sample = data.get("auto_min_sample")
    try:
        sample = 1 if sample in (None, "") else int(str(sample).strip())
    except ValueError:
        sample = -1
    if not 1 <= sample <= MAX_SAMPLE:
        raise DomainError(_("最少样本数应为1至{n}之间的整数。").format(n=MAX_SAMPLE), "auto_min_sample")
    return {"auto_source": source, "auto_full_at": full, "auto_zero_at": zero, "auto_min_sample": sample}
