#!/usr/bin/env python3
"""The Open Inference Protocol (KServe v2) against the real server, the way a
Triton or KServe user talks to it: a gRPC client generated from
proto/kserve/v2/grpc_predict_v2.proto with grpc_tools (CMake generates it into
the build tree, --kserve_stubs), and plain HTTP with urllib.

Both transports run the same cases: health, metadata, ragged inference with
LENGTHS whose probabilities and attention are bit-identical to the v1 API's
for the same sequences (value and token-id models, one- and two-dimensional
maps), requested outputs only, every bad input (answered with the v1 API's
message where v1 has the same mistake), and a model loaded and unloaded
through the repository extension. The metrics count requests by protocol.
"""
import json
import math
import struct
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

import grpc
import numpy as np

import harness

SERVER = None
EXPLICIT = None
REPO = None
pb = pb_grpc = None
v1 = v1_grpc = None

MODELS = {"featseq": harness.PARITY_MODELS["featseq"],
          "window": harness.PARITY_MODELS["window"],
          "tokens": "uni1_emb_bahdanau_mix_luong"}


def setUpModule():
    global SERVER, EXPLICIT, REPO, pb, pb_grpc, v1, v1_grpc
    sys.path.insert(0, harness.ARGS.kserve_stubs)
    from kserve.v2 import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    from attnserve.v1 import attnserve_pb2, attnserve_pb2_grpc
    pb, pb_grpc = grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    v1, v1_grpc = attnserve_pb2, attnserve_pb2_grpc
    REPO = harness.Repository(parity=MODELS)
    SERVER = harness.Server(REPO, flags=["--http_port=-1", "--metrics=true", "--metrics_port=0"])
    EXPLICIT = harness.Server(REPO, flags=["--http_port=-1", "--model_control=explicit"])


def tearDownModule():
    for server in (SERVER, EXPLICIT):
        if server is not None:
            assert server.stop() == 0
    if REPO is not None:
        REPO.remove()


# ----------------------------------------------------------------- helpers

