#!/usr/bin/env python3
"""Classifies the demo samples over attnserve's KServe v2 HTTP/REST API
(the Open Inference Protocol) with nothing but the standard library and
numpy: one request carries every sample, right-padded to the longest, with
LENGTHS saying how long each is.

    make serve                              # in another terminal (HTTP on 8000)
    python3 examples/kserve_http.py         # --server HOST:PORT for another one
"""
import argparse
import json
import os
import urllib.request

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="localhost:8000", help="the HTTP host:port")
    args = parser.parse_args()
    with open(os.path.join(HERE, os.pardir, "client", "samples", "demo.json")) as f:
        samples = json.load(f)["sequences"]

    lengths = [len(s["values"]) for s in samples]
    batch = np.zeros((len(samples), max(lengths), 4), np.float32)  # [B, T, D]
    for b, s in enumerate(samples):
        batch[b, :lengths[b]] = s["values"]
    request = {
        "inputs": [
            {"name": "INPUT", "datatype": "FP32", "shape": list(batch.shape),
             "data": batch.ravel().tolist()},
            {"name": "LENGTHS", "datatype": "INT32", "shape": [len(lengths)], "data": lengths},
        ],
        "outputs": [{"name": "LABEL"}, {"name": "PROBABILITIES"},
                    {"name": "attention.temporal"}],
    }
    call = urllib.request.Request(
        f"http://{args.server}/v2/models/demo/infer", data=json.dumps(request).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(call) as response:
        answer = json.load(response)

    out = {o["name"]: o for o in answer["outputs"]}
    probabilities = np.reshape(out["PROBABILITIES"]["data"], out["PROBABILITIES"]["shape"])
    attention = np.reshape(out["attention.temporal"]["data"], out["attention.temporal"]["shape"])
    for b, s in enumerate(samples):
        weights = attention[b, :lengths[b]]  # strip the padding
        print(f"[{b}] {out['LABEL']['data'][b]:5s} p={probabilities[b].max():.3f} "
              f"(expected {s['label']}) attention peaks at step {int(weights.argmax())} "
              f"(marked step {s['marked_step']})")


if __name__ == "__main__":
    main()
