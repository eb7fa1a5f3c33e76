"""Exceptions for the gRPC status codes attnserve answers with.

Every failed call raises an AttnServeError subclass chosen by the status code
(docs/api.md lists when the server answers which). The exception carries the
code and the server's own message:

    try:
        client.classify(x, "demo")
    except attnserve.errors.InvalidArgument as e:
        print(e.code, e.message)   # StatusCode.INVALID_ARGUMENT, "sequence 0: ..."

`str(e)` reads "INVALID_ARGUMENT: <message>". InvalidArgument is also a
ValueError and NotFound a LookupError, so generic handlers catch them too.
"""
import grpc


class AttnServeError(Exception):
    """A call failed with a gRPC status.

    Attributes:
      code: the grpc.StatusCode.
      message: the server's message (gRPC's own for transport failures).
    """

    def __init__(self, code, message):
        self.code = code
        self.message = message
        super().__init__(f"{code.name}: {message}")

    def __reduce__(self):
        return (type(self), (self.code, self.message))


class InvalidArgument(AttnServeError, ValueError):
    """The request is wrong: no sequences, wrong feature count, NaN, too long..."""


class NotFound(AttnServeError, LookupError):
    """Unknown model or version (the message names the known ones), or health service."""


class FailedPrecondition(AttnServeError):
    """The version cannot run on this server as configured (e.g. bf16 on a CPU without it)."""


class Unavailable(AttnServeError):
    """The server cannot take the request now: queue full, load failed, shutting down,
    or it cannot be reached."""


class ResourceExhausted(AttnServeError):
    """The request is larger than the server's --max_message_bytes."""


class DeadlineExceeded(AttnServeError):
    """The call's timeout passed before the answer came."""


class Cancelled(AttnServeError):
    """The call was cancelled."""


class Internal(AttnServeError):
    """The server failed (a bug in attnserve)."""


class Unauthenticated(AttnServeError):
    """The server refused the credentials (token) of the call."""


class PermissionDenied(AttnServeError):
    """The credentials are valid but may not make this call."""


class Unimplemented(AttnServeError):
    """The server does not have this method (an older attnserve)."""


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.INTERNAL: Internal,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
}
# google.rpc.Code numbers (ClassifyStream reports a failed request's status as one).
_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


def from_status(code, message):
    """The exception for `code` (a grpc.StatusCode or its number) and `message`."""
    if not isinstance(code, grpc.StatusCode):
        code = _BY_NUMBER.get(int(code), grpc.StatusCode.UNKNOWN)
    return _BY_CODE.get(code, AttnServeError)(code, message)


def from_rpc_error(error):
    """The exception for a grpc.RpcError (also grpc.aio.AioRpcError)."""
    code = error.code() if callable(getattr(error, "code", None)) else None
    details = error.details() if callable(getattr(error, "details", None)) else None
    if code is None:
        return AttnServeError(grpc.StatusCode.UNKNOWN, str(error))
    return from_status(code, details or "")
