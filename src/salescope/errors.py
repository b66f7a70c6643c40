"""Errors a user may see.

Every user-facing failure is a ``SalescopeError`` whose message is one sentence that
names what was wrong and what was expected, so adapters can print it without a
traceback (``--debug`` shows the traceback).
"""

from __future__ import annotations


class SalescopeError(Exception):
    """Root of all errors that are reported to users as one clear sentence."""

    status = 400

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])


class InputError(SalescopeError, ValueError):
    """Bad user input: a file, row, column or value that is not what was expected."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        expected: str | None = None,
        details: list[str] | None = None,
    ) -> None:
        parts = []
        if file is not None:
            parts.append(f"{file}")
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column {column!r}")
        where = ", ".join(parts)
        text = f"{where}: {message}" if where else message
        if value is not None:
            text += f" (value {value!r})"
        if expected:
            text += f"; expected {expected}"
        super().__init__(text, details=details)
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.expected = expected


class WorkspaceBusyError(SalescopeError):
    """Another process holds the workspace for writing (usually ``salescope serve``)."""

    status = 409


class ReadOnlyError(SalescopeError):
    """A write was attempted through a read-only entry point such as ``salescope sql``."""


class NotFoundError(SalescopeError):
    status = 404


class AuthenticationError(SalescopeError):
    status = 401


class PermissionDeniedError(SalescopeError):
    status = 403


class RateLimitedError(SalescopeError):
    status = 429


class ModelFitError(SalescopeError):
    """A statistical model did not converge or produced non-finite results."""

    status = 422
