"""Generates the attnserve gRPC stubs (attnserve/v1/*_pb2*.py) from proto/.

Used by setup.py when the package is built or installed; the generated files
are never kept in the repository, so they always match the .proto they are
built from.

Two compilers are supported, tried in this order:

- "protoc": the system `protoc` (Debian: protobuf-compiler) with
  `grpc_python_plugin` (Debian: protobuf-compiler-grpc). Preferred when its
  version is 3.19 or later: its output uses the descriptor-pool API that every
  protobuf runtime since 3.20 accepts (the C++, upb and pure-Python ones).
- "grpc_tools": `python3 -m grpc_tools.protoc` (Debian: python3-grpc-tools).
  Debian 12's bundles protoc 3.5.1, whose output works with Debian's protobuf
  runtime (C++ implementation) but uses descriptor constructors that newer
  runtimes deprecate or refuse.

ATTNSERVE_STUBGEN=protoc or ATTNSERVE_STUBGEN=grpc_tools picks one.

Also a command: python3 attnserve_stubgen.py PROTO_ROOT OUT_DIR [COMPILER]
"""
import os
import re
import shutil
import subprocess
import sys

PROTO = "attnserve/v1/attnserve.proto"
GENERATED = ("attnserve/v1/attnserve_pb2.py", "attnserve/v1/attnserve_pb2_grpc.py")
COMPILERS = ("protoc", "grpc_tools")
# Oldest protoc whose Python output every current protobuf runtime accepts.
MIN_PROTOC = (3, 19)


class StubgenError(RuntimeError):
    pass


def find_proto_root(package_dir):
    """The directory holding attnserve/v1/attnserve.proto for this checkout.

    ATTNSERVE_PROTO_DIR wins; then `proto/` next to setup.py (a copy placed
    there for a source archive); then the repository's `proto/` two levels up
    (client/python -> repository root).
    """
    candidates = []
    if os.environ.get("ATTNSERVE_PROTO_DIR"):
        candidates.append(os.environ["ATTNSERVE_PROTO_DIR"])
    candidates.append(os.path.join(package_dir, "proto"))
    candidates.append(os.path.join(package_dir, os.pardir, os.pardir, "proto"))
    for root in candidates:
        if os.path.isfile(os.path.join(root, PROTO)):
            return os.path.abspath(root)
    raise StubgenError(
        f"cannot find {PROTO}: looked in {', '.join(os.path.abspath(c) for c in candidates)} "
        "(install from the attnserve repository, or set ATTNSERVE_PROTO_DIR)")


def _protoc_version(protoc):
    try:
        out = subprocess.run([protoc, "--version"], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    m = re.search(r"(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _system_protoc():
    """(protoc, grpc_python_plugin) when both exist and protoc is recent, else None."""
    protoc = shutil.which("protoc")
    plugin = shutil.which("grpc_python_plugin")
    if not protoc or not plugin:
        return None
    version = _protoc_version(protoc)
    if version is None or version < MIN_PROTOC:
        return None
    return protoc, plugin


def _has_grpc_tools():
    try:
        import grpc_tools.protoc  # noqa: F401
    except ImportError:
        return False
    return True


def choose_compiler(requested=None):
    """The compiler to use: `requested`, ATTNSERVE_STUBGEN, or the first available."""
    requested = requested or os.environ.get("ATTNSERVE_STUBGEN") or None
    if requested is not None and requested not in COMPILERS:
        raise StubgenError(f"unknown stub compiler {requested!r} (one of {', '.join(COMPILERS)})")
    if requested in (None, "protoc") and _system_protoc():
        return "protoc"
    if requested in (None, "grpc_tools") and _has_grpc_tools():
        return "grpc_tools"
    if requested == "protoc":
        raise StubgenError(
            "ATTNSERVE_STUBGEN=protoc needs protoc >= 3.19 and grpc_python_plugin on PATH "
            "(Debian: apt-get install protobuf-compiler protobuf-compiler-grpc)")
    if requested == "grpc_tools":
        raise StubgenError("ATTNSERVE_STUBGEN=grpc_tools needs grpc_tools "
                           "(Debian: apt-get install python3-grpc-tools)")
    raise StubgenError(
        "no protobuf compiler for the gRPC stubs: install protoc >= 3.19 with "
        "grpc_python_plugin (Debian: apt-get install protobuf-compiler protobuf-compiler-grpc) "
        "or grpc_tools (Debian: apt-get install python3-grpc-tools)")


def generate(proto_root, out_dir, compiler=None):
    """Writes the stubs under out_dir/attnserve/v1/; returns the compiler used."""
    compiler = choose_compiler(compiler)
    v1 = os.path.join(out_dir, "attnserve", "v1")
    os.makedirs(v1, exist_ok=True)
    flags = [f"-I{proto_root}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
             os.path.join(proto_root, PROTO)]
    if compiler == "protoc":
        protoc, plugin = _system_protoc()
        argv = [protoc, f"--plugin=protoc-gen-grpc_python={plugin}"] + flags
    else:
        argv = [sys.executable, "-m", "grpc_tools.protoc"] + flags
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise StubgenError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr}")
    for name in GENERATED:
        if not os.path.isfile(os.path.join(out_dir, name)):
            raise StubgenError(f"{' '.join(argv)} did not write {name}")
    with open(os.path.join(v1, "__init__.py"), "w", encoding="utf-8") as f:
        f.write(f'"""attnserve.v1 gRPC stubs, generated from {PROTO} ({compiler})."""\n')
    return compiler


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    try:
        used = generate(argv[1], argv[2], argv[3] if len(argv) == 4 else None)
    except StubgenError as e:
        print(f"attnserve_stubgen: {e}", file=sys.stderr)
        return 1
    print(f"attnserve_stubgen: wrote {', '.join(GENERATED)} to {argv[2]} with {used}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
