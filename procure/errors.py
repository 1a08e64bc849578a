"""Domain errors. Services raise them; views turn them into messages in the user's
language (flash + re-rendered form, or a 4xx JSON body with the reason)."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the action. ``message`` is already translated
    (a lazy string), so it can be shown to the user as it is."""

    status_code = 400

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        #: The form field the error belongs to, when there is one.
        self.field = field


class ValidationError(DomainError):
    status_code = 400


class NotPermitted(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class InvalidTransition(DomainError):
    status_code = 409


class RecordClosed(InvalidTransition):
    """The object belongs to a closed (archived) project: nothing in it may change
    (DOMAIN.md §5, records kept at least 15 years)."""


class Conflict(DomainError):
    """A concurrent change or a uniqueness rule refused the action."""

    status_code = 409


class BudgetExceeded(Conflict):
    """A hard stop of DOMAIN.md §5: the money is not there (the message says how much is)."""


class SealingKeyUnavailable(DomainError):
    """The master key for sealed bids is missing, malformed or not the one that sealed them."""

    status_code = 503


class SealTampered(DomainError):
    """Sealed content (or a wrapped key) failed authentication: damaged or changed."""

    status_code = 409


class SigningUnavailable(DomainError):
    """The signing certificate authority (or a signer's key) is missing or unreadable."""

    status_code = 503
