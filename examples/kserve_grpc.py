#!/usr/bin/env python3
"""Classifies the demo samples over attnserve's KServe v2 gRPC API
(inference.GRPCInferenceService) with a client generated from the protocol's
proto, as for any Triton or KServe server; tensors travel as raw bytes.

    make serve                              # in another terminal (gRPC on 8500)
    python3 -m grpc_tools.protoc -I proto --python_out=. --grpc_python_out=. \\
        proto/kserve/v2/grpc_predict_v2.proto
    python3 examples/kserve_grpc.py         # --server HOST:PORT for another one
"""
import argparse
import json
import os
import sys

import grpc
import numpy as np

sys.path.insert(0, os.getcwd())  # where grpc_tools wrote kserve/v2/*_pb2*.py
from kserve.v2 import grpc_predict_v2_pb2 as pb  # noqa: E402
from kserve.v2 import grpc_predict_v2_pb2_grpc as pb_grpc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="localhost:8500", help="the gRPC host:port")
    args = parser.parse_args()
    with open(os.path.join(HERE, os.pardir, "client", "samples", "demo.json")) as f:
        samples = json.load(f)["sequences"]
    stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(args.server))
    print("server ready:", stub.ServerReady(pb.ServerReadyRequest()).ready)

    lengths = np.array([len(s["values"]) for s in samples], np.int32)
    batch = np.zeros((len(samples), lengths.max(), 4), np.float32)  # [B, T, D]
    for b, s in enumerate(samples):
        batch[b, :lengths[b]] = s["values"]
    request = pb.ModelInferRequest(model_name="demo")
    request.inputs.add(name="INPUT", datatype="FP32", shape=batch.shape)
    request.inputs.add(name="LENGTHS", datatype="INT32", shape=lengths.shape)
    request.raw_input_contents.extend([batch.tobytes(), lengths.tobytes()])  # little-endian
    request.outputs.add(name="PROBABILITIES")
    request.outputs.add(name="attention.temporal")
    request.parameters["top_k"].int64_param = 2
    response = stub.ModelInfer(request)

    outputs = {}
    for tensor, raw in zip(response.outputs, response.raw_output_contents):
        outputs[tensor.name] = np.frombuffer(raw, np.float32).reshape(tensor.shape)
    print("server_us:", response.parameters["server_us"].int64_param)
    for b, s in enumerate(samples):
        weights = outputs["attention.temporal"][b, :lengths[b]]  # strip the padding
        print(f"[{b}] p={outputs['PROBABILITIES'][b].round(3)} (expected {s['label']}) "
              f"attention peaks at step {int(weights.argmax())} (marked step {s['marked_step']})")


if __name__ == "__main__":
    main()
