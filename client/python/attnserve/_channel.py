"""Channel settings shared by the sync and async clients: TLS credentials,
the bearer token, channel options, and the grpc.health.v1 messages."""
import os
from dataclasses import dataclass
from typing import Optional, Union

import grpc

PathOrBytes = Union[str, bytes, os.PathLike, None]


@dataclass(frozen=True)
class TLS:
    """TLS settings of a client.

    ca: PEM root certificates that may sign the server's certificate (a path
        or the bytes); None: the system's roots.
    cert, key: the client's certificate chain and private key for mutual TLS
        (paths or bytes); both or neither.
    server_name: the name to check the server's certificate against, when it
        differs from the target's host (e.g. connecting by IP address).
    """
    ca: PathOrBytes = None
    cert: PathOrBytes = None
    key: PathOrBytes = None
    server_name: Optional[str] = None


def _read(value, what):
    if value is None or isinstance(value, bytes):
        return value
    try:
        with open(value, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"TLS {what}: cannot read {value}: {e.strerror}") from None


def credentials(tls):
    """(grpc.ChannelCredentials or None for plaintext, extra channel options)."""
    if tls is None or tls is False:
        return None, []
    if isinstance(tls, grpc.ChannelCredentials):
        return tls, []
    if tls is True:
        tls = TLS()
    if not isinstance(tls, TLS):
        raise TypeError("tls must be None, True, an attnserve.TLS or grpc.ChannelCredentials, "
                        f"got {type(tls).__name__}")
    if (tls.cert is None) != (tls.key is None):
        raise ValueError("TLS: cert and key go together (mutual TLS needs both)")
    creds = grpc.ssl_channel_credentials(root_certificates=_read(tls.ca, "ca"),
                                         private_key=_read(tls.key, "key"),
                                         certificate_chain=_read(tls.cert, "cert"))
    options = []
    if tls.server_name:
        options.append(("grpc.ssl_target_name_override", tls.server_name))
    return creds, options


def call_metadata(token, extra=None):
    """Metadata sent with every call: "authorization: Bearer <token>" when a
    token is given, then `extra` (pairs)."""
    metadata = []
    if token:
        if not isinstance(token, str) or "\n" in token:
            raise ValueError("token must be a single-line string")
        metadata.append(("authorization", f"Bearer {token}"))
    if extra:
        metadata.extend((str(k).lower(), v) for k, v in extra)
    return tuple(metadata) or None


def channel_options(options, tls_options):
    """Responses with long attention maps can exceed gRPC's 4 MiB default, so
    the receive limit is lifted unless the caller sets one."""
    merged = [("grpc.max_receive_message_length", -1)]
    merged.extend(tls_options)
    merged.extend(options or ())
    return merged


# grpc.health.v1 (the standard health protocol): its two messages, declared
# here in a private descriptor pool so that the client needs no generated
# health module and cannot clash with one another package registered.
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
_HEALTH_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
_health_messages = None


def health_messages():
    """(HealthCheckRequest, HealthCheckResponse) message classes."""
    global _health_messages
    if _health_messages is None:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
        f = descriptor_pb2.FileDescriptorProto(name="attnserve/client_health.proto",
                                               package="grpc.health.v1", syntax="proto3")
        req = f.message_type.add(name="HealthCheckRequest")
        field = descriptor_pb2.FieldDescriptorProto
        req.field.add(name="service", number=1, type=field.TYPE_STRING,
                      label=field.LABEL_OPTIONAL)
        resp = f.message_type.add(name="HealthCheckResponse")
        enum = resp.enum_type.add(name="ServingStatus")
        for number, name in _HEALTH_NAMES.items():
            enum.value.add(name=name, number=number)
        resp.field.add(name="status", number=1, type=field.TYPE_ENUM,
                       type_name=".grpc.health.v1.HealthCheckResponse.ServingStatus",
                       label=field.LABEL_OPTIONAL)
        pool = descriptor_pool.DescriptorPool()
        pool.Add(f)
        classes = []
        for name in ("HealthCheckRequest", "HealthCheckResponse"):
            desc = pool.FindMessageTypeByName(f"grpc.health.v1.{name}")
            if hasattr(message_factory, "GetMessageClass"):
                classes.append(message_factory.GetMessageClass(desc))
            else:
                classes.append(message_factory.MessageFactory(pool).GetPrototype(desc))
        _health_messages = tuple(classes)
    return _health_messages


def health_status_name(response):
    return _HEALTH_NAMES.get(response.status, f"UNKNOWN({response.status})")
