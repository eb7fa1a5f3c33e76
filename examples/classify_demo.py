#!/usr/bin/env python3
"""Classifies the demo samples (client/samples/demo.json) with a running
attnserve and writes a picture of where the model looked for each.

    make serve                                   # in another terminal
    python3 examples/classify_demo.py            # writes demo-attention-<i>.png

Needs the attnserve Python package (pip install ./client/python, docs/python.md)
and matplotlib. Each sample carries the step that decides its class
("marked_step"); the demo model should put its attention there.
"""
import argparse
import json
import os
import sys

import numpy as np

import attnserve

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="localhost:8500", help="attnserve's host:port")
    parser.add_argument("--samples", default=os.path.join(HERE, os.pardir, "client", "samples",
                                                          "demo.json"))
    parser.add_argument("--output", default="demo-attention.png",
                        help="picture name; one per sample: NAME-0.png, NAME-1.png, ...")
    args = parser.parse_args()

    with open(args.samples, encoding="utf-8") as f:
        doc = json.load(f)
    model = doc.get("model", "demo")
    samples = doc["sequences"]
    sequences = [np.asarray(s["values"], dtype=np.float32) for s in samples]

    with attnserve.Client(args.server) as client:
        meta = client.metadata(model)
        print(f"{meta.name} v{meta.version}: {meta.encoder}, "
              f"attention {', '.join(meta.attention_blocks)}, labels {', '.join(meta.labels)}")
        try:
            results = client.classify(sequences, model, top_k=2)
        except attnserve.errors.AttnServeError as e:
            sys.exit(f"classify failed: {e}")

    stem, ext = os.path.splitext(args.output)
    right = 0
    for i, (sample, result) in enumerate(zip(samples, results)):
        temporal = result.attention["temporal"]
        peak = int(np.argmax(temporal))
        expected = sample.get("label")
        right += result.label == expected
        marked = sample.get("marked_step")
        print(f"[{i}] {result.label:5s} p={result.probability:.3f}  expected {expected:5s}  "
              f"attention peak at step {peak} ({temporal[peak]:.2f}), marked step {marked}")
        path = f"{stem}-{i}{ext or '.png'}"
        attnserve.plot_attention(result, expected=expected,
                                 feature_names=["mark", "f1", "f2", "f3"]).savefig(path)
        print(f"    picture: {path}")
    print(f"{right} of {len(samples)} as expected")
    return 0 if right == len(samples) else 1


if __name__ == "__main__":
    sys.exit(main())
