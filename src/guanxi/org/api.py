from django.http import HttpRequest
from ninja import Router, Schema

from .models import User

router = Router()


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    department_id: int | None
    team_id: int | None
    is_admin: bool


@router.get("/me", response=MeOut, tags=["organisation"])
def me(request: HttpRequest):
    user: User = request.auth
    return {
        "id": user.pk, "username": user.username, "display_name": str(user), "role": user.role,
        "department_id": user.department_id, "team_id": user.team_id, "is_admin": user.is_admin,
    }  # fmt: skip
