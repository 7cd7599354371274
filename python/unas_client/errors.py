"""Exceptions of the client: one per kind of gRPC error the coordinator returns.

Every exception carries the server's own message (for a bad spec it names
each offending field), the gRPC status code, and the address it came from.
"""

import grpc


class UnasError(Exception):
    """Base class. `code` is a grpc.StatusCode, or None for client-side errors."""

    def __init__(self, message, code=None, details=None):
        super().__init__(message)
        self.message = message
        self.code = code
        # The server's message exactly as sent (None for client-side errors).
        self.details = details


class InvalidArgumentError(UnasError):
    """A bad request, usually a bad job spec.

    `fields` lists the spec fields the message names: the coordinator sends one
    line per violated rule, "  <field> <rule>" (e.g. "training.epochs is required").
    """

    def __init__(self, message, code=None, details=None):
        super().__init__(message, code, details)
        self.fields = [
            line.strip().split(" ", 1)[0]
            for line in (details or message).splitlines()[1:]
            if line.startswith("  ") and line.strip()
        ]


class SpecError(InvalidArgumentError):
    """A spec the client could not read or parse (before anything is sent)."""


class NotFoundError(UnasError):
    """An unknown job or candidate."""


class FailedPreconditionError(UnasError):
    """E.g. cancelling a finished job, or exporting a format a candidate lacks."""


class AuthenticationError(UnasError):
    """The coordinator refused the token (missing, wrong, or the worker token)."""


class UnavailableError(UnasError):
    """The coordinator cannot be reached, or a call ran past its deadline."""


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.UNAUTHENTICATED: AuthenticationError,
    grpc.StatusCode.PERMISSION_DENIED: AuthenticationError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: UnavailableError,
}


def from_rpc_error(error, address):
    """The UnasError for a grpc.RpcError, worded as unasctl words it."""
    code = error.code()
    details = error.details() or ""
    if code == grpc.StatusCode.UNAUTHENTICATED:
        message = "the coordinator at %s refused the token: %s (pass token=...)" % (address, details)
    elif code == grpc.StatusCode.PERMISSION_DENIED:
        message = "the coordinator at %s refused this call: %s (use the client token, " \
                  "not the worker token)" % (address, details)
    elif code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        message = "cannot reach the coordinator at %s (is unas-coordinator running? if it " \
                  "serves TLS, pass tls=CA.pem): %s" % (address, details)
    else:
        message = details or code.name
    return _BY_CODE.get(code, UnasError)(message, code, details)
