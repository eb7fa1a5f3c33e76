#!/usr/bin/env python3
"""The attention explorer's page as the real server serves it on its HTTP port
(docs/explorer.md), without a browser (explorer_browser_test.py drives one):
every embedded file with its content type and caching headers, the samples'
index listing the samples, the redirects of / and /ui, 404 for unknown files
and for every path that tries to leave the page's files; --ui=false takes the
page away (404) and leaves the API; with --auth_token_file --auth_inference
the page itself loads (it holds no data) while every call it makes needs the
token."""
import http.client
import json
import os
import re
import shutil
import tempfile
import unittest

import harness

TOKEN = "explorer-test-token-0123456789"
SERVER = None
REPO = None


def setUpModule():
    global SERVER, REPO
    REPO = harness.Repository()
    SERVER = harness.Server(REPO, flags=["--http_port=-1"])


def tearDownModule():
    if SERVER is not None:
        assert SERVER.stop() == 0
    if REPO is not None:
        REPO.remove()


def request(server, path, method="GET", headers=None, body=None):
    """(status, headers {lower-case name: value}, body bytes); the path is sent
    exactly as given (http.client does not normalise it)."""
    host, port = server.http_address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", str(len(data)))
        connection.endheaders(data)
        response = connection.getresponse()
        return (response.status, {k.lower(): v for k, v in response.getheaders()},
                response.read())
    finally:
        connection.close()


def ui_sources():
    """The page's files in the source tree: name under /ui/ -> path."""
    ui = harness.source("server", "ui")
    files = {name: os.path.join(ui, name) for name in os.listdir(ui)
             if re.search(r"\.(html|js|css|svg)$", name)}
    for folder in (harness.source("client", "samples"), os.path.join(ui, "samples")):
        for name in os.listdir(folder):
            if folder.endswith("ui/samples") or name.endswith(".json"):
                files["samples/" + name] = os.path.join(folder, name)
    return files


class PageTest(unittest.TestCase):
    TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
             ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml",
             ".json": "application/json", ".csv": "text/csv; charset=utf-8"}

    def test_every_file_is_served_as_built_with_its_type(self):
        files = ui_sources()
        self.assertIn("index.html", files)
        self.assertIn("app.js", files)
        self.assertIn("samples/demo.json", files)
        for name, path in files.items():
            status, headers, body = request(SERVER, "/ui/" + name)
            self.assertEqual(status, 200, name)
            with open(path, "rb") as f:
                self.assertEqual(body, f.read(), f"{name} differs from {path}")
            self.assertEqual(headers["content-type"], self.TYPES[os.path.splitext(name)[1]], name)
            self.assertEqual(headers["cache-control"], "no-cache", name)
            self.assertEqual(headers["x-content-type-options"], "nosniff", name)
            self.assertIn("default-src 'none'", headers["content-security-policy"])
            # Revalidation: the same tag is 304 without a body.
            status, _, body = request(SERVER, "/ui/" + name,
                                      headers={"If-None-Match": headers["etag"]})
            self.assertEqual((status, body), (304, b""), name)

    def test_index_and_samples_index(self):
        status, headers, body = request(SERVER, "/ui/")
        self.assertEqual(status, 200)
        self.assertIn(b"attention explorer", body)
        self.assertIn(b'<script type="module" src="app.js">', body)
        status, _, body = request(SERVER, "/ui/samples/index.json")
        self.assertEqual(status, 200)
        expected = sorted(n[len("samples/"):] for n in ui_sources() if n.startswith("samples/"))
        self.assertEqual(json.loads(body), expected)
        self.assertIn("demo.json", expected)

    def test_redirects(self):
        for path, location in (("/ui", "ui/"), ("/", "ui/")):
            status, headers, _ = request(SERVER, path)
            self.assertEqual((status, headers.get("location")), (302, location), path)

    def test_unknown_files_and_escapes_are_404(self):
        status, headers, body = request(SERVER, "/ui/nope.js")
        self.assertEqual(status, 404)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(json.loads(body), {"error": "no such file: 'nope.js'"})
        models_json = harness.source("models", "demo", "1", "model.json")
        for path in ("/ui/../", "/ui/../v2", "/ui/../../../etc/passwd", "/ui/%2e%2e/%2e%2e/etc/passwd",
                     "/ui/..%2f..%2fetc%2fpasswd", "/ui//etc/passwd", "/ui/%2fetc%2fpasswd",
                     "/ui/samples/../index.html", "/ui/./app.js", "/ui/..\\..\\etc\\passwd",
                     "/ui/index.html%00", "/ui/" + models_json, "/ui/../models/demo/1/model.json",
                     "/ui/../../server/ui/app.js", "/ui/samples/", "/ui/samples"):
            status, _, body = request(SERVER, path)
            self.assertIn(status, (400, 404), path)
            self.assertNotIn(b"root:", body, path)
            self.assertNotIn(b"attnserve.model", body, path)
            self.assertNotIn(b"import ", body, path)

    def test_the_api_is_unchanged(self):
        status, _, body = request(SERVER, "/v2/models/demo")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["parameters"]["labels"], ["up", "down", "left", "right"])


class UiOffTest(unittest.TestCase):
    def test_ui_false_serves_no_page(self):
        server = harness.Server(REPO, flags=["--http_port=-1", "--ui=false"])
        try:
            for path in ("/ui", "/ui/", "/ui/index.html", "/ui/app.js", "/"):
                status, headers, body = request(server, path)
                self.assertEqual(status, 404, path)
                self.assertEqual(json.loads(body), {"error": f"no such endpoint: GET {path}"})
            self.assertEqual(request(server, "/v2/health/ready")[0], 200)
            self.assertEqual(request(server, "/v2/models/demo")[0], 200)
        finally:
            self.assertEqual(server.stop(), 0)


class TokenTest(unittest.TestCase):
    """--auth_token_file with --auth_inference: the page loads without a token,
    and every API call it makes needs one, as for any other client."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="attnserve-explorer-")
        tokens = os.path.join(cls.dir, "tokens.txt")
        with open(tokens, "w") as f:
            f.write(TOKEN + "\n")
        cls.server = harness.Server(REPO, flags=["--http_port=-1", f"--auth_token_file={tokens}",
                                                 "--auth_inference"])

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_page_is_open_and_its_calls_need_the_token(self):
        for path in ("/ui/", "/ui/app.js", "/ui/samples/demo.json"):
            self.assertEqual(request(self.server, path)[0], 200, path)
        values = harness.demo_samples()[0]["values"]
        infer = {"inputs": [{"name": "INPUT", "datatype": "FP32",
                             "shape": [1, len(values), 4], "data": values}]}
        calls = (("GET", "/v2/models/demo", None), ("POST", "/v2/models/demo/infer", infer),
                 ("POST", "/v2/repository/index", {}))
        for method, path, body in calls:
            status, _, answer = request(self.server, path, method, body=body)
            self.assertEqual(status, 401, path)
            self.assertIn("needs a bearer token", json.loads(answer)["error"])
            status, _, answer = request(self.server, path, method, body=body,
                                        headers={"Authorization": "Bearer wrong-token-xxxxxxxx"})
            self.assertEqual(status, 401, path)
            self.assertIn("not valid", json.loads(answer)["error"])
            status, _, answer = request(self.server, path, method, body=body,
                                        headers={"Authorization": f"Bearer {TOKEN}"})
            self.assertEqual(status, 200, path)
        self.assertEqual(json.loads(answer)[0]["name"], "demo")


if __name__ == "__main__":
    harness.main()
