"""attnserve.Client: the blocking client (attnserve.aio.Client is the asyncio one)."""
import threading

import grpc

from attnserve import _channel, _convert, errors
from attnserve.types import StreamAnswer


def _stubs():
    try:
        from attnserve.v1 import attnserve_pb2, attnserve_pb2_grpc
    except ImportError as e:
        raise ImportError(
            "attnserve's gRPC stubs are missing: they are generated when the package is "
            "installed (pip install ./client/python, docs/python.md); "
            f"importing them failed: {e}") from e
    return attnserve_pb2, attnserve_pb2_grpc


class _Base:
    """Settings shared by the sync and async clients."""

    def __init__(self, target, tls, token, timeout, options, metadata):
        if not isinstance(target, str) or not target:
            raise ValueError("target must be 'host:port'")
        self.target = target
        self.timeout = timeout
        self._pb, self._grpc = _stubs()
        self._credentials, tls_options = _channel.credentials(tls)
        self._options = _channel.channel_options(options, tls_options)
        self._metadata = _channel.call_metadata(token, metadata)

    def _timeout(self, timeout):
        return self.timeout if timeout is None else timeout

    def __repr__(self):
        kind = "tls" if self._credentials is not None else "plaintext"
        return f"{type(self).__name__}({self.target!r}, {kind})"


class Client(_Base):
    """A blocking client of one attnserve server.

        with attnserve.Client("localhost:8500") as client:
            result = client.classify(x, "demo")      # x: [steps, features]
            print(result.label, result.attention["temporal"])

    target: "host:port".
    tls: None (plaintext), True (TLS with the system's root certificates), an
        attnserve.TLS (own CA, client certificate, server name), or a
        grpc.ChannelCredentials.
    token: sent as "authorization: Bearer <token>" with every call.
    timeout: default deadline of each call in seconds (None: no deadline);
        every method takes its own `timeout` too.
    options: extra gRPC channel options, (name, value) pairs.
    metadata: extra (key, value) pairs sent with every call.

    Every failed call raises an attnserve.errors.AttnServeError subclass
    chosen by the gRPC status code, with the server's message.
    """

    def __init__(self, target="localhost:8500", *, tls=None, token=None, timeout=30.0,
                 options=None, metadata=None):
        super().__init__(target, tls, token, timeout, options, metadata)
        if self._credentials is None:
            self._channel = grpc.insecure_channel(target, options=self._options)
        else:
            self._channel = grpc.secure_channel(target, self._credentials, options=self._options)
        self._stub = self._grpc.AttnServeStub(self._channel)
        request_cls, response_cls = _channel.health_messages()
        self._health = self._channel.unary_unary(
            _channel.HEALTH_CHECK, request_serializer=request_cls.SerializeToString,
            response_deserializer=response_cls.FromString)
        self._health_request = request_cls

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request, timeout):
        try:
            return method(request, timeout=self._timeout(timeout), metadata=self._metadata)
        except grpc.RpcError as e:
            raise errors.from_rpc_error(e) from None

    def classify(self, sequences, model, version=None, return_attention=True, top_k=0,
                 timeout=None, request_id="", ids=None):
        """Classifies one sequence or several with one model version.

        sequences: one [steps, features] array (or list of rows), or several:
            a [n, steps, features] array or a list of 2-D arrays (their
            lengths may differ). For a model that reads token ids: one list
            of ids (or 1-D integer array), or several with `ids=True` (a list
            of them, or a 2-D integer array [n, steps]).
        ids: the sequences are token ids (None: a flat list of integers or a
            1-D integer array is; anything else is values).
        model, version: the model; version None or 0 is its newest ready one.
        return_attention: ask for the attention maps.
        top_k: also report the k most probable outputs in each result's `top`.

        Returns a Result for one sequence, or Results (a list, one per
        sequence in order, with the response's model_version and server_us)
        for several.
        """
        arrays, single = _convert.as_sequences(sequences, ids)
        req = _convert.request(self._pb, arrays, model, version, return_attention, top_k,
                               request_id)
        results = _convert.results_from_response(self._call(self._stub.Classify, req, timeout),
                                                 arrays)
        return results[0] if single and len(results) == 1 else results

    def classify_stream(self, inputs, model, version=None, return_attention=True, top_k=0,
                        timeout=None, ids=None):
        """Classifies each item of `inputs` (each one sequence or several, as
        `classify` takes them) as one request of a ClassifyStream, sending them
        as they are produced. Yields a StreamAnswer per item, in completion
        order (`ids` as for `classify`): its `index` in `inputs`, and its
        result (a Result or Results)
        or the error the server answered that request with (the stream goes
        on). `timeout` bounds the whole stream.

        A local error in an item (not a [steps, features] array), or an
        exception raised by `inputs` itself, ends the stream after the answers
        already due; it is raised then. A failure of the stream itself raises
        its AttnServeError.
        """
        sent = {}            # request_id -> (index, arrays, single)
        problem = []         # a local error found while producing requests
        lock = threading.Lock()

        def requests():
            # Runs on gRPC's thread: a failure here is kept and raised to the
            # caller once the answers already due have been read.
            iterator = iter(inputs)
            index = 0
            while True:
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                except Exception as e:  # the caller's own iterator failed
                    problem.append(e)
                    return
                try:
                    arrays, single = _convert.as_sequences(item, ids)
                    req = _convert.request(self._pb, arrays, model, version, return_attention,
                                           top_k, request_id=str(index))
                except (ValueError, TypeError) as e:
                    problem.append(type(e)(f"classify_stream input {index}: {e}"))
                    return
                with lock:
                    sent[req.request_id] = (index, arrays, single)
                index += 1
                yield req

        call = self._stub.ClassifyStream(requests(), timeout=self._timeout(timeout),
                                         metadata=self._metadata)
        try:
            for response in call:
                with lock:
                    index, arrays, single = sent.pop(response.request_id)
                yield _stream_answer(response, index, arrays, single)
        except grpc.RpcError as e:
            raise errors.from_rpc_error(e) from None
        finally:
            call.cancel()  # no-op once the stream has ended; ends it if the caller stopped early
        if problem:
            raise problem[0]

    def models(self, timeout=None):
        """The models of the server's repository, each with its versions and their states."""
        response = self._call(self._stub.ListModels, self._pb.ListModelsRequest(), timeout)
        return _convert.models_from_message(response)

    def metadata(self, model, version=None, timeout=None):
        """ModelMetadata of one model version (None or 0: the newest ready one)."""
        req = self._pb.GetModelMetadataRequest(model=model, version=int(version or 0))
        return _convert.metadata_from_message(
            self._call(self._stub.GetModelMetadata, req, timeout))

    def health(self, service="", timeout=None):
        """grpc.health.v1 status of the server (service ""), of
        "attnserve.v1.AttnServe", or of a model by name: "SERVING",
        "NOT_SERVING", ... An unknown name raises errors.NotFound."""
        response = self._call(self._health, self._health_request(service=service), timeout)
        return _channel.health_status_name(response)


def _stream_answer(response, index, arrays, single):
    if response.HasField("status") and response.status.code != 0:
        return StreamAnswer(index, response.request_id,
                            error=errors.from_status(response.status.code,
                                                     response.status.message))
    results = _convert.results_from_response(response, arrays)
    return StreamAnswer(index, response.request_id,
                        result=results[0] if single and len(results) == 1 else results)
