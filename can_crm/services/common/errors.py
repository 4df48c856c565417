"""Domain errors: services raise these, views and the API turn them into messages next to a field."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal a user can act on. `code` is stable for the API; `message` is plain English."""

    code = "invalid"
    http_status = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(DomainError):
    code = "validation_failed"
    http_status = 422


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403


class TransitionRefused(DomainError):
    code = "transition_not_allowed"
    http_status = 409


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class FieldErrors(ValidationError):
    """Several fields are wrong at once; `fields` maps each field to its message, in form order."""

    def __init__(self, fields: dict[str, str]) -> None:
        first = next(iter(fields.values()))
        super().__init__(first, next(iter(fields)))
        self.fields = fields
