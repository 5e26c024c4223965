"""Demo organisation (C16): departments with their duties, sales teams, users of every role, a deputy."""

from __future__ import annotations

import datetime

from guanxi.org import services as org_services
from guanxi.org.models import Department, Role, Team, User

from . import vocab
from .context import DemoContext

DEMO_PASSWORD = "demo"
DEMO_LOGINS = ["admin", "manager", "rep1", "rep2", "service", "analyst", "auditor"]


def _email(username: str) -> str:
    return f"{username}@guanxi-demo.cn"


def generate(ctx: DemoContext) -> dict[str, int]:
    ctx.track(User, "date_joined")
    rng = ctx.rng("org")
    ctx.at(ctx.moment(760, 9, 0))

    # The administrator comes first: the organisation services need an administrator as actor.
    users: dict[str, User] = {}
    spec = {u[0]: u for u in vocab.USERS}

    password_hash: list[str] = []

    def make_user(username: str) -> User:
        _u, display, role, _dept, _team, staff = spec[username]
        user = User(
            username=username,
            display_name=display,
            email=_email(username),
            phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            role=role,
            is_staff=staff,
            is_superuser=role == Role.ADMIN,
        )
        # Demo only: every demo login's password is "demo". Hashing it once (argon2 takes a few tenths
        # of a second) and giving every demo user that hash keeps the load fast.
        if password_hash:
            user.password = password_hash[0]
        else:
            user.set_password(DEMO_PASSWORD)
            password_hash.append(user.password)
        user.save()
        return user

    users["admin"] = make_user("admin")
    admin = users["admin"]

    departments: dict[str, Department] = {}
    for key, name, kind, duties in vocab.DEPARTMENTS:
        departments[key] = org_services.create_department(actor=admin, name=name, kind=kind, duties=duties)
    teams: dict[str, Team] = {}
    for key, dept_key, name in vocab.TEAMS:
        teams[key] = org_services.create_team(actor=admin, name=name, department_id=departments[dept_key].pk)

    for i, (username, *_rest) in enumerate(vocab.USERS):
        if username != "admin":
            # people joined over the first weeks, so the audit trail starts with the organisation
            ctx.at(ctx.moment(760 - 2 * i, 9, 30))
            users[username] = make_user(username)
    for username, _display, _role, dept_key, team_key, _staff in vocab.USERS:
        if dept_key is None:
            continue
        org_services.set_user_placement(
            actor=admin,
            user_id=users[username].pk,
            department_id=departments[dept_key].pk,
            team_id=teams[team_key].pk if team_key else None,
        )
    for u in users.values():
        u.refresh_from_db()

    # rep3 is away for the coming two weeks; rep2 (same department, other team) covers for them.
    ctx.at(ctx.moment(1, 17, 30))
    org_services.add_deputy(
        actor=users["manager"],
        absent_id=users["rep3"].pk,
        deputy_id=users["rep2"].pk,
        starts_on=ctx.today,
        ends_on=ctx.today + datetime.timedelta(days=13),
        note="黄磊参加集团两周封闭培训，期间由陈晓燕代管其客户",
    )

    reps_by_dept: dict[str, list[User]] = {}
    managers: dict[str, User] = {}
    for username, _display, role, dept_key, _team, _staff in vocab.USERS:
        if role == Role.ACCOUNT_MANAGER:
            reps_by_dept.setdefault(dept_key, []).append(users[username])
        elif role == Role.MANAGER:
            managers[dept_key] = users[username]
    ctx.state.update(users=users, departments=departments, teams=teams, reps=reps_by_dept, managers=managers)
    return {"departments": len(departments), "teams": len(teams), "users": len(users), "deputies": 1}
