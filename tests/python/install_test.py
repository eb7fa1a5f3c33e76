#!/usr/bin/env python3
"""Installing the Python client as docs/python.md says, offline, and its stubs.

- `python3 -m venv --system-site-packages V` then `V/bin/pip install
  ./client/python` with pip forbidden to use any index (PIP_NO_INDEX=1): the
  package installs from Debian's grpcio, protobuf and numpy, and in that
  fresh environment it classifies a demo sample against the real server and
  its plot command runs. The source tree is left as it was.
- The stubs are generated, never kept: each supported compiler (system protoc
  with grpc_python_plugin, and grpc_tools) turns the current proto into stubs
  that import and describe exactly proto/attnserve/v1/attnserve.proto; the
  build tree's installed package (the one the other tests use) is not stale.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from google.protobuf import descriptor_pb2

import harness

SERVER = None
REPO = None


def setUpModule():
    global SERVER, REPO
    REPO = harness.Repository()
    SERVER = harness.Server(REPO)


def tearDownModule():
    if SERVER is not None:
        assert SERVER.stop() == 0
    if REPO is not None:
        REPO.remove()


def offline_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def tree(path):
    """Every file and directory under `path`, relative."""
    out = set()
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            out.add(os.path.relpath(os.path.join(root, name), path))
    return out


def proto_descriptor():
    """The FileDescriptorProto protoc makes of the current proto."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "set.pb")
        subprocess.run(["protoc", f"-I{harness.source('proto')}", f"--descriptor_set_out={out}",
                        "attnserve/v1/attnserve.proto"], check=True, timeout=60)
        with open(out, "rb") as f:
            fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    return normalized(fds.file[0])


def normalized(file_proto):
    """Without json_name, which only some protoc versions fill in."""
    for message in file_proto.message_type:
        for field in message.field:
            field.ClearField("json_name")
    return file_proto


DESCRIBE = """
import json, sys
from attnserve.v1 import attnserve_pb2, attnserve_pb2_grpc
sys.stdout.write(json.dumps({
    "descriptor": attnserve_pb2.DESCRIPTOR.serialized_pb.hex(),
    "module": attnserve_pb2.__file__,
    "servicer": sorted(m for m in dir(attnserve_pb2_grpc.AttnServeServicer)
                       if not m.startswith("_")),
}))
"""


class InstallTest(unittest.TestCase):
    def test_fresh_venv_installs_offline_and_works(self):
        package = harness.source("client", "python")
        before = tree(package)
        with tempfile.TemporaryDirectory() as tmp:
            venv = os.path.join(tmp, "venv")
            subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv],
                           check=True, timeout=120)
            pip = subprocess.run([os.path.join(venv, "bin", "pip"), "install", package],
                                 capture_output=True, text=True, timeout=300,
                                 env=offline_env(), cwd=tmp)
            self.assertEqual(pip.returncode, 0, pip.stdout + pip.stderr)
            self.assertRegex(pip.stdout, r"Successfully installed attnserve-\d+\.\d+")

            script = f"""
import json, os, sys, attnserve
samples = json.load(open({harness.source('client', 'samples', 'demo.json')!r}))["sequences"]
with attnserve.Client({SERVER.address!r}) as client:
    r = client.classify(samples[0]["values"], "demo")
    print(json.dumps({{"file": attnserve.__file__, "label": r.label,
                      "peak": int(r.attention["temporal"].argmax()),
                      "health": client.health()}}))
"""
            python = os.path.join(venv, "bin", "python")
            run = subprocess.run([python, "-c", script], capture_output=True, text=True,
                                 timeout=60, cwd=tmp, env=offline_env(PYTHONDONTWRITEBYTECODE="1"))
            self.assertEqual(run.returncode, 0, run.stderr)
            got = json.loads(run.stdout)
            self.assertTrue(got["file"].startswith(venv), got["file"])
            samples = harness.demo_samples()
            self.assertEqual((got["label"], got["peak"], got["health"]),
                             (samples[0]["label"], samples[0]["marked_step"], "SERVING"))
            usage = subprocess.run([python, "-m", "attnserve.plot", "--help"], cwd=tmp,
                                   capture_output=True, text=True, timeout=60)
            self.assertEqual(usage.returncode, 0, usage.stderr)
            self.assertIn("python3 -m attnserve.plot", usage.stdout)
        self.assertEqual(tree(package), before, "the install wrote into the source tree")


class StubsTest(unittest.TestCase):
    def describe(self, path_entry):
        env = {**os.environ, "PYTHONPATH": path_entry} if path_entry else dict(os.environ)
        out = subprocess.run([sys.executable, "-c", DESCRIBE], capture_output=True, text=True,
                             timeout=60, env=env, cwd=tempfile.gettempdir())
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def test_each_compiler_makes_stubs_of_the_current_proto(self):
        want = proto_descriptor()
        self.assertEqual([s.name for s in want.service], ["AttnServe"])
        methods = sorted(m.name for m in want.service[0].method)
        stubgen = harness.source("client", "python", "attnserve_stubgen.py")
        for compiler in ("protoc", "grpc_tools"):
            with self.subTest(compiler=compiler), tempfile.TemporaryDirectory() as out:
                run = subprocess.run([sys.executable, stubgen, harness.source("proto"), out,
                                      compiler], capture_output=True, text=True, timeout=120)
                self.assertEqual(run.returncode, 0, run.stderr)
                self.assertIn(f"with {compiler}", run.stdout)
                # Only the stub package: importing it must not need the rest.
                with open(os.path.join(out, "attnserve", "__init__.py"), "w"):
                    pass
                got = self.describe(out)
                self.assertTrue(got["module"].startswith(out))
                self.assertEqual(
                    normalized(descriptor_pb2.FileDescriptorProto.FromString(
                        bytes.fromhex(got["descriptor"]))), want)
                self.assertEqual(got["servicer"], methods)

    def test_the_installed_stubs_are_not_stale(self):
        got = self.describe(None)  # this interpreter: the build tree's venv
        self.assertNotIn(harness.source("client", "python"), got["module"])
        self.assertEqual(normalized(descriptor_pb2.FileDescriptorProto.FromString(
            bytes.fromhex(got["descriptor"]))), proto_descriptor(),
            "the installed stubs differ from proto/: rebuild (cmake --build) to reinstall")

    def test_compiler_errors_say_what_to_install(self):
        stubgen = harness.source("client", "python", "attnserve_stubgen.py")
        with tempfile.TemporaryDirectory() as out:
            run = subprocess.run([sys.executable, stubgen, harness.source("proto"), out, "nope"],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(run.returncode, 1)
            self.assertIn("unknown stub compiler 'nope' (one of protoc, grpc_tools)", run.stderr)
            run = subprocess.run([sys.executable, stubgen, harness.source("proto"), out,
                                  "protoc"], capture_output=True, text=True, timeout=60,
                                 env={**os.environ, "PATH": out})
            self.assertEqual(run.returncode, 1)
            self.assertIn("apt-get install protobuf-compiler protobuf-compiler-grpc", run.stderr)
            run = subprocess.run([sys.executable, stubgen, out, out], capture_output=True,
                                 text=True, timeout=60)
            self.assertNotEqual(run.returncode, 0)


if __name__ == "__main__":
    harness.main()