def http(server, method, path, body=None, headers=None):
    """(status, headers, body bytes) of one HTTP request."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/octet-stream"
                           if "Inference-Header-Content-Length" in headers else "application/json")
    request = urllib.request.Request(f"http://{server.http_address}{path}", data=data,
                                     method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def http_json(server, method, path, body=None):
    status, _, raw = http(server, method, path, body)
    return status, json.loads(raw)


def raw_of(array, datatype):
    return np.ascontiguousarray(array, dtype={"FP32": "<f4", "INT32": "<i4",
                                             "INT64": "<i8", "FP64": "<f8"}[datatype]).tobytes()


def padded(sequences, dtype=np.float32):
    """[B, T, ...] right-padded with zeros, and the lengths."""
    lengths = [len(s) for s in sequences]
    shape = (len(sequences), max(lengths)) + np.asarray(sequences[0]).shape[1:]
    out = np.zeros(shape, dtype)
    for b, s in enumerate(sequences):
        out[b, :len(s)] = s
    return out, np.asarray(lengths, np.int32)


class Transport:
    """One way of calling ModelInfer: gRPC (typed or raw contents) or HTTP
    (JSON data or binary tensors). infer() returns (outputs by name as
    numpy arrays, response parameters) or raises Refused."""

    def __init__(self, name):
        self.name = name


class Refused(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class GrpcTransport(Transport):
    def __init__(self, stub, raw):
        super().__init__("grpc raw" if raw else "grpc typed")
        self.stub, self.raw = stub, raw

    def infer(self, model, inputs, outputs=None, parameters=None, version=""):
        request = pb.ModelInferRequest(model_name=model, model_version=version, id="r1")
        for name, (datatype, array) in inputs.items():
            tensor = request.inputs.add(name=name, datatype=datatype, shape=list(array.shape))
            if self.raw:
                request.raw_input_contents.append(raw_of(array, datatype))
            else:
                flat = np.asarray(array).reshape(-1)
                field = {"FP32": "fp32_contents", "INT32": "int_contents",
                         "INT64": "int64_contents", "FP64": "fp64_contents"}[datatype]
                getattr(tensor.contents, field).extend(flat.tolist())
        for name in outputs or []:
            request.outputs.add(name=name)
        for key, value in (parameters or {}).items():
            if isinstance(value, bool):
                request.parameters[key].bool_param = value
            else:
                request.parameters[key].int64_param = value
        try:
            response = self.stub.ModelInfer(request, timeout=30)
        except grpc.RpcError as e:
            raise Refused(e.code().name, e.details()) from None
        assert response.id == "r1" and response.model_name == model
        assert len(response.raw_output_contents) == len(response.outputs)
        result = {}
        for tensor, raw in zip(response.outputs, response.raw_output_contents):
            if tensor.datatype == "BYTES":
                items, at = [], 0
                while at < len(raw):
                    (n,) = struct.unpack_from("<I", raw, at)
                    items.append(raw[at + 4:at + 4 + n].decode())
                    at += 4 + n
                result[tensor.name] = items
            else:
                dtype = {"FP32": "<f4", "INT32": "<i4"}[tensor.datatype]
                result[tensor.name] = np.frombuffer(raw, dtype).reshape(tuple(tensor.shape))
        parameters = {k: v.int64_param for k, v in response.parameters.items()}
        return result, parameters


class HttpTransport(Transport):
    def __init__(self, server, binary):
        super().__init__("http binary" if binary else "http json")
        self.server, self.binary = server, binary

    def infer(self, model, inputs, outputs=None, parameters=None, version=""):
        body = {"id": "r1", "inputs": [], "parameters": dict(parameters or {})}
        blobs = []
        for name, (datatype, array) in inputs.items():
            tensor = {"name": name, "datatype": datatype, "shape": list(np.shape(array))}
            if self.binary:
                blob = raw_of(array, datatype)
                tensor["parameters"] = {"binary_data_size": len(blob)}
                blobs.append(blob)
            else:
                tensor["data"] = np.asarray(array).tolist()
            body["inputs"].append(tensor)
        if outputs:
            body["outputs"] = [{"name": n, "parameters": {"binary_data": self.binary}}
                               for n in outputs]
        elif self.binary:
            body["parameters"]["binary_data_output"] = True
        header = json.dumps(body).encode()
        path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"
        extra = {"Inference-Header-Content-Length": str(len(header))} if self.binary else {}
        status, headers, raw = http(self.server, "POST", path, header + b"".join(blobs), extra)
        if status != 200:
            raise Refused(status, json.loads(raw)["error"])
        length = int(headers.get("Inference-Header-Content-Length", len(raw)))
        answer = json.loads(raw[:length])
        assert answer["id"] == "r1" and answer["model_name"] == model
        result, at = {}, length
        for tensor in answer["outputs"]:
            shape = tuple(tensor["shape"])
            if "data" in tensor:
                dtype = {"FP32": np.float32, "INT32": np.int32, "BYTES": object}[tensor["datatype"]]
                data = tensor["data"]
                result[tensor["name"]] = (data if dtype is object
                                          else np.asarray(data, dtype).reshape(shape))
            else:
                size = tensor["parameters"]["binary_data_size"]
                chunk = raw[at:at + size]
                at += size
                if tensor["datatype"] == "BYTES":
                    items, i = [], 0
                    while i < len(chunk):
                        (n,) = struct.unpack_from("<I", chunk, i)
                        items.append(chunk[i + 4:i + 4 + n].decode())
                        i += 4 + n
                    result[tensor["name"]] = items
                else:
                    dtype = {"FP32": "<f4", "INT32": "<i4"}[tensor["datatype"]]
                    result[tensor["name"]] = np.frombuffer(chunk, dtype).reshape(shape)
        assert at == len(raw), "binary outputs fill the body"
        return result, answer["parameters"]


# ------------------------------------------------------------------ tests

class KServeTestBase(unittest.TestCase):
    def setUp(self):
        self.channel = grpc.insecure_channel(SERVER.address)
        self.stub = pb_grpc.GRPCInferenceServiceStub(self.channel)
        self.v1 = v1_grpc.AttnServeStub(self.channel)
        self.transports = [GrpcTransport(self.stub, raw=False), GrpcTransport(self.stub, raw=True),
                           HttpTransport(SERVER, binary=False), HttpTransport(SERVER, binary=True)]

    def tearDown(self):
        self.channel.close()

    def v1_classify(self, model, sequences, ids=False, version=0):
        request = v1.ClassifyRequest(model=model, version=version, return_attention=True, top_k=2)
        for s in sequences:
            seq = request.sequences.add()
            if ids:
                seq.ids.extend(int(i) for i in s)
            else:
                s = np.asarray(s, np.float32)
                seq.values.extend(s.reshape(-1).tolist())
                seq.features = s.shape[1]
        return self.v1.Classify(request, timeout=30)

    def v1_error(self, model, sequences, version=0):
        with self.assertRaises(grpc.RpcError) as caught:
            self.v1_classify(model, sequences, version=version)
        return caught.exception.details()


class HealthAndMetadataTest(KServeTestBase):
    def test_health_over_grpc_and_http(self):
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest()).live)
        self.assertTrue(self.stub.ServerReady(pb.ServerReadyRequest()).ready)
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name="demo")).ready)
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name="demo", version="1")).ready)
        self.assertFalse(self.stub.ModelReady(pb.ModelReadyRequest(name="demo", version="9")).ready)
        self.assertFalse(self.stub.ModelReady(pb.ModelReadyRequest(name="nope")).ready)
        self.assertEqual(http_json(SERVER, "GET", "/v2/health/live"), (200, {"live": True}))
        self.assertEqual(http_json(SERVER, "GET", "/v2/health/ready"), (200, {"ready": True}))
        self.assertEqual(http_json(SERVER, "GET", "/v2/models/demo/ready")[0], 200)
        self.assertEqual(http_json(SERVER, "GET", "/v2/models/demo/versions/1/ready")[0], 200)
        status, body = http_json(SERVER, "GET", "/v2/models/nope/ready")
        self.assertEqual(status, 404)
        self.assertEqual(body["error"], self.v1_error("nope", [[[0, 0, 0, 1]]]))
        status, body = http_json(SERVER, "GET", "/v2/no/such/path")
        self.assertEqual((status, body), (404, {"error": "no such endpoint: GET /v2/no/such/path"}))

    def test_server_metadata(self):
        m = self.stub.ServerMetadata(pb.ServerMetadataRequest())
        self.assertEqual(m.name, "attnserve")
        self.assertIn("model_repository", m.extensions)
        status, body = http_json(SERVER, "GET", "/v2")
        self.assertEqual(status, 200)
        self.assertEqual(body, {"name": "attnserve", "version": m.version,
                                "extensions": list(m.extensions)})

    def test_model_metadata_lists_tensors_with_variable_dimensions(self):
        m = self.stub.ModelMetadata(pb.ModelMetadataRequest(name="featseq"))
        self.assertEqual(list(m.versions), ["1"])
        tensors = {t.name: (t.datatype, list(t.shape)) for t in m.inputs}
        self.assertEqual(tensors, {"INPUT": ("FP32", [-1, -1, 4]), "LENGTHS": ("INT32", [-1])})
        outputs = {t.name: (t.datatype, list(t.shape)) for t in m.outputs}
        self.assertEqual(outputs["PROBABILITIES"][0], "FP32")
        self.assertEqual(outputs["PROBABILITIES"][1][0], -1)
        self.assertEqual(outputs["LABEL"], ("BYTES", [-1]))
        self.assertEqual(outputs["LABEL_INDEX"], ("INT32", [-1]))
        self.assertEqual(outputs["attention.feature"], ("FP32", [-1, -1, 4]))
        self.assertEqual(outputs["attention.temporal"], ("FP32", [-1, -1]))
        tokens = self.stub.ModelMetadata(pb.ModelMetadataRequest(name="tokens", version="1"))
        self.assertEqual([(t.name, t.datatype, list(t.shape)) for t in tokens.inputs][0],
                         ("INPUT", "INT64", [-1, -1]))
        status, body = http_json(SERVER, "GET", "/v2/models/featseq/versions/1")
        self.assertEqual(status, 200)
        self.assertEqual({t["name"]: (t["datatype"], t["shape"]) for t in body["outputs"]},
                         outputs)
        self.assertEqual(body["platform"], m.platform)
        # The model's own details ride in the metadata's optional parameters
        # (HTTP only: the gRPC message has no such field).
        self.assertEqual(body["parameters"], {
            "version": "1", "description": body["parameters"]["description"],
            "input": "values", "features": 4, "max_sequence_length": 512, "window": 0,
            "labels": ["class_0", "class_1", "class_2"], "output_activation": "softmax",
            "encoder": "lstm 1x12", "attention_blocks": ["feature", "additive"],
            "precision": "f32", "version_labels": []})
        status, body = http_json(SERVER, "GET", "/v2/models/tokens")
        self.assertEqual(status, 200)
        self.assertEqual((body["parameters"]["input"], body["parameters"]["vocab"],
                          body["parameters"]["features"], body["parameters"]["labels"],
                          body["parameters"]["attention_blocks"]),
                         ("token_ids", 12, 1, ["class_0", "class_1"], ["bahdanau"]))
        status, body = http_json(SERVER, "GET", "/v2/models/window")
        self.assertEqual(body["parameters"]["window"], 7)
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.ModelMetadata(pb.ModelMetadataRequest(name="nope"))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(http_json(SERVER, "GET", "/v2/models/nope")[0], 404)


class InferTest(KServeTestBase):
    def check_like_v1(self, model, sequences, ids=False):
        """Every transport's answer for `sequences` (padded, with LENGTHS)
        equals the v1 API's for the same sequences, bit for bit."""
        reference = self.v1_classify(model, sequences, ids=ids)
        if ids:
            batch, lengths = padded([np.asarray(s, np.int64) for s in sequences], np.int64)
        else:
            batch, lengths = padded([np.asarray(s, np.float32) for s in sequences])
        for transport in self.transports:
            for datatype in (["INT64", "INT32"] if ids else ["FP32"]):
                with self.subTest(transport=transport.name, datatype=datatype):
                    outputs, parameters = transport.infer(
                        model, {"INPUT": (datatype, batch), "LENGTHS": ("INT32", lengths)},
                        parameters={"top_k": 2})
                    self.assertGreater(parameters["server_us"], 0)
                    self.assertGreaterEqual(parameters["batch_size"], 1)
                    probabilities = np.array([r.probabilities for r in reference.results],
                                             np.float32)
                    np.testing.assert_array_equal(outputs["PROBABILITIES"], probabilities)
                    self.assertEqual(outputs["LABEL"], [r.label for r in reference.results])
                    self.assertEqual(outputs["LABEL_INDEX"].tolist(),
                                     [r.label_index for r in reference.results])
                    self.assertEqual(outputs["TOP_K_INDICES"].tolist(),
                                     [[t.index for t in r.top] for r in reference.results])
                    np.testing.assert_array_equal(
                        outputs["TOP_K_PROBABILITIES"],
                        np.array([[t.probability for t in r.top] for r in reference.results],
                                 np.float32))
                    names = [a.name for a in reference.results[0].attention]
                    self.assertEqual(sorted(n for n in outputs if n.startswith("attention.")),
                                     sorted("attention." + n for n in names))
                    for m, name in enumerate(names):
                        tensor = outputs["attention." + name]
                        self.assertEqual(tensor.shape[0], len(sequences))
                        for b, r in enumerate(reference.results):
                            shape = tuple(r.attention[m].shape)
                            expected = np.array(r.attention[m].weights, np.float32).reshape(shape)
                            # The row's own extent, the rest zero padding.
                            window = (b,) + tuple(slice(0, n) for n in shape)
                            np.testing.assert_array_equal(tensor[window], expected)
                            rest = tensor[b].copy()
                            rest[tuple(slice(0, n) for n in shape)] = 0
                            self.assertFalse(rest.any(), "padding is zero")
                        # Padded to the batch's longest.
                        self.assertEqual(tensor.shape[1],
                                         max(r.attention[m].shape[0] for r in reference.results))

    def test_ragged_batch_matches_v1_demo(self):
        samples = [np.asarray(s["values"], np.float32) for s in harness.demo_samples()[:5]]
        self.assertGreater(len({len(s) for s in samples}), 1, "the samples differ in length")
        self.check_like_v1("demo", samples)

    def test_two_dimensional_maps_match_v1(self):
        cases = harness.Cases(MODELS["featseq"])
        self.check_like_v1("featseq", cases.sequences()[:4])

    def test_windowed_model_matches_v1(self):
        cases = harness.Cases(MODELS["window"])
        self.check_like_v1("window", cases.sequences()[:3])

    def test_token_ids_match_v1(self):
        rng = np.random.default_rng(7)
        sequences = [rng.integers(0, 12, size=n) for n in (5, 9, 2)]
        self.check_like_v1("tokens", sequences, ids=True)

    def test_without_lengths_every_row_has_t_steps(self):
        batch = np.asarray([s["values"][:6] for s in harness.demo_samples()[:2]], np.float32)
        self.assertEqual(batch.shape, (2, 6, 4))
        reference = self.v1_classify("demo", list(batch))
        for transport in self.transports:
            with self.subTest(transport=transport.name):
                outputs, _ = transport.infer("demo", {"INPUT": ("FP32", batch)})
                np.testing.assert_array_equal(
                    outputs["PROBABILITIES"],
                    np.array([r.probabilities for r in reference.results], np.float32))
                self.assertEqual(outputs["attention.temporal"].shape, (2, 6))

    def test_requested_outputs_only_and_in_order(self):
        batch = np.asarray([harness.demo_samples()[0]["values"]], np.float32)
        for transport in self.transports:
            with self.subTest(transport=transport.name):
                outputs, _ = transport.infer("demo", {"INPUT": ("FP32", batch)},
                                             outputs=["attention.temporal", "LABEL"])
                self.assertEqual(list(outputs), ["attention.temporal", "LABEL"])
                outputs, _ = transport.infer("demo", {"INPUT": ("FP32", batch)},
                                             parameters={"return_attention": False})
                self.assertEqual(list(outputs), ["PROBABILITIES", "LABEL", "LABEL_INDEX"])

    def test_version_and_label(self):
        batch = np.asarray([harness.demo_samples()[0]["values"]], np.float32)
        for transport in self.transports:
            with self.subTest(transport=transport.name):
                transport.infer("demo", {"INPUT": ("FP32", batch)}, version="1")
                with self.assertRaises(Refused) as caught:
                    transport.infer("demo", {"INPUT": ("FP32", batch)}, version="7")
                self.assertIn(caught.exception.code, ("NOT_FOUND", 404))
                self.assertEqual(caught.exception.message,
                                 self.v1_error("demo", [batch[0]], version=7))


