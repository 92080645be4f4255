"""The one place that decides access.

A role is granted on an organization and covers its subtree. ``allowed_paths(user, action)`` turns
(user, action) into the set of path prefixes the user may act on; ``scope()`` filters any queryset by them and
``get_scoped_or_404()`` fetches one object through it, so an outsider gets 404. Every page, export, download
and API handler reads data through these functions; no view filters by hand.
"""

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from dangjian.orgs.models import Role

A, S, E, SEC, M = Role.ADMIN, Role.STAFF, Role.ASSESSOR, Role.SECRETARY, Role.MEMBER
# 等保 三员 beside the system administrator (A): the security administrator and the audit administrator.
SECU, AUD = Role.SECURITY, Role.AUDITOR

# action -> roles that may perform it on their granted subtree
ACTIONS: dict[str, frozenset[str]] = {
    "org.view": frozenset({A, S, E, SEC, M}),
    "org.manage": frozenset({A, S}),
    "org.import": frozenset({A, S}),
    "member.view": frozenset({A, S, E, SEC}),
    "member.manage": frozenset({A, S, SEC}),
    "member.import": frozenset({A, S}),
    "member.pii": frozenset({A, S}),
    # Exporting full ID and phone numbers (QUALITY.md S6) comes with no role: only an explicit grant to a named
    # user (the Django permission in EXPLICIT, given and taken by the 安全管理员 on the security page), over the
    # members the user can see. Without it every export writes them masked.
    "member.export_personal": frozenset(),
    "audit.view": frozenset({A, S, AUD}),
    "role.manage": frozenset({A}),
    # Separated duties: the audit administrator only reads (the organizations' events, and on a top-level
    # organization also the events tied to none: logins, failures, lockouts, purges); the security administrator
    # manages lockouts and second factors. Neither can change the organizations, members, roles or scores.
    "audit.system": frozenset({AUD}),
    "security.manage": frozenset({SECU}),
    # Standard sets: every role may read the rules it is evaluated under (sets owned in or above its subtree,
    # see standards.models.StandardSet.own_q); the committee's staff write them.
    "standard.view": frozenset({A, S, E, SEC, M}),
    "standard.manage": frozenset({A, S}),
    # The monthly organization evaluation: everyone in scope sees results; the organization's secretary submits
    # and self-assesses; assessors score; the committee's staff open, review, publish and finalize.
    "eval.view": frozenset({A, S, E, SEC, M}),
    "eval.submit": frozenset({A, S, SEC}),
    "eval.assess": frozenset({A, S, E}),
    "eval.manage": frozenset({A, S}),
    # Oversight (随时掌握, 对标): the committee dashboard of a month over the committee's subtree — progress,
    # distribution, peer ranking, trend, weakest items, inflated self-scores, lenient or strict assessors.
    "eval.oversee": frozenset({A, S}),
    # The monthly member evaluation (做新时代答卷人). A member acts on their own evaluation, study records and
    # history through the models' ``own_q`` (appraisal.models.OWN_ACTIONS), whatever their grants: so
    # ``appraisal.self`` and ``activity.own`` name no role. The branch's secretary (and the committee's staff)
    # see the branch's members, determine their months and publish; the staff open and close months.
    "appraisal.view": frozenset({A, S, SEC}),
    "appraisal.self": frozenset(),
    "appraisal.determine": frozenset({A, S, SEC}),
    "appraisal.manage": frozenset({A, S}),
    "activity.view": frozenset({A, S, SEC}),
    "activity.manage": frozenset({A, S, SEC}),
    "activity.own": frozenset(),
    # The wall: members see their branch's wall inside the platform; the branch manages its public link and
    # reads the public's feedback. Year end (民主评议) is recorded by the branch.
    "wall.view": frozenset({A, S, SEC, M}),
    "wall.manage": frozenset({A, S, SEC}),
    "yearend.manage": frozenset({A, S, SEC}),
    # 让人民生活更美好: the organization's people (secretary) and the committee's staff take needs and run their
    # PDCA tickets; only the staff cancel or reopen a ticket, build surveys and read the decision-support figures
    # of the whole subtree. Members see their organization's service teams and projects.
    "need.view": frozenset({A, S, SEC}),
    "need.manage": frozenset({A, S, SEC}),
    "ticket.view": frozenset({A, S, SEC}),
    "ticket.handle": frozenset({A, S, SEC}),
    "ticket.manage": frozenset({A, S}),
    "survey.view": frozenset({A, S, SEC}),
    "survey.manage": frozenset({A, S}),
    "team.view": frozenset({A, S, SEC, M}),
    "team.manage": frozenset({A, S, SEC}),
    "project.view": frozenset({A, S, SEC, M}),
    "project.manage": frozenset({A, S, SEC}),
    "service.dashboard": frozenset({A, S, SEC}),
}


