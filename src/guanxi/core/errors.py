"""Domain errors raised by services; views, the API and the CLI turn them into messages."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class DomainError(Exception):
    pass


class ValidationFailed(DomainError):
    """Bad input. ``errors`` maps a field name (or ``__all__``) to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = {k: [str(m) for m in v] for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))

    @classmethod
    def from_django(cls, exc: ValidationError) -> ValidationFailed:
        if hasattr(exc, "error_dict"):
            return cls({k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()})
        return cls({"__all__": exc.messages})

    @classmethod
    def one(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: [message]})


class Conflict(DomainError):
    """The record changed since the caller read it (stale ``version``)."""

    def __init__(self, current_version: int | None = None):
        self.current_version = current_version
        super().__init__(
            _(
                "Someone else saved this record after you opened it. "
                "Reload it to see their changes, then apply yours again."
            )
        )


class NotFound(DomainError):
    """No such record, or not in the caller's scope (the two are never told apart)."""

    def __init__(self, what: str = ""):
        super().__init__(_("Not found."))


class Forbidden(DomainError):
    """The caller may see the record but not do this to it."""

    def __init__(self, message: str | None = None):
        super().__init__(message or _("You are not allowed to do this."))
