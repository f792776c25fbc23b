"""Domain errors: small, specific, each with a stable machine code."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the service layer raises on purpose."""

    code = "domain-error"
    status = 400
    title = "Request refused"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    """A field is missing, malformed or out of range."""

    code = "validation-error"
    status = 422
    title = "Invalid request"


class InvalidPhone(InvalidInput):
    """The phone is not a valid mobile number."""

    code = "invalid-phone"
    title = "Invalid phone number"


class IdempotencyKeyReused(InvalidInput):
    """The same Idempotency-Key came with a different body."""

    code = "idempotency-key-reused"
    title = "Idempotency key reused"


class NotFound(DomainError):
    """An unknown or revoked identifier."""

    code = "not-found"
    status = 404
    title = "Not found"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"No {kind} with id {ident!r}.")


class ConflictError(DomainError):
    """The request conflicts with the current state."""

    code = "conflict"
    status = 409
    title = "Conflict"


class InUse(ConflictError):
    """Deleting something that a future appointment still needs."""

    code = "in-use"
    title = "Still in use"


class SlotUnavailable(ConflictError):
    """The requested slot is not free."""

    code = "slot-unavailable"
    title = "Slot unavailable"


class InterpreterUnavailable(ConflictError):
    """No interpreter of the language is free then."""

    code = "interpreter-unavailable"
    title = "Interpreter unavailable"


class RuleOverlap(InvalidInput):
    """Two weekly rules of one person whose occurrences meet, whatever their sites."""

    code = "rule-overlap"
    title = "Rules overlap"

    def __init__(self, other_rule_id: str, day: str) -> None:
        super().__init__(f"This rule meets rule {other_rule_id!r} (first on {day}): one person cannot be "
                         "in two places at once.", other_rule_id=other_rule_id, first_meeting=day)


class FamilyBusy(ConflictError):
    """The family already has an active appointment at an overlapping time."""

    code = "family-busy"
    title = "Family busy"
