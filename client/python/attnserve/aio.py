"""attnserve.aio.Client: the asyncio client (grpc.aio), same methods as
attnserve.Client, awaited:

    async with attnserve.aio.Client("localhost:8500") as client:
        result = await client.classify(x, "demo")
        async for answer in client.classify_stream(inputs, "demo"):
            ...
"""
import grpc
import grpc.aio

from attnserve import _channel, _convert, errors
from attnserve.client import _Base, _stream_answer


class Client(_Base):
    """An asyncio client of one attnserve server; the arguments are those of
    attnserve.Client. Create it inside the event loop that uses it."""

    def __init__(self, target="localhost:8500", *, tls=None, token=None, timeout=30.0,
                 options=None, metadata=None):
        super().__init__(target, tls, token, timeout, options, metadata)
        if self._credentials is None:
            self._channel = grpc.aio.insecure_channel(target, options=self._options)
        else:
            self._channel = grpc.aio.secure_channel(target, self._credentials,
                                                    options=self._options)
        self._stub = self._grpc.AttnServeStub(self._channel)
        request_cls, response_cls = _channel.health_messages()
        self._health = self._channel.unary_unary(
            _channel.HEALTH_CHECK, request_serializer=request_cls.SerializeToString,
            response_deserializer=response_cls.FromString)
        self._health_request = request_cls

    async def close(self):
        await self._channel.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def _call(self, method, request, timeout):
        try:
            return await method(request, timeout=self._timeout(timeout), metadata=self._metadata)
        except grpc.RpcError as e:  # grpc.aio.AioRpcError is one
            raise errors.from_rpc_error(e) from None

    async def classify(self, sequences, model, version=None, return_attention=True, top_k=0,
                       timeout=None, request_id="", ids=None):
        """As attnserve.Client.classify: a Result for one sequence, Results for several."""
        arrays, single = _convert.as_sequences(sequences, ids)
        req = _convert.request(self._pb, arrays, model, version, return_attention, top_k,
                               request_id)
        response = await self._call(self._stub.Classify, req, timeout)
        results = _convert.results_from_response(response, arrays)
        return results[0] if single and len(results) == 1 else results

    async def classify_stream(self, inputs, model, version=None, return_attention=True,
                              top_k=0, timeout=None, ids=None):
        """As attnserve.Client.classify_stream, as an async generator; `inputs`
        may be an iterable or an async iterable."""
        sent = {}
        problem = []

        async def items():
            if hasattr(inputs, "__aiter__"):
                async for item in inputs:
                    yield item
            else:
                for item in inputs:
                    yield item

        async def requests():
            index = 0
            iterator = items()
            while True:
                try:
                    item = await iterator.__anext__()
                except StopAsyncIteration:
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
                sent[req.request_id] = (index, arrays, single)
                index += 1
                yield req

        call = self._stub.ClassifyStream(requests(), timeout=self._timeout(timeout),
                                         metadata=self._metadata)
        try:
            async for response in call:
                index, arrays, single = sent.pop(response.request_id)
                yield _stream_answer(response, index, arrays, single)
        except grpc.RpcError as e:
            raise errors.from_rpc_error(e) from None
        finally:
            call.cancel()
        if problem:
            raise problem[0]

    async def models(self, timeout=None):
        response = await self._call(self._stub.ListModels, self._pb.ListModelsRequest(), timeout)
        return _convert.models_from_message(response)

    async def metadata(self, model, version=None, timeout=None):
        req = self._pb.GetModelMetadataRequest(model=model, version=int(version or 0))
        return _convert.metadata_from_message(
            await self._call(self._stub.GetModelMetadata, req, timeout))

    async def health(self, service="", timeout=None):
        response = await self._call(self._health, self._health_request(service=service), timeout)
        return _channel.health_status_name(response)