class BadInputTest(KServeTestBase):
    """Every bad input is refused with INVALID_ARGUMENT (HTTP 400) or
    NOT_FOUND (404), saying what is wrong; never answered, never a crash."""

    GOOD = np.zeros((2, 3, 4), np.float32)
    LENGTHS = np.asarray([3, 2], np.int32)

    def refused(self, transport, model, inputs, outputs=None, parameters=None):
        with self.assertRaises(Refused) as caught:
            transport.infer(model, inputs, outputs=outputs, parameters=parameters)
        code = caught.exception.code
        self.assertIn(code, ("INVALID_ARGUMENT", 400, "NOT_FOUND", 404), caught.exception)
        return caught.exception.message

    def for_each(self, check):
        for transport in self.transports:
            with self.subTest(transport=transport.name):
                check(transport)

    def test_same_messages_as_v1(self):
        wide = np.zeros((1, 3, 5), np.float32)
        nan = np.ones((1, 3, 4), np.float32)
        nan[0, 1, 2] = np.nan
        inf = np.ones((1, 3, 4), np.float32)
        inf[0, 2, 3] = np.inf
        v1_wide = self.v1_error("demo", [wide[0]])
        v1_nan = self.v1_error("demo", [nan[0]])
        v1_inf = self.v1_error("demo", [inf[0]])
        v1_model = self.v1_error("nope", [wide[0]])
        self.assertEqual(v1_wide, "sequence 0: has 5 features; the model takes 4 per step")

        def check(t):
            self.assertEqual(self.refused(t, "demo", {"INPUT": ("FP32", wide)}), v1_wide)
            self.assertEqual(self.refused(t, "nope", {"INPUT": ("FP32", wide)}), v1_model)
            if t.name != "http json":  # JSON cannot carry NaN or infinity; see below
                self.assertEqual(self.refused(t, "demo", {"INPUT": ("FP32", nan)}), v1_nan)
                self.assertEqual(self.refused(t, "demo", {"INPUT": ("FP32", inf)}), v1_inf)
        self.for_each(check)
        # In JSON a number beyond FP32's range is infinite: refused as infinite.
        body = {"inputs": [{"name": "INPUT", "datatype": "FP32", "shape": [1, 3, 4],
                            "data": [1] * 11 + [1e39]}]}
        self.assertEqual(http_json(SERVER, "POST", "/v2/models/demo/infer", body),
                         (400, {"error": v1_inf}))
        status, answer = http(SERVER, "POST", "/v2/models/demo/infer", b'{"inputs": [NaN]}')[::2]
        self.assertEqual((status, json.loads(answer)),
                         (400, {"error": "the request body is not valid JSON"}))
        # A large body sent form-encoded (curl -d's default) is refused saying why.
        large = json.dumps(body).encode() + b" " * 9000
        status, _, answer = http(SERVER, "POST", "/v2/models/demo/infer", large,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 413)
        self.assertIn("send Content-Type: application/json", json.loads(answer)["error"])

    def test_wrong_datatype(self):
        def check(t):
            self.assertEqual(self.refused(t, "demo", {"INPUT": ("FP64", self.GOOD)}),
                             "input INPUT: datatype is FP64; the model takes FP32")
            self.assertEqual(
                self.refused(t, "demo", {"INPUT": ("FP32", self.GOOD),
                                         "LENGTHS": ("INT64", self.LENGTHS.astype(np.int64))}),
                "input LENGTHS: datatype is INT64; it must be INT32")
            self.assertEqual(self.refused(t, "tokens", {"INPUT": ("FP32", self.GOOD[:, :, 0])}),
                             "input INPUT: datatype is FP32; the model reads token ids: INT32 or "
                             "INT64")
        self.for_each(check)
        # A datatype the protocol does not define.
        body = {"inputs": [{"name": "INPUT", "datatype": "FLOAT", "shape": [1, 1, 4],
                            "data": [0, 0, 0, 1]}]}
        status, answer = http_json(SERVER, "POST", "/v2/models/demo/infer", body)
        self.assertEqual(status, 400)
        self.assertTrue(answer["error"].startswith(
            "input INPUT: 'FLOAT' is not a datatype of the protocol"), answer)

    def test_wrong_shape(self):
        def check(t):
            self.assertEqual(
                self.refused(t, "demo", {"INPUT": ("FP32", self.GOOD[0])}),
                "input INPUT: shape [3, 4] has 2 dimensions; the model takes [B, T, D] (D = 4)")
            self.assertEqual(
                self.refused(t, "demo", {"INPUT": ("FP32", self.GOOD),
                                         "LENGTHS": ("INT32", self.LENGTHS[:1])}),
                "input LENGTHS: shape [1] must be [B] = [2] (one length per row of INPUT)")
        self.for_each(check)

    def test_element_count_and_raw_byte_size(self):
        request = pb.ModelInferRequest(model_name="demo")
        request.inputs.add(name="INPUT", datatype="FP32", shape=[1, 3, 4])
        request.raw_input_contents.append(b"\0" * 44)
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.ModelInfer(request, timeout=30)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(caught.exception.details(),
                         "input INPUT: raw contents have 44 bytes; shape [1, 3, 4] of FP32 needs "
                         "48 (12 x 4)")
        request = pb.ModelInferRequest(model_name="demo")
        tensor = request.inputs.add(name="INPUT", datatype="FP32", shape=[1, 3, 4])
        tensor.contents.fp32_contents.extend([0.0] * 11)
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.ModelInfer(request, timeout=30)
        self.assertEqual(caught.exception.details(),
                         "input INPUT: has 11 elements; shape [1, 3, 4] needs 12")
        # HTTP binary: the declared size is not the tensor's.
        header = json.dumps({"inputs": [{"name": "INPUT", "datatype": "FP32", "shape": [1, 3, 4],
                                         "parameters": {"binary_data_size": 44}}]}).encode()
        status, _, raw = http(SERVER, "POST", "/v2/models/demo/infer", header + b"\0" * 44,
                              {"Inference-Header-Content-Length": str(len(header))})
        self.assertEqual((status, json.loads(raw)["error"]),
                         (400, "input INPUT: raw contents have 44 bytes; shape [1, 3, 4] of FP32 "
                               "needs 48 (12 x 4)"))
        # ... or the body holds more than the inputs declare.
        status, _, raw = http(SERVER, "POST", "/v2/models/demo/infer", header + b"\0" * 48,
                              {"Inference-Header-Content-Length": str(len(header))})
        self.assertEqual((status, json.loads(raw)["error"]),
                         (400, "the body has 48 bytes of binary data; the inputs' "
                               "binary_data_size add up to 44"))
        # JSON data of the wrong kind.
        body = {"inputs": [{"name": "INPUT", "datatype": "FP32", "shape": [1, 1, 4],
                            "data": [0, "x", 0, 1]}]}
        self.assertEqual(http_json(SERVER, "POST", "/v2/models/demo/infer", body),
                         (400, {"error": 'input INPUT: element 1 ("x") is not a number'}))
        # Typed contents in a field other than the datatype's.
        request = pb.ModelInferRequest(model_name="demo")
        tensor = request.inputs.add(name="INPUT", datatype="FP32", shape=[1, 1, 4])
        tensor.contents.fp64_contents.extend([0.0] * 4)
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.ModelInfer(request, timeout=30)
        self.assertEqual(caught.exception.details(),
                         "input INPUT: FP32 contents belong in fp32_contents, not in fp64_contents")

    def test_lengths_out_of_range(self):
        def check(t):
            for bad in (0, 4, -1):
                lengths = np.asarray([3, bad], np.int32)
                self.assertEqual(
                    self.refused(t, "demo", {"INPUT": ("FP32", self.GOOD),
                                             "LENGTHS": ("INT32", lengths)}),
                    f"input LENGTHS: LENGTHS[1] is {bad}; a length must be in [1, 3] (T, "
                    "INPUT's second dimension)")
        self.for_each(check)

    def test_unknown_names_and_parameters(self):
        def check(t):
            message = self.refused(t, "demo", {"INPUT": ("FP32", self.GOOD)}, outputs=["SCORES"])
            self.assertEqual(message, "unknown output 'SCORES'; the model returns PROBABILITIES, "
                             "LABEL, LABEL_INDEX, TOP_K_INDICES, TOP_K_PROBABILITIES, "
                             "attention.temporal")
            self.assertEqual(self.refused(t, "demo", {"INPUT": ("FP32", self.GOOD)},
                                          outputs=["TOP_K_INDICES"]),
                             "output TOP_K_INDICES needs the request parameter top_k (1 or more)")
            self.assertEqual(self.refused(t, "demo", {"X": ("FP32", self.GOOD)}),
                             "unknown input 'X'; the model takes INPUT and optionally LENGTHS")
            self.assertEqual(self.refused(t, "demo", {"INPUT": ("FP32", self.GOOD)},
                                          parameters={"top_k": -2}),
                             "parameter top_k is -2; it must be 0 or more")
        self.for_each(check)

    def test_token_ids_outside_the_vocabulary(self):
        ids = np.asarray([[1, 2, 12]], np.int64)
        v1_message = self.v1_error_ids("tokens", [[1, 2, 12]])
        self.assertEqual(v1_message, "sequence 0: step 2: token id 12 is outside the vocabulary "
                         "[0, 12)")

        def check(t):
            self.assertEqual(self.refused(t, "tokens", {"INPUT": ("INT64", ids)}), v1_message)
        self.for_each(check)

    def v1_error_ids(self, model, sequences):
        with self.assertRaises(grpc.RpcError) as caught:
            self.v1_classify(model, sequences, ids=True)
        return caught.exception.details()


