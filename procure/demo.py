"""Demo data: a municipal civil-affairs bureau, the finance bureau, a few social
organizations from the registry sample, and one user per role. Every later feature
extends this module. Names and figures follow the bureau's 2019 reply (shared/data)."""

from __future__ import annotations

from sqlalchemy import func, select

from .auth import services as accounts
from .auth.models import User
from .extensions import db
from .modules import submodules
from .organizations.models import Organization, OrgKind
from .roles import Role

DEMO_PASSWORD = "procure2026"
#: Demo addresses: a domain reserved for examples (RFC 2606) that the e-mail validator
#: accepts (it refuses special-use names such as ``.local``), so the demo users can be
#: edited and can reset their passwords.
DEMO_EMAIL_DOMAIN = "example.org"


def demo_email(username: str) -> str:
    return f"{username}@{DEMO_EMAIL_DOMAIN}"

DEPARTMENTS = [
    ("重庆市民政局社会组织管理局", "MZJ-SZ"),
    ("重庆市民政局慈善事业促进和社会工作处", "MZJ-CS"),
    ("重庆市财政局社会保障处", "CZJ-SB"),
]

ORGANIZATIONS = [
    ("重庆市渝中区同心养老服务中心", "52500103MJLLJY1J5M", OrgKind.SERVICE_ORG),
    ("重庆市江北区阳光协会", "51500105MJTH3BJ13E", OrgKind.SOCIAL_GROUP),
    ("重庆市启航联合会", "51500000MJ3JJL6B1A", OrgKind.SOCIAL_GROUP),
    ("重庆市北碚区康乐残障支持中心", "52500109MJXEB97R2N", OrgKind.SERVICE_ORG),
    ("渝中区解放碑街道邻里互助会", None, OrgKind.FILED),
]

USERS = [
    # username, name, role, department index, organization index, locale
    ("admin", "系统管理员", Role.ADMIN, None, None, "zh_CN"),
    ("officer", "李明（项目主管）", Role.OFFICER, 0, None, "zh_CN"),
    ("officer2", "陈静（社工处项目主管）", Role.OFFICER, 1, None, "zh_CN"),
    ("finance", "王芳（财务）", Role.FINANCE, 2, None, "zh_CN"),
    ("expert", "张伟（评审专家）", Role.EVALUATOR, None, None, "zh_CN"),
    ("tongxin", "赵芳秀（同心养老）", Role.ORG, None, 0, "zh_CN"),
    ("yangguang", "朱娟娜（阳光协会）", Role.ORG, None, 1, "zh_CN"),
    ("kangle", "Zhao Naxia (Kangle)", Role.ORG, None, 3, "en"),
]


def load_demo(force: bool = False) -> dict | None:
    """Fill the database; returns the logins, or None when it already holds users."""
    if not force and db.session.scalar(select(func.count()).select_from(User)):
        return None
    # The first admin is created by the system itself (no actor yet).
    admin = User(username="admin", email=demo_email("admin"), name="系统管理员", role=Role.ADMIN)
    admin.set_password(DEMO_PASSWORD)
    db.session.add(admin)
    db.session.flush()
    from . import audit

    audit.record(None, "user.create", admin, after=admin.snapshot())
    accounts.send_welcome(admin)

    deps = [accounts.create_department(admin, name, code) for name, code in DEPARTMENTS]
    orgs = []
    for name, code, kind in ORGANIZATIONS:
        org = Organization(name=name, credit_code=code, kind=kind)
        db.session.add(org)
        db.session.flush()
        audit.record(admin, "organization.create", org,
                     after={"name": name, "credit_code": code, "kind": kind.value})
        orgs.append(org)

    rows = [{"role": "admin", "username": "admin", "name": admin.name, "where": ""}]
    for username, name, role, dep_i, org_i, locale in USERS[1:]:
        data = accounts.UserData(
            username=username, email=demo_email(username), name=name, role=role, locale=locale,
            department_id=deps[dep_i].id if dep_i is not None else None,
            organization_id=orgs[org_i].id if org_i is not None else None)
        user = accounts.create_user(admin, data, DEMO_PASSWORD)
        where = deps[dep_i].name if dep_i is not None else (orgs[org_i].name if org_i is not None else "")
        rows.append({"role": role.value, "username": username, "name": name, "where": where})
    db.session.flush()

    # Each module extends the demo: procure/<module>/demo.py with ORDER and load(ctx).
    ctx = {"admin": admin, "departments": deps, "organizations": orgs,
           "users": {u.username: u for u in db.session.scalars(select(User))}}
    for module in sorted(submodules("demo"), key=lambda m: getattr(m, "ORDER", 100)):
        module.load(ctx)
    db.session.flush()
    # Accounts the modules added (the evaluator pool, staff of bidding organizations) sign in too.
    listed = {row["username"] for row in rows}
    for user in db.session.scalars(select(User).where(User.username.not_in(listed)).order_by(User.id)):
        where = user.organization.name if user.organization_id else (user.department.name if user.department_id else "")
        rows.append({"role": user.role.value, "username": user.username, "name": user.name, "where": where})

    # Every user created above got a welcome email with its set-password link
    # (accounts.create_user); the running demo delivers them to its SMTP sink.
    db.session.commit()
    return {"password": DEMO_PASSWORD, "users": rows}
