#!/usr/bin/env python3
"""Admission for the Open Inference Protocol (KServe v2) against the real
server: one client identity across v1, KServe v2 gRPC and KServe v2 HTTP (the
x-attnserve-client header, else the peer address), deadlines (a gRPC call's
deadline and cancellation counted apart; HTTP's x-attnserve-timeout-ms header
and the `timeout` request parameter answered 504 and DEADLINE_EXCEEDED), and
overload refused before the request body is read.

Every server here keeps lone requests queued (batches of eight wait ten
minutes to fill), so what is queued is decided by the test alone: nothing
depends on timing but the 100 ms timeouts the deadline cases set themselves.
"""
import json
import sys
import time
import unittest
import urllib.error
import urllib.request

import grpc
import numpy as np

import harness

REPO = None
pb = pb_grpc = None
v1 = v1_grpc = None
# Batches of eight wait ten minutes: requests stay queued until the test
# fills a batch.
HOLDING = ["--max_batch_size=8", "--max_queue_delay_us=600000000", "--workers=1",
           "--shutdown_grace_s=0", "--http_port=-1", "--metrics=true", "--metrics_port=0"]


def setUpModule():
    global REPO, SAMPLE, pb, pb_grpc, v1, v1_grpc
    SAMPLE = np.asarray(harness.demo_samples()[0]["values"], np.float32)
    sys.path.insert(0, harness.ARGS.kserve_stubs)
    from kserve.v2 import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    from attnserve.v1 import attnserve_pb2, attnserve_pb2_grpc
    pb, pb_grpc = grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    v1, v1_grpc = attnserve_pb2, attnserve_pb2_grpc
    REPO = harness.Repository()


def tearDownModule():
    if REPO is not None:
        REPO.remove()


SAMPLE = None  # [T, D], a demo sample (read once the harness knows the source)


def v1_request(count):
    request = v1.ClassifyRequest(model="demo")
    for _ in range(count):
        seq = request.sequences.add()
        seq.values.extend(SAMPLE.reshape(-1).tolist())
        seq.features = SAMPLE.shape[1]
    return request


def v2_request(count, parameters=None):
    request = pb.ModelInferRequest(model_name="demo")
    batch = np.stack([SAMPLE] * count)
    request.inputs.add(name="INPUT", datatype="FP32", shape=list(batch.shape))
    request.raw_input_contents.append(batch.astype("<f4").tobytes())
    for key, value in (parameters or {}).items():
        request.parameters[key].int64_param = value
    return request