class RepositoryTest(unittest.TestCase):
    """--model_control=explicit: models load and unload through the
    repository extension, over gRPC and over HTTP."""

    def test_load_and_unload(self):
        channel = grpc.insecure_channel(EXPLICIT.address)
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        try:
            def index():
                return {(m.name, m.version): m.state
                        for m in stub.RepositoryIndex(pb.RepositoryIndexRequest()).models}

            self.assertEqual(index()[("demo", "")], "UNLOADED")
            self.assertFalse(stub.ModelReady(pb.ModelReadyRequest(name="demo")).ready)
            stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name="demo"), timeout=60)
            self.assertTrue(stub.ModelReady(pb.ModelReadyRequest(name="demo")).ready)
            self.assertEqual(index()[("demo", "1")], "READY")
            ready = stub.RepositoryIndex(pb.RepositoryIndexRequest(ready=True)).models
            self.assertEqual([(m.name, m.version) for m in ready], [("demo", "1")])
            stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name="demo"),
                                       timeout=60)
            self.assertFalse(stub.ModelReady(pb.ModelReadyRequest(name="demo")).ready)
            with self.assertRaises(grpc.RpcError) as caught:
                stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name="nope"),
                                         timeout=60)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)

            # The same over HTTP.
            self.assertEqual(http_json(EXPLICIT, "POST", "/v2/repository/models/featseq/load", {}),
                             (200, {}))
            self.assertEqual(http_json(EXPLICIT, "GET", "/v2/models/featseq/ready")[0], 200)
            status, entries = http_json(EXPLICIT, "POST", "/v2/repository/index", {"ready": True})
            self.assertEqual((status, entries),
                             (200, [{"name": "featseq", "version": "1", "state": "READY",
                                     "reason": ""}]))
            self.assertEqual(
                http_json(EXPLICIT, "POST", "/v2/repository/models/featseq/unload", {}), (200, {}))
            self.assertEqual(http_json(EXPLICIT, "GET", "/v2/models/featseq/ready")[0], 404)
            status, body = http_json(EXPLICIT, "POST", "/v2/repository/models/nope/load", {})
            self.assertEqual(status, 404)
            self.assertIn("nope", body["error"])
        finally:
            channel.close()