# Actions held through an explicit per-user permission rather than a role: action -> (Django permission, the
# action whose role scope limits where it applies).
EXPLICIT: dict[str, tuple[str, str]] = {
    "member.export_personal": ("orgs.export_personal_data", "member.view"),
}


class AccessDenied(Exception):
    """Raised by services when the user may not act on the object (views turn it into 404)."""


def _grants(user):
    cache = getattr(user, "_dj_grants", None)
    if cache is None:
        from dangjian.orgs.models import RoleGrant

        cache = list(
            RoleGrant.objects.filter(user_id=user.pk, org__archived=False).values_list("role", "org__path")
        )
        user._dj_grants = cache
    return cache


def roles_of(user) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return {A}
    return {role for role, _ in _grants(user)}


def roles_at(user, path: str) -> set[str]:
    """The roles the user holds on the organization at ``path`` (through grants on it or an ancestor)."""
    if not user or not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return {A}
    return {role for role, p in _grants(user) if path.startswith(p)}


def allowed_paths(user, action: str) -> list[str] | None:
    """Path prefixes the user may perform ``action`` on; None means everything; [] means nothing."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}")
    if not user or not user.is_authenticated or not user.is_active:
        return []
    if action in EXPLICIT:
        permission, base = EXPLICIT[action]
        return allowed_paths(user, base) if user.has_perm(permission) else []
    if user.is_superuser:
        return None
    roles = ACTIONS[action]
    prefixes = sorted({path for role, path in _grants(user) if role in roles})
    # Drop prefixes already covered by a shorter one.
    reduced: list[str] = []
    for p in prefixes:
        if not any(p.startswith(r) for r in reduced):
            reduced.append(p)
    return reduced


def can(user, action: str, path: str | None = None) -> bool:
    """May the user perform ``action`` somewhere (path None) or on the organization at ``path``?"""
    paths = allowed_paths(user, action)
    if paths is None:
        return True
    if path is None:
        return bool(paths)
    return any(path.startswith(p) for p in paths)


def scope(user, action: str, qs: QuerySet) -> QuerySet:
    """Filter ``qs`` to the rows the user may perform ``action`` on.

    The model names the field that holds the owning organization's path in ``SCOPE_PATH`` (default
    ``"path"``), and may define ``own_q(user)`` for rows a user sees as their own (a member's own record).
    """
    model = qs.model
    field = getattr(model, "SCOPE_PATH", "path")
    paths = allowed_paths(user, action)
    if paths is None:
        return qs
    cond = Q()
    for p in paths:
        cond |= Q(**{f"{field}__startswith": p})
    own = getattr(model, "own_q", None)
    if own is not None and user.is_authenticated:
        own_cond = own(user, action)
        if own_cond is not None:
            cond |= own_cond
    if not cond:
        return qs.none()
    return qs.filter(cond)


def get_scoped_or_404(user, action: str, qs: QuerySet, **lookup):
    try:
        return scope(user, action, qs).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("未找到该对象，或您无权访问。")) from exc


def require(user, action: str, path: str | None = None) -> None:
    """Services call this; a user without the right gets AccessDenied (shown as 404)."""
    if not can(user, action, path):
        raise AccessDenied(action)


def holds_at_top(user, action: str) -> bool:
    """Does the user hold ``action`` on a top-level organization (or everywhere)? What is tied to no organization
    (logins, lockouts, second factors, the audit log's own events) is for such holders only."""
    paths = allowed_paths(user, action)
    if paths is None:
        return True
    return any(p.count(".") == 1 for p in paths)
