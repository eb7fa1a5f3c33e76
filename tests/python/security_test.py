#!/usr/bin/env python3
"""The Python clients and attnctl against the real server run with mutual
TLS and bearer tokens (--tls_cert/--tls_key/--tls_client_ca,
--auth_token_file, --auth_inference): with the CA, a client certificate and
the token every call works; without the token calls are refused as
Unauthenticated (the message says how to send one); without a client
certificate the connection itself is refused. Certificates are made with
openssl at test time (tests/security/make_test_pki.sh)."""
import asyncio
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np

import attnserve
import attnserve.aio
from attnserve import errors
import harness

TOKEN = "py-test-token-0123456789abcdef"
SERVER = None
REPO = None
PKI = None


def pki(name):
    return os.path.join(PKI, name)


def setUpModule():
    global SERVER, REPO, PKI
    PKI = tempfile.mkdtemp(prefix="attnserve-pypki-")
    subprocess.run(["sh", harness.source("tests", "security", "make_test_pki.sh"), PKI],
                   check=True)
    with open(pki("tokens.txt"), "w") as f:
        f.write(f"# test tokens\n\n{TOKEN}\n")
    REPO = harness.Repository()
    SERVER = harness.Server(REPO, flags=[
        f"--tls_cert={pki('server.pem')}", f"--tls_key={pki('server.key')}",
        f"--tls_client_ca={pki('ca.pem')}", f"--auth_token_file={pki('tokens.txt')}",
        "--auth_inference", "--model_control=explicit", "--load_model=demo"])


def tearDownModule():
    if SERVER is not None:
        assert SERVER.stop() == 0
    if REPO is not None:
        REPO.remove()
    if PKI is not None:
        shutil.rmtree(PKI, ignore_errors=True)


def mutual_tls():
    return attnserve.TLS(ca=pki("ca.pem"), cert=pki("client.pem"), key=pki("client.key"))


def demo_sequence():
    return np.random.default_rng(4).standard_normal((9, 4)).astype(np.float32)


class ClientOverTlsTest(unittest.TestCase):
    def test_mutual_tls_and_token_classify(self):
        with attnserve.Client(SERVER.address, tls=mutual_tls(), token=TOKEN, timeout=30) as c:
            self.assertIn("tls", repr(c))
            result = c.classify(demo_sequence(), "demo")
            self.assertEqual(len(result.probabilities), 4)
            self.assertAlmostEqual(float(np.sum(result.probabilities)), 1.0, places=5)
            self.assertEqual(result.attention["temporal"].shape, (9,))
            self.assertEqual([m.name for m in c.models()], ["demo"])
            self.assertEqual(c.health(), "SERVING")

    def test_the_ca_may_be_given_as_bytes(self):
        with open(pki("ca.pem"), "rb") as f:
            ca = f.read()
        with open(pki("client.pem"), "rb") as f:
            cert = f.read()
        with open(pki("client.key"), "rb") as f:
            key = f.read()
        tls = attnserve.TLS(ca=ca, cert=cert, key=key)
        with attnserve.Client(SERVER.address, tls=tls, token=TOKEN, timeout=30) as c:
            self.assertEqual(c.metadata("demo").input_size, 4)

    def test_without_the_token_calls_are_unauthenticated(self):
        with attnserve.Client(SERVER.address, tls=mutual_tls(), timeout=30) as c:
            with self.assertRaises(errors.Unauthenticated) as raised:
                c.classify(demo_sequence(), "demo")
            self.assertIn("needs a bearer token", str(raised.exception))
            self.assertEqual(c.health(), "SERVING")  # health stays open
        with attnserve.Client(SERVER.address, tls=mutual_tls(), token="x" * 20,
                              timeout=30) as c:
            with self.assertRaises(errors.Unauthenticated) as raised:
                c.models()
            self.assertIn("the bearer token is not valid", str(raised.exception))
            self.assertNotIn("x" * 20, str(raised.exception))

    def test_without_a_client_certificate_the_connection_is_refused(self):
        with attnserve.Client(SERVER.address, tls=attnserve.TLS(ca=pki("ca.pem")), token=TOKEN,
                              timeout=10) as c:
            with self.assertRaises(errors.Unavailable):
                c.models()
        with attnserve.Client(SERVER.address, token=TOKEN, timeout=10) as c:  # plaintext
            with self.assertRaises(errors.Unavailable):
                c.models()


class AioClientOverTlsTest(unittest.IsolatedAsyncioTestCase):
    async def test_mutual_tls_and_token(self):
        async with attnserve.aio.Client(SERVER.address, tls=mutual_tls(), token=TOKEN,
                                        timeout=30) as c:
            results = await asyncio.gather(*(c.classify(demo_sequence(), "demo")
                                             for _ in range(3)))
            self.assertEqual([len(r.probabilities) for r in results], [4, 4, 4])
        async with attnserve.aio.Client(SERVER.address, tls=mutual_tls(), timeout=30) as c:
            with self.assertRaises(errors.Unauthenticated):
                await c.models()


class AttnctlOverTlsTest(unittest.TestCase):
    def attnctl(self, *args):
        return subprocess.run([harness.ARGS.attnctl, *args, f"--server={SERVER.address}",
                               f"--tls_ca={pki('ca.pem')}", f"--tls_cert={pki('client.pem')}",
                               f"--tls_key={pki('client.key')}", "--timeout_ms=30000"],
                              capture_output=True, text=True, timeout=60)

    def test_token_file_and_mutual_tls(self):
        done = self.attnctl("models", f"--token_file={pki('tokens.txt')}")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("demo", done.stdout)
        done = self.attnctl("repository", f"--token={TOKEN}")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("demo", done.stdout)
        done = self.attnctl("health")
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_without_token_it_fails_saying_why(self):
        done = self.attnctl("models")
        self.assertEqual(done.returncode, 1)
        self.assertIn("UNAUTHENTICATED", done.stderr)
        self.assertIn("needs a bearer token", done.stderr)


if __name__ == "__main__":
    harness.main()
