"""Row-level access of import jobs (registered in apps.py): a job is its creator's; administrators
see every job. What an import may write is decided per row by the customer rules (see services)."""

from django.db.models import Q

from guanxi.org.models import Role

# who may import at all: administrators, managers (their department's customers) and account
# managers (their own customers)
IMPORT_ROLES = (Role.ADMIN, Role.MANAGER, Role.ACCOUNT_MANAGER)


def may_import(user) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and (user.is_admin or user.role in IMPORT_ROLES)
    )


def job_rule(user, action: str):
    return Q(created_by=user)