def http_infer(server, body, headers=None):
    """(status, error message or None) of one POST .../infer."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://{server.http_address}/v2/models/demo/infer", data=data, method="POST",
        headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())["error"]


def http_body(count, parameters=None):
    batch = np.stack([SAMPLE] * count)
    return {"inputs": [{"name": "INPUT", "datatype": "FP32", "shape": list(batch.shape),
                        "data": batch.reshape(-1).tolist()}],
            "parameters": dict(parameters or {})}


def metric(server, name, **labels):
    """The sum of the series of `name` whose labels include `labels`."""
    with urllib.request.urlopen(f"http://{server.metrics_address}/metrics", timeout=30) as r:
        text = r.read().decode()
    total = 0.0
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(w in line for w in wanted):
            total += float(line.rsplit(" ", 1)[1])
    return total


def await_metric(server, name, value, **labels):
    """Polls the metrics until the series reaches `value` (the server has
    answered or queued what the test sent); fails after a minute."""
    deadline = time.monotonic() + 60
    while True:
        seen = metric(server, name, **labels)
        if seen >= value:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}{labels} stayed at {seen}, expected {value}")


class ServerCase(unittest.TestCase):
    FLAGS = HOLDING

    def setUp(self):
        self.server = harness.Server(REPO, flags=self.FLAGS)
        self.channel = grpc.insecure_channel(self.server.address)
        self.v2 = pb_grpc.GRPCInferenceServiceStub(self.channel)
        self.v1 = v1_grpc.AttnServeStub(self.channel)

    def tearDown(self):
        self.channel.close()
        self.assertEqual(self.server.stop(), 0)

    def depth(self, value):
        return await_metric(self.server, "attnserve_queue_depth", value, model="demo")


class ClientIdentityTest(ServerCase):
    FLAGS = HOLDING + ["--max_queued_per_client=2"]

    def test_one_client_shares_one_limit_across_protocols(self):
        client_a = [("x-attnserve-client", "a")]
        queued = [self.v1.Classify.future(v1_request(2), metadata=client_a, timeout=60)]
        self.depth(2)
        limit = "this client already has 2 sequences waiting and asked for 1 more"
        # KServe v2 over gRPC, the same header: the same client, at its limit.
        with self.assertRaises(grpc.RpcError) as caught:
            self.v2.ModelInfer(v2_request(1), metadata=client_a, timeout=60)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertIn(limit, caught.exception.details())
        # And over HTTP.
        status, error = http_infer(self.server, http_body(1), {"x-attnserve-client": "a"})
        self.assertEqual((status, limit in error), (503, True), error)
        # Refused before its body was read: a body that is not even JSON is
        # refused for the client's share, not for the body.
        status, error = http_infer(self.server, b"{not json", {"x-attnserve-client": "a"})
        self.assertEqual(status, 503, error)
        self.assertIn("at most 2 may wait per client", error)
        # Another name is another client.
        queued.append(self.v2.ModelInfer.future(
            v2_request(1), metadata=[("x-attnserve-client", "b")], timeout=60))
        self.depth(3)
        # Without the header a client is its address, written the same way by
        # every protocol: v1's two sequences from 127.0.0.1 fill this
        # address's share for HTTP too.
        queued.append(self.v1.Classify.future(v1_request(2), timeout=60))
        self.depth(5)
        status, error = http_infer(self.server, http_body(1))
        self.assertEqual((status, limit in error), (503, True), error)
        with self.assertRaises(grpc.RpcError) as caught:
            self.v2.ModelInfer(v2_request(1), timeout=60)
        self.assertIn(limit, caught.exception.details())
        self.assertEqual(metric(self.server, "attnserve_rejected_total", model="demo",
                                reason="client_limit"), 5)
        self.assertEqual(metric(self.server, "attnserve_requests_total", model="demo",
                                protocol="kserve_http", code="UNAVAILABLE"), 3)
        # Three more clients fill a batch of eight: everything queued runs.
        for name, count in (("c", 2), ("d", 1)):
            queued.append(self.v1.Classify.future(
                v1_request(count), metadata=[("x-attnserve-client", name)], timeout=60))
        for call in queued:
            call.result()  # raises unless OK


class EarlyRefusalOffTest(ServerCase):
    FLAGS = HOLDING + ["--max_queued_per_client=2", "--refuse_before_decoding=false"]

    def test_without_early_refusal_the_body_is_read_first(self):
        queued = self.v1.Classify.future(v1_request(2), metadata=[("x-attnserve-client", "a")],
                                         timeout=60)
        self.depth(2)
        status, error = http_infer(self.server, b"{not json", {"x-attnserve-client": "a"})
        self.assertEqual((status, error), (400, "the request body is not valid JSON"))
        status, error = http_infer(self.server, http_body(1), {"x-attnserve-client": "a"})
        self.assertEqual(status, 503, error)
        queued.cancel()


class DeadlineTest(ServerCase):
    def test_a_grpc_deadline_is_deadline_exceeded_and_a_cancel_cancelled(self):
        for i in range(3):
            with self.assertRaises(grpc.RpcError) as caught:
                self.v2.ModelInfer(v2_request(1), timeout=0.1)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
            # Answered and counted before the next one (two would not make a
            # batch of eight, but the queue must be empty for the count).
            await_metric(self.server, "attnserve_requests_total", i + 1, model="demo",
                         protocol="kserve_grpc")
        call = self.v2.ModelInfer.future(v2_request(1), timeout=60)
        self.depth(1)
        call.cancel()
        await_metric(self.server, "attnserve_requests_total", 4, model="demo",
                     protocol="kserve_grpc")
        self.assertEqual(metric(self.server, "attnserve_requests_total", model="demo",
                                protocol="kserve_grpc", code="DEADLINE_EXCEEDED"), 3)
        self.assertEqual(metric(self.server, "attnserve_requests_total", model="demo",
                                protocol="kserve_grpc", code="CANCELLED"), 1)

    def test_the_timeout_parameter_drops_a_queued_grpc_request(self):
        # No gRPC deadline: the request's own timeout (microseconds, as
        # Triton's) ends it.
        with self.assertRaises(grpc.RpcError) as caught:
            self.v2.ModelInfer(v2_request(1, {"timeout": 100000}))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertIn("deadline passed while the request waited", caught.exception.details())
        self.assertEqual(metric(self.server, "attnserve_queue_depth", model="demo"), 0)

    def test_an_http_timeout_is_answered_504_and_its_work_dropped(self):
        status, error = http_infer(self.server, http_body(1), {"x-attnserve-timeout-ms": "100"})
        self.assertEqual(status, 504, error)
        self.assertIn("deadline", error)
        status, error = http_infer(self.server, http_body(2, {"timeout": 100000}))
        self.assertEqual(status, 504, error)
        # The sooner of the two counts.
        status, error = http_infer(self.server, http_body(1, {"timeout": 600000000}),
                                   {"x-attnserve-timeout-ms": "100"})
        self.assertEqual(status, 504, error)
        await_metric(self.server, "attnserve_requests_total", 3, model="demo",
                     protocol="kserve_http", code="DEADLINE_EXCEEDED")
        # Nothing of them is left queued.
        self.assertEqual(metric(self.server, "attnserve_queue_depth", model="demo"), 0)
        self.assertEqual(metric(self.server, "attnserve_requests_total", model="demo",
                                protocol="kserve_http"), 3)

    def test_a_bad_timeout_is_invalid(self):
        status, error = http_infer(self.server, http_body(1), {"x-attnserve-timeout-ms": "soon"})
        self.assertEqual(status, 400)
        self.assertEqual(error, "x-attnserve-timeout-ms 'soon' is not a timeout: give whole "
                                "milliseconds, 0 (none) or more")
        status, error = http_infer(self.server, http_body(1, {"timeout": -5}))
        self.assertEqual(status, 400)
        self.assertIn("parameter timeout must be the request's timeout in microseconds", error)
        with self.assertRaises(grpc.RpcError) as caught:
            self.v2.ModelInfer(v2_request(1, {"timeout": -1}), timeout=60)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)


if __name__ == "__main__":
    harness.main()
