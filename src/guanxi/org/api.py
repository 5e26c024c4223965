"""Organisation endpoints: who am I, people, departments, teams, deputies.

Every signed-in user may read the organisation (names, roles, departments — no personal data);
only administrators change it (managers may add a deputy for their own department)."""

import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status

from guanxi.core.errors import NotFound

from . import selectors, services
from .models import User

router = Router(tags=["organisation"])


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    department_id: int | None
    team_id: int | None
    is_admin: bool


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    department_id: int | None
    team_id: int | None
    is_active: bool


class UserPage(Schema):
    items: list[UserOut]
    count: int


class UserCreate(Schema):
    username: str
    password: str
    display_name: str = ""
    email: str = ""
    phone: str = ""
    role: str = "account_manager"
    department: int | None = None
    team: int | None = None


class UserPatch(Schema):
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    role: str | None = None
    department: int | None = None
    team: int | None = None
    is_active: bool | None = None


class DepartmentOut(Schema):
    id: int
    name: str
    kind: str
    duties: str


class DepartmentIn(Schema):
    name: str
    kind: str
    duties: str = ""


class TeamOut(Schema):
    id: int
    name: str
    department_id: int


class TeamIn(Schema):
    name: str
    department: int


class DeputyOut(Schema):
    id: int
    absent_id: int
    deputy_id: int
    starts_on: datetime.date
    ends_on: datetime.date
    note: str


class DeputyIn(Schema):
    absent: int
    deputy: int
    starts_on: datetime.date
    ends_on: datetime.date
    note: str = ""


def _user_out(u: User) -> dict:
    return {
        "id": u.pk, "username": u.username, "display_name": str(u), "role": u.role,
        "department_id": u.department_id, "team_id": u.team_id, "is_active": u.is_active,
    }  # fmt: skip


@router.get("/me", response=MeOut)
def me(request: HttpRequest):
    user: User = request.auth
    return {
        "id": user.pk, "username": user.username, "display_name": str(user), "role": user.role,
        "department_id": user.department_id, "team_id": user.team_id, "is_admin": user.is_admin,
    }  # fmt: skip


@router.get("/users", response=UserPage)
def list_users(request: HttpRequest, q: str = "", role: str = "", department: int | None = None,
               limit: int = 100, offset: int = 0):  # fmt: skip
    qs = selectors.people(request.auth, q=q, role=role, department_id=department)
    return {"items": [_user_out(u) for u in qs[offset : offset + min(limit, 500)]], "count": qs.count()}


@router.post("/users", response={201: UserOut})
def create_user(request: HttpRequest, payload: UserCreate):
    data = payload.dict()
    password = data.pop("password")
    return Status(201, _user_out(services.create_user(actor=request.auth, data=data, password=password)))


@router.get("/users/{user_id}", response=UserOut)
def get_user(request: HttpRequest, user_id: int):
    user = selectors.people(request.auth).filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    return _user_out(user)


@router.patch("/users/{user_id}", response=UserOut)
def patch_user(request: HttpRequest, user_id: int, payload: UserPatch):
    data = payload.dict(exclude_unset=True)
    return _user_out(services.update_user(actor=request.auth, user_id=user_id, data=data))


@router.get("/departments", response=list[DepartmentOut])
def list_departments(request: HttpRequest):
    return list(selectors.departments(request.auth))


@router.post("/departments", response={201: DepartmentOut})
def create_department(request: HttpRequest, payload: DepartmentIn):
    return Status(201, services.create_department(actor=request.auth, **payload.dict()))


@router.get("/teams", response=list[TeamOut])
def list_teams(request: HttpRequest, department: int | None = None):
    return list(selectors.teams(request.auth, department_id=department))


@router.post("/teams", response={201: TeamOut})
def create_team(request: HttpRequest, payload: TeamIn):
    return Status(
        201, services.create_team(actor=request.auth, name=payload.name, department_id=payload.department)
    )


@router.get("/deputies", response=list[DeputyOut])
def list_deputies(request: HttpRequest, current: bool = True):
    return list(selectors.deputies(request.auth, current_only=current))


@router.post("/deputies", response={201: DeputyOut})
def create_deputy(request: HttpRequest, payload: DeputyIn):
    d = payload.dict()
    deputy = services.add_deputy(
        actor=request.auth, absent_id=d["absent"], deputy_id=d["deputy"], starts_on=d["starts_on"],
        ends_on=d["ends_on"], note=d["note"],
    )  # fmt: skip
    return Status(201, deputy)
