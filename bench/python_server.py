#!/usr/bin/python3
"""What a user would otherwise write (bench only): a Python grpcio server that
answers attnserve.v1.AttnServe Classify with the PyTorch reference model.

It loads one model version directory with export.load_model (the same files
attnserve serves), and for each Classify call pads the request's sequences
into one tensor, runs the Classifier under torch.inference_mode() and answers
with probabilities, label, the temporal attention (when asked) and timing, like
attnserve. No batching across requests: each call runs alone on a thread of
the grpcio pool (--workers); PyTorch uses --torch_threads intra-op threads.
GetModelMetadata reports the input size and labels so attnbench can drive it.

The Python stubs are generated at start-up from proto/attnserve/v1 with
grpc_tools.protoc into a temporary directory. PyTorch gets OpenBLAS: when the
process does not have it mapped, it re-executes itself with
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp (see compare_torch.py).

  /usr/bin/python3 bench/python_server.py --model_dir=REPO/MODEL/1 [--model=NAME]
      [--port=18700] [--workers=2] [--torch_threads=1]
Prints "python_server: listening on HOST:PORT" once ready; stops on SIGTERM.
"""

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent import futures

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-openmp"


def ensure_openblas():
    """Re-executes with OpenBLAS first on the library path, once, if it exists."""
    if os.environ.get("ATTNSERVE_BENCH_REEXEC") or not os.path.isdir(OPENBLAS_DIR):
        return
    env = dict(os.environ, ATTNSERVE_BENCH_REEXEC="1",
               LD_LIBRARY_PATH=OPENBLAS_DIR + ":" + os.environ.get("LD_LIBRARY_PATH", ""))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def generate_stubs(out_dir):
    from grpc_tools import protoc
    proto_dir = os.path.join(REPO, "proto")
    rc = protoc.main(["grpc_tools.protoc", f"-I{proto_dir}", f"--python_out={out_dir}",
                      f"--grpc_python_out={out_dir}",
                      os.path.join(proto_dir, "attnserve", "v1", "attnserve.proto")])
    if rc != 0:
        sys.exit("python_server: protoc failed")
    sys.path.insert(0, out_dir)


def make_servicer(pb2, pb2_grpc, model, model_name):
    import numpy as np
    import torch

    spec = model.spec
    features = spec["input"]["size"]
    labels = spec["labels"]

    class Servicer(pb2_grpc.AttnServeServicer):
        def Classify(self, request, context):
            import grpc
            start = time.perf_counter()
            if request.model != model_name:
                context.abort(grpc.StatusCode.NOT_FOUND, f"unknown model {request.model!r}")
            seqs = [np.asarray(s.values, dtype=np.float32).reshape(-1, features)
                    for s in request.sequences]
            if not seqs or any(len(s) == 0 for s in seqs):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "empty request or sequence")
            lengths = [len(s) for s in seqs]
            x = np.zeros((len(seqs), max(lengths), features), dtype=np.float32)
            for i, s in enumerate(seqs):
                x[i, :len(s)] = s
            with torch.inference_mode():
                out, maps = model(torch.from_numpy(x), torch.tensor(lengths))
            probs = out.numpy()
            weights = maps.get("temporal")
            compute_us = int((time.perf_counter() - start) * 1e6)
            response = pb2.ClassifyResponse(request_id=request.request_id, model=model_name,
                                             model_version=1)
            for i, length in enumerate(lengths):
                best = int(probs[i].argmax())
                result = response.results.add(probabilities=probs[i].tolist(),
                                               label_index=best, label=labels[best])
                if request.return_attention and weights is not None:
                    result.attention.add(name="temporal", shape=[length],
                                         weights=weights[i, :length].numpy().tolist())
                result.timing.compute_us = compute_us
                result.timing.batch_size = len(seqs)
            response.server_us = int((time.perf_counter() - start) * 1e6)
            return response

        def GetModelMetadata(self, request, context):
            return pb2.ModelMetadata(name=model_name, version=1, input_size=features,
                                     labels=labels, output_activation=spec["head"]["output"],
                                     description="python_server (PyTorch reference)")

    return Servicer()


def main():
    ensure_openblas()
    p = argparse.ArgumentParser(description="Python grpcio + PyTorch baseline server")
    p.add_argument("--model_dir", required=True, help="model version directory")
    p.add_argument("--model", default="bench", help="model name it answers to")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=18700)
    p.add_argument("--workers", type=int, default=2, help="grpcio thread pool size")
    p.add_argument("--torch_threads", type=int, default=1, help="torch.set_num_threads")
    args = p.parse_args()

    import grpc
    import torch

    sys.path.insert(0, HERE)
    import bench_models

    torch.set_num_threads(args.torch_threads)
    model = bench_models.load_model(args.model_dir)
    with tempfile.TemporaryDirectory(prefix="attnserve_pystubs_") as stubs:
        generate_stubs(stubs)
        from attnserve.v1 import attnserve_pb2, attnserve_pb2_grpc
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers),
                             options=[("grpc.max_receive_message_length", 64 << 20)])
        attnserve_pb2_grpc.add_AttnServeServicer_to_server(
            make_servicer(attnserve_pb2, attnserve_pb2_grpc, model, args.model), server)
        address = f"{args.host}:{args.port}"
        if server.add_insecure_port(address) == 0:
            sys.exit(f"python_server: cannot listen on {address}")
        server.start()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        with open("/proc/self/maps") as maps:
            blas = sorted({ln.split()[-1] for ln in maps if "blas" in ln.split()[-1]})
        print(f"python_server: torch {torch.__version__}, {args.workers} workers, "
              f"{args.torch_threads} torch thread(s), BLAS {blas}", file=sys.stderr, flush=True)
        print(f"python_server: listening on {address}", flush=True)
        stop.wait()
        server.stop(grace=1).wait()


if __name__ == "__main__":
    main()
