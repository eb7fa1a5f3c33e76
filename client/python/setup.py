"""The attnserve Python client: pip install ./client/python (docs/python.md).

Building the package generates the gRPC stubs from the repository's
proto/attnserve/v1/attnserve.proto (attnserve_stubgen.py) into the build tree,
so an installed client always matches the API it was built from. Nothing is
downloaded: the dependencies are Debian's python3-grpcio, python3-protobuf and
python3-numpy (python3-matplotlib for plots), seen from a virtual environment
created with --system-site-packages.

The build works in a private temporary directory, so the source tree stays
clean and no file of an earlier build can end up in the package.
"""
import atexit
import os
import shutil
import sys
import tempfile

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import attnserve_stubgen  # noqa: E402  (next to this file)


def _version():
    with open(os.path.join(HERE, "attnserve", "_version.py"), encoding="utf-8") as f:
        scope = {}
        exec(f.read(), scope)  # one assignment: __version__ = "..."
        return scope["__version__"]


class BuildPyWithStubs(build_py):
    """build_py, then the stubs generated into the same build directory."""

    def run(self):
        super().run()
        if self.dry_run:
            return
        proto_root = attnserve_stubgen.find_proto_root(HERE)
        try:
            used = attnserve_stubgen.generate(proto_root, self.build_lib)
        except attnserve_stubgen.StubgenError as e:
            sys.exit(f"attnserve: cannot generate the gRPC stubs: {e}")
        self.announce(f"attnserve: generated the gRPC stubs from {proto_root} with {used}",
                      level=2)


_work = tempfile.mkdtemp(prefix="attnserve-build-")
atexit.register(shutil.rmtree, _work, ignore_errors=True)

setup(
    name="attnserve",
    version=_version(),
    description="Python client of attnserve: classification with attention weights over gRPC",
    long_description=(
        "Client for attnserve, the gRPC server of LSTM-with-attention sequence "
        "classifiers: numpy in, probabilities and per-timestep attention maps out, "
        "and matplotlib pictures of where the model looked."),
    python_requires=">=3.9",
    packages=["attnserve"],
    install_requires=["grpcio>=1.51", "protobuf>=3.20", "numpy>=1.21"],
    extras_require={"plot": ["matplotlib>=3.3"]},
    cmdclass={"build_py": BuildPyWithStubs},
    # Build and metadata directories outside the source tree (pip may still
    # pass its own --egg-base, which wins).
    options={
        "build": {"build_base": os.path.join(_work, "build")},
        "egg_info": {"egg_base": _work},
    },
    zip_safe=False,
)