class MetricsTest(KServeTestBase):
    def test_requests_are_counted_by_protocol(self):
        batch = np.asarray([harness.demo_samples()[0]["values"]], np.float32)
        for transport in self.transports:
            transport.infer("demo", {"INPUT": ("FP32", batch)})
        self.v1_classify("demo", [batch[0]])
        with urllib.request.urlopen(f"http://{SERVER.metrics_address}/metrics", timeout=30) as r:
            text = r.read().decode()
        counts = {}
        for line in text.splitlines():
            if line.startswith("attnserve_requests_total{") and 'model="demo"' in line \
                    and 'code="OK"' in line:
                protocol = line.split('protocol="')[1].split('"')[0]
                counts[protocol] = float(line.rsplit(" ", 1)[1])
        self.assertEqual(set(counts), {"v1", "kserve_grpc", "kserve_http"})
        # At least this test's calls (other tests of this module may have run).
        self.assertGreaterEqual(counts["kserve_grpc"], 2)
        self.assertGreaterEqual(counts["kserve_http"], 2)
        self.assertGreaterEqual(counts["v1"], 1)
        self.assertFalse(math.isnan(sum(counts.values())))


class AccessTest(unittest.TestCase):
    """With bearer tokens (--auth_token_file, --auth_inference) the KServe v2
    calls are checked like v1's: inference and metadata need the token over
    gRPC (authorization metadata) and HTTP (Authorization header), the
    repository needs it too; health and readiness stay open."""

    TOKEN = "kserve-test-token-0123456789"

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.tokens = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        cls.tokens.write(f"{cls.TOKEN}\n")
        cls.tokens.close()
        cls.server = harness.Server(REPO, flags=["--http_port=-1", f"--auth_token_file={cls.tokens.name}",
                                                 "--auth_inference"])

    @classmethod
    def tearDownClass(cls):
        import os
        assert cls.server.stop() == 0
        os.unlink(cls.tokens.name)

    def test_grpc(self):
        with grpc.insecure_channel(self.server.address) as channel:
            stub = pb_grpc.GRPCInferenceServiceStub(channel)
            self.assertTrue(stub.ServerReady(pb.ServerReadyRequest()).ready)  # open
            request = pb.ModelInferRequest(model_name="demo")
            request.inputs.add(name="INPUT", datatype="FP32", shape=[1, 1, 4])
            request.raw_input_contents.append(raw_of(np.ones((1, 1, 4)), "FP32"))
            for call, message in ((stub.ModelInfer, request),
                                  (stub.ModelMetadata, pb.ModelMetadataRequest(name="demo")),
                                  (stub.RepositoryIndex, pb.RepositoryIndexRequest())):
                with self.assertRaises(grpc.RpcError) as caught:
                    call(message, timeout=30)
                self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
                call(message, timeout=30, metadata=[("authorization", f"Bearer {self.TOKEN}")])

    def test_http(self):
        server = self.server
        self.assertEqual(http_json(server, "GET", "/v2/health/ready")[0], 200)  # open
        self.assertEqual(http_json(server, "GET", "/v2/models/demo/ready")[0], 200)
        body = {"inputs": [{"name": "INPUT", "datatype": "FP32", "shape": [1, 1, 4],
                            "data": [0, 0, 0, 1]}]}
        for method, path, data in (("POST", "/v2/models/demo/infer", body),
                                   ("GET", "/v2/models/demo", None),
                                   ("POST", "/v2/repository/index", {})):
            status, _, raw = http(server, method, path, data)
            self.assertEqual(status, 401, raw)
            self.assertIn("bearer token", json.loads(raw)["error"])
            status, _, raw = http(server, method, path, data,
                                  {"Authorization": f"Bearer {self.TOKEN}"})
            self.assertEqual(status, 200, raw)


class ExamplesTest(unittest.TestCase):
    """examples/kserve_http.py and kserve_grpc.py (docs/kserve.md) run as their
    docstrings say, the gRPC one beside the stubs grpc_tools generated."""

    def run_example(self, name, server, cwd=None):
        done = subprocess.run([sys.executable, harness.source("examples", name),
                               f"--server={server}"], cwd=cwd, capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = [l for l in done.stdout.splitlines() if l.startswith("[")]
        self.assertEqual(len(lines), len(harness.demo_samples()))
        for line in lines:  # the demo model looks at the marked step
            peak = line.split("attention peaks at step ")[1].split(" ")[0]
            self.assertIn(f"(marked step {peak})", line)
        return lines

    def test_http_example(self):
        lines = self.run_example("kserve_http.py", SERVER.http_address)
        for line, sample in zip(lines, harness.demo_samples()):
            self.assertIn(f"(expected {sample['label']})", line)
            self.assertTrue(line.split("] ")[1].startswith(sample["label"]), line)

    def test_grpc_example(self):
        self.run_example("kserve_grpc.py", SERVER.address, cwd=harness.ARGS.kserve_stubs)


if __name__ == "__main__":
    harness.main()
