"""The member scoring rules, in Python: one line's points, and a month's totals.

``line_points`` is applied whenever a count is saved (the item's month and year caps need the member's earlier
months, which a single line knows). ``month_totals`` is the reference for what the set-based close computes in
SQL (appraisal.close): the parts, the dimension and part caps, the floor, the rater weights and the veto. Both
work in integer tenths with the same rounding as the SQL, so the page, the close and the tests agree to the
last digit.
"""

from dataclasses import dataclass
from decimal import Decimal

from dangjian.standards.models import MemberItem, MemberPart, MemberStandardSet, VetoEffect

ZERO = Decimal("0")
TENTH = Decimal("0.1")


def tenths(value) -> int:
    return int((Decimal(value or 0) * 10).to_integral_value())


def from_tenths(value: int) -> Decimal:
    return (Decimal(value) / 10).quantize(TENTH)


def line_points(item: MemberItem, count: int | None, used_this_year: Decimal = ZERO) -> Decimal:
    """The signed points of ``count`` occurrences of ``item`` in a month.

    base: the full points, less ``per_miss`` per miss (all of it at the first miss without ``per_miss``), not
    below 0; bonus / deduction: count × points, at most ``month_cap`` and at most what ``year_cap`` leaves after
    ``used_this_year`` (the absolute points of the item in the member's earlier months); deductions are
    negative; veto: 0 (its effect is on the whole month)."""
    count = int(count or 0)
    if item.part == MemberPart.VETO:
        return ZERO
    if item.part == MemberPart.BASE:
        if count == 0:
            return item.points
        if item.per_miss is None:
            return ZERO
        return max(ZERO, item.points - item.per_miss * count)
    value = item.points * count
    if item.month_cap is not None:
        value = min(value, item.month_cap)
    if item.year_cap is not None:
        value = min(value, max(ZERO, item.year_cap - abs(used_this_year)))
    value = value.quantize(TENTH)
    return -value if item.part == MemberPart.DEDUCTION else value


@dataclass(frozen=True)
class Totals:
    base: Decimal
    bonus: Decimal
    deduction: Decimal  # positive: what is taken off
    branch_total: Decimal  # base + bonus − deduction, floored
    self_total: Decimal
    total: Decimal  # weighted, veto applied
    vetoed: bool
    qualified: bool


def _part_sums(lines, field, caps: dict) -> tuple[int, int, int]:
    base = bonus_raw = ded = 0
    per_dimension: dict[str, int] = {}
    for line in lines:
        value = tenths(getattr(line, field))
        if line.part == MemberPart.BASE:
            base += value
        elif line.part == MemberPart.BONUS:
            per_dimension[line.dimension] = per_dimension.get(line.dimension, 0) + value
        elif line.part == MemberPart.DEDUCTION:
            ded += -value
    for dimension, value in per_dimension.items():
        cap = caps.get(dimension)
        bonus_raw += min(value, cap) if cap is not None else value
    return base, bonus_raw, ded


def dimension_caps_tenths(ms: MemberStandardSet) -> dict[str, int]:
    caps = {}
    for dimension, cap in (ms.dimension_caps or {}).items():
        if cap not in (None, ""):
            caps[dimension] = tenths(cap)
    return caps


def month_totals(ms: MemberStandardSet, lines) -> Totals:
    """The month's totals from its lines (objects with part, dimension, points, self_points, count)."""
    caps = dimension_caps_tenths(ms)
    bonus_cap = tenths(ms.bonus_cap) if ms.bonus_cap is not None else None
    ded_cap = tenths(ms.deduction_cap) if ms.deduction_cap is not None else None
    floor = tenths(ms.floor) if ms.floor is not None else None

    def total_of(field):
        base, bonus, ded = _part_sums(lines, field, caps)
        if bonus_cap is not None:
            bonus = min(bonus, bonus_cap)
        if ded_cap is not None:
            ded = min(ded, ded_cap)
        value = base + bonus - ded
        if floor is not None:
            value = max(value, floor)
        return base, bonus, ded, value

    base, bonus, ded, branch = total_of("points")
    *_, self_total = total_of("self_points")
    ws, wb = tenths(ms.weight_self), tenths(ms.weight_branch)
    total = weighted(self_total, branch, ws, wb)
    vetoed = any(line.part == MemberPart.VETO and (line.count or 0) > 0 for line in lines)
    if vetoed and ms.veto_effect in (VetoEffect.MONTH, VetoEffect.YEAR_ZERO):
        total = 0
    pass_mark = tenths(ms.pass_mark) if ms.pass_mark is not None else None
    qualified = not vetoed and (pass_mark is None or total >= pass_mark)
    return Totals(from_tenths(base), from_tenths(bonus), from_tenths(ded), from_tenths(branch),
                  from_tenths(self_total), from_tenths(total), vetoed, qualified)


def weighted(self_total: int, branch_total: int, ws: int, wb: int) -> int:
    """(self × ws + branch × wb) / 1000 in tenths, half up, with the integer division both databases do
    (truncation toward zero). Weights in tenths of a percent: 100 % = 1000."""
    num = self_total * ws + branch_total * wb
    if wb == 1000 and ws == 0:
        return branch_total
    q = (abs(num) + 500) // 1000
    return q if num >= 0 else -q
