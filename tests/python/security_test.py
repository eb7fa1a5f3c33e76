#!/usr/bin/env python3
"""The Python clients and attnctl against the real server run with mutual
TLS and bearer tokens (--tls_cert/--tls_key/--tls_client_ca,
--auth_token_file, --auth_inference): with the CA, a client certificate and
the token every call works; without the token calls are refused as
Unauthenticated (the message says how to send one); without a client
certificate the connection itself is refused. Certificates are made with
openssl at test time (tests/security/make_test_pki.sh). The KServe v2 HTTP port
serves HTTPS with the same certificate, client CA and tokens."""
import asyncio
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

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
        "--auth_inference", "--model_control=explicit", "--load_model=demo", "--http_port=-1"])


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


class HttpsTest(unittest.TestCase):
    """The KServe v2 HTTP port serves HTTPS with the gRPC port's certificate and
    client CA."""

    def url(self, path):
        host, port = SERVER.http_address.rsplit(":", 1)
        return f"https://localhost:{port}{path}"

    def context(self, client_cert=True):
        context = ssl.create_default_context(cafile=pki("ca.pem"))
        if client_cert:
            context.load_cert_chain(pki("client.pem"), pki("client.key"))
        return context

    def infer_body(self):
        seq = demo_sequence()
        return json.dumps({"inputs": [{"name": "INPUT", "datatype": "FP32",
                                       "shape": [1, *seq.shape],
                                       "data": seq.ravel().tolist()}]}).encode()

    def test_mutual_tls_and_token_infer(self):
        request = urllib.request.Request(
            self.url("/v2/models/demo/infer"), data=self.infer_body(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, context=self.context(), timeout=30) as response:
            body = json.load(response)
        outputs = {o["name"]: o for o in body["outputs"]}
        self.assertEqual(outputs["PROBABILITIES"]["shape"], [1, 4])
        self.assertAlmostEqual(sum(outputs["PROBABILITIES"]["data"]), 1.0, places=5)
        with attnserve.Client(SERVER.address, tls=mutual_tls(), token=TOKEN, timeout=30) as c:
            expected = c.classify(demo_sequence(), "demo").probabilities
        self.assertEqual(outputs["PROBABILITIES"]["data"], [float(p) for p in expected])

    def test_the_explorer_page_over_https(self):
        """The page loads over HTTPS without a token (it holds no data); the
        calls it makes need the token like any client's."""
        with urllib.request.urlopen(self.url("/ui/"), context=self.context(),
                                    timeout=30) as response:
            self.assertEqual(response.status, 200)
            self.assertEqual(response.headers["Content-Type"], "text/html; charset=utf-8")
            self.assertIn(b"attention explorer", response.read())
        with self.assertRaises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(self.url("/v2/models/demo"), context=self.context(), timeout=30)
        self.assertEqual(raised.exception.code, 401)
        request = urllib.request.Request(self.url("/v2/models/demo"),
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, context=self.context(), timeout=30) as response:
            self.assertEqual(json.load(response)["parameters"]["labels"],
                             ["up", "down", "left", "right"])

    def test_without_the_token_infer_is_401(self):
        request = urllib.request.Request(
            self.url("/v2/models/demo/infer"), data=self.infer_body(), method="POST",
            headers={"Content-Type": "application/json"})
        with self.assertRaises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, context=self.context(), timeout=30)
        self.assertEqual(raised.exception.code, 401)

    def test_without_a_client_certificate_or_in_plain_http_no_answer(self):
        with self.assertRaises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
            urllib.request.urlopen(self.url("/v2/health/ready"),
                                   context=self.context(client_cert=False), timeout=10).read()
        plain = "http://" + SERVER.http_address + "/v2/health/ready"
        with self.assertRaises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(plain, timeout=10).read()
        with urllib.request.urlopen(self.url("/v2/health/ready"), context=self.context(),
                                    timeout=10) as response:
            self.assertEqual(response.status, 200)


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
