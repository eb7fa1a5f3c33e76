#!/usr/bin/env python3
"""The attention explorer in a real browser: headless Chromium, driven with
Selenium (chromium-driver), loads the page from a real attnserve serving a
repository with two versions of the demo model, picks the model, loads a
sample, classifies, and checks what the page shows against what the server's
HTTP API answers for the same input: the predicted label and every class
probability, one heatmap cell per input step and feature, one bar per step of
the temporal map, two panels and a comparison in compare mode, the server's
own message for a bad input, the token field against a server that wants
one, and a screenshot of the maps that is not blank. The browser's console
must stay free of errors (a Content-Security-Policy violation is one).

Exits 77 (ctest: skipped) with the reason when Chromium, its driver or
Selenium is missing or Chromium cannot start; scripts/install-deps.sh installs
them. `--screenshot PATH` also saves the page in compare mode as a PNG
(docs/img/explorer.png: tools/explorer_screenshot.sh).
"""
import io
import json
import os
import shutil
import sys
import tempfile
import unittest
import urllib.request

import numpy as np

import harness

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SKIP = 77
TOKEN = "browser-test-token-0123456789abcdef"

DRIVER = None
SERVER = None
TOKEN_SERVER = None  # the same repository behind --auth_token_file --auth_inference
TOKEN_DIR = None
REPO = None
SCREENSHOT = None

By = Select = WebDriverWait = None


def start_browser():
    """The driver, or (None, why not)."""
    global By, Select, WebDriverWait
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            return None, f"{path} is missing (Debian package {package}: scripts/install-deps.sh)"
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By as by
        from selenium.webdriver.support.ui import Select as select, WebDriverWait as wait
    except ImportError as e:
        return None, f"Selenium is missing ({e}; Debian package python3-selenium: " \
                     "scripts/install-deps.sh)"
    By, Select, WebDriverWait = by, select, wait
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-proxy-server", "--window-size=1440,1100", "--force-device-scale-factor=1",
                     "--lang=en-US", "--disable-extensions", "--no-first-run",
                     "--force-prefers-reduced-motion", "--blink-settings=preferredColorScheme=1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options), ""
    except Exception as e:  # noqa: BLE001 - any failure to start is a reason to skip
        return None, f"Chromium did not start: {str(e).splitlines()[0] if str(e) else e!r}"


def setUpModule():
    global SERVER, TOKEN_SERVER, TOKEN_DIR, REPO
    # Two versions of the demo model, both serving (the same weights: their
    # answers agree).
    REPO = harness.Repository()
    demo = os.path.join(REPO.path, "demo")
    os.unlink(demo)
    os.makedirs(demo)
    for version in ("1", "2"):
        os.symlink(harness.source("models", "demo", "1"), os.path.join(demo, version))
    with open(os.path.join(demo, "config.pbtxt"), "w") as f:
        f.write("version_policy { all {} }\n")
    SERVER = harness.Server(REPO, flags=["--http_port=-1"])
    TOKEN_DIR = tempfile.mkdtemp(prefix="attnserve-browser-")
    tokens = os.path.join(TOKEN_DIR, "tokens.txt")
    with open(tokens, "w") as f:
        f.write(TOKEN + "\n")
    TOKEN_SERVER = harness.Server(REPO, flags=["--http_port=-1", f"--auth_token_file={tokens}",
                                               "--auth_inference"])


def tearDownModule():
    # The browser first: its idle keep-alive connections would hold the
    # servers' HTTP threads (up to their 5 s timeout) while they drain.
    quit_browser()
    for server in (SERVER, TOKEN_SERVER):
        if server is not None:
            assert server.stop() == 0
    if REPO is not None:
        REPO.remove()
    if TOKEN_DIR is not None:
        shutil.rmtree(TOKEN_DIR, ignore_errors=True)


def quit_browser():
    global DRIVER
    if DRIVER is not None:
        DRIVER.quit()
        DRIVER = None


def demo_sequences():
    with open(harness.source("client", "samples", "demo.json"), encoding="utf-8") as f:
        return json.load(f)["sequences"]


def api_infer(server, version, sequences, token=None):
    """The HTTP API's answer for `sequences` (lists of steps), sent as the page
    sends them: INPUT [B, T, 4] right-padded with LENGTHS."""
    lengths = [len(s) for s in sequences]
    steps = max(lengths)
    data = []
    for s in sequences:
        for t in range(steps):
            data.extend(s[t] if t < len(s) else [0.0] * 4)
    body = {"inputs": [
        {"name": "INPUT", "datatype": "FP32", "shape": [len(sequences), steps, 4], "data": data},
        {"name": "LENGTHS", "datatype": "INT32", "shape": [len(sequences)], "data": lengths}]}
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"http://{server.http_address}/v2/models/demo/versions/{version}/infer",
        data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    outputs = {o["name"]: o for o in answer["outputs"]}
    classes = outputs["PROBABILITIES"]["shape"][1]
    p = outputs["PROBABILITIES"]["data"]
    return [{"label": outputs["LABEL"]["data"][b], "probabilities": p[b * classes:(b + 1) * classes]}
            for b in range(len(sequences))]


def read_csv_sample(name):
    rows = []
    with open(harness.source("server", "ui", "samples", name), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and not line[0].isalpha():
                rows.append([float(v) for v in line.split(",")])
    return rows


class ExplorerTest(unittest.TestCase):
    def open(self, server=None, fragment=""):
        server = server or SERVER
        DRIVER.get("about:blank")  # a fresh document, also when only the fragment differs
        DRIVER.get(f"http://{server.http_address}/ui/{fragment}")
        self.wait(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")

    def wait(self, condition, timeout=20):
        return WebDriverWait(DRIVER, timeout, poll_frequency=0.05).until(condition)

    def by(self, selector):
        return DRIVER.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector):
        return DRIVER.find_elements(By.CSS_SELECTOR, selector)

    def text_of(self, selector):
        return self.by(selector).text

    def classify(self, panels=1):
        button = self.by("#classify")
        self.wait(lambda d: button.is_enabled())
        button.click()
        self.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".result")) == panels and
                  d.find_element(By.CSS_SELECTOR, "#classify").text == "Classify")

    def console_errors(self):
        return [e for e in DRIVER.get_log("browser") if e["level"] == "SEVERE"]

    def assertCleanConsole(self, allowed=()):
        errors = [e for e in self.console_errors()
                  if not any(a in e["message"] for a in allowed)]
        self.assertEqual(errors, [], "the browser's console has errors")

    def dom_result(self, panel):
        prediction = self.by(f"{panel} .prediction")
        rows = self.all(f"{panel} .prob-row")
        return {"label": prediction.get_attribute("data-label"),
                "probabilities": [float(r.get_attribute("data-probability")) for r in rows],
                "classes": [r.get_attribute("data-class") for r in rows]}

    def assertSameResult(self, dom, api):
        self.assertEqual(dom["label"], api["label"])
        self.assertEqual(len(dom["probabilities"]), len(api["probabilities"]))
        for shown, answered in zip(dom["probabilities"], api["probabilities"]):
            self.assertAlmostEqual(shown, answered, delta=1e-6)

    def assertNotBlank(self, element):
        """The element's screenshot has many colours and little background."""
        from PIL import Image
        image = Image.open(io.BytesIO(element.screenshot_as_png)).convert("RGB")
        width, height = image.size
        self.assertGreater(width * height, 10000, "the maps are drawn too small")
        pixels = np.asarray(image, dtype=np.int32).reshape(-1, 3)
        colours, counts = np.unique(pixels, axis=0, return_counts=True)
        background = colours[np.argmax(counts)]
        drawn = np.abs(pixels - background).sum(axis=1) > 30
        self.assertGreater(len(colours), 30, "the maps have almost no colours")
        self.assertGreater(drawn.mean(), 0.08, "the maps are mostly background")

    def test_classify_a_sample_shows_what_the_api_answers(self):
        self.open()
        self.assertEqual(Select(self.by("#model")).first_selected_option.get_attribute("value"), "demo")
        versions = [o.get_attribute("value") for o in Select(self.by("#version")).options]
        self.assertEqual(versions, ["1", "2"])
        self.assertEqual(self.by("#version").get_attribute("value"), "2")  # the newest
        metadata = self.text_of("#metadata")
        for shown in ("up", "down", "left", "right", "4 features per step", "additive",
                      "lstm 1x32", "temporal"):
            self.assertIn(shown, metadata)

        Select(self.by("#sample")).select_by_value("demo.json")
        self.wait(lambda d: "8 sequences" in d.find_element(By.ID, "input-summary").text)
        self.assertIn("expected labels given", self.text_of("#input-summary"))
        self.classify()
        sequences = [s["values"] for s in demo_sequences()]
        expected = api_infer(SERVER, "2", sequences)
        self.assertSameResult(self.dom_result(".result-primary"), expected[0])
        self.assertEqual(self.dom_result(".result-primary")["classes"], ["up", "down", "left", "right"])
        self.assertEqual(self.by(".result-primary").get_attribute("data-version"), "2")

        # One input cell per step and feature, one temporal bar per step.
        steps = len(sequences[0])
        self.assertEqual(len(self.all(".result-primary .map-input .cell")), steps * 4)
        self.assertEqual(len(self.all(".result-primary .map-temporal .bar-cell")), steps)
        weights = [float(c.get_attribute("data-value"))
                   for c in self.all(".result-primary .map-temporal .bar-cell")]
        self.assertAlmostEqual(sum(weights), 1.0, places=4)
        peak = max(range(steps), key=weights.__getitem__)
        self.assertIn(f"peak at step {peak}", self.text_of(".result-primary .map-temporal .summary"))
        self.assertEqual(peak, demo_sequences()[0]["marked_step"])
        self.assertIn("expected left ✓", self.text_of(".result-primary .prediction"))
        self.assertNotBlank(self.by(".result-primary .maps"))

        # Every sequence of the sample was classified: the next one is shown
        # without another request, and the summary counts the right answers.
        self.by("#sequence-next").click()
        self.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".result-primary .map-input .cell"))
                  == len(sequences[1]) * 4)
        self.assertSameResult(self.dom_result(".result-primary"), expected[1])
        right = sum(1 for r, s in zip(expected, demo_sequences()) if r["label"] == s["label"])
        self.assertIn(f"matches the expected label {right} of 8", self.text_of(".batch-summary"))
        self.assertCleanConsole()

    def test_compare_two_versions_side_by_side(self):
        # The state in the address: model, both versions and a CSV sample.
        self.open(fragment="#model=demo&version=2&compare=1&sample=demo_up.csv")
        self.wait(lambda d: "24 steps" in d.find_element(By.ID, "input-summary").text)
        self.assertTrue(self.by("#compare").is_selected())
        self.classify(panels=2)
        panels = self.all(".result")
        self.assertEqual([p.get_attribute("data-version") for p in panels], ["2", "1"])
        rows = read_csv_sample("demo_up.csv")
        for panel, version in ((".result-primary", "2"), (".result-compare", "1")):
            self.assertSameResult(self.dom_result(panel), api_infer(SERVER, version, [rows])[0])
            self.assertEqual(len(self.all(f"{panel} .map-input .cell")), len(rows) * 4)
            self.assertEqual(len(self.all(f"{panel} .map-temporal .bar-cell")), len(rows))
        # The CSV's header names the features.
        labels = [e.text for e in self.all(".result-primary .map-input .heatmap .row-label")]
        self.assertEqual(labels, ["marker", "a", "b", "c"])
        # What changed between them: the same weights, so nothing.
        table = self.text_of(".comparison")
        self.assertIn("version 2 against version 1", table)
        self.assertIn("temporal: peak step", table)
        self.assertEqual(len(self.all(".comparison .map-delta .bar-cell")), len(rows))
        self.assertCleanConsole()

        if SCREENSHOT:
            Select(self.by("#sample")).select_by_value("demo.json")
            self.wait(lambda d: "8 sequences" in d.find_element(By.ID, "input-summary").text)
            self.classify(panels=2)
            height = DRIVER.execute_script("return document.documentElement.scrollHeight")
            DRIVER.set_window_size(1440, height + 20)
            DRIVER.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
            DRIVER.save_screenshot(SCREENSHOT)
            DRIVER.set_window_size(1440, 1100)

    def test_the_drift_sample_shows_spread_attention(self):
        """demo_marker_lost.json (docs/explorer.md, "Investigating an attention
        drift alert"): the summaries the page shows are the metrics' (entropy
        over log n, peak position), computed here from the API's weights."""
        self.open(fragment="#model=demo&sample=demo_marker_lost.json")
        self.wait(lambda d: "4 sequences" in d.find_element(By.ID, "input-summary").text)
        self.classify()
        with open(harness.source("server", "ui", "samples", "demo_marker_lost.json")) as f:
            sequences = [s["values"] for s in json.load(f)["sequences"]]
        entropies, positions = [], []
        for values in sequences:
            body = {"inputs": [{"name": "INPUT", "datatype": "FP32",
                                "shape": [1, len(values), 4], "data": values}],
                    "outputs": [{"name": "attention.temporal"}]}
            request = urllib.request.Request(
                f"http://{SERVER.http_address}/v2/models/demo/versions/2/infer",
                data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                w = np.asarray(json.load(response)["outputs"][0]["data"], np.float64)
            p = w / w.sum()
            entropies.append(float(-(p[p > 0] * np.log(p[p > 0])).sum() / np.log(len(p))))
            positions.append(int(np.argmax(w)) / (len(w) - 1))
        self.assertGreater(np.median(entropies), 0.5)  # spread out: the marker is gone
        rows = {r.find_element(By.TAG_NAME, "th").text: r.find_element(By.TAG_NAME, "td").text
                for r in self.all(".batch-summary tbody tr")}
        self.assertEqual(rows["temporal: median entropy"], f"{np.median(entropies):.2f}")
        self.assertEqual(rows["temporal: median peak position"], f"{np.median(positions):.2f}")
        self.assertIn(f"entropy {entropies[0]:.2f}",
                      self.text_of(".result-primary .map-temporal .summary"))
        self.assertCleanConsole()

    def test_the_servers_message_is_shown_for_a_bad_input(self):
        self.open()
        area = self.by("#input-text")
        area.clear()
        area.send_keys("[[1, 2, 3], [4, 5, 6]]")
        self.wait(lambda d: "2 steps" in d.find_element(By.ID, "input-summary").text)
        self.assertIn("the model takes 4", self.text_of("#input-summary"))
        self.classify()
        error = self.text_of(".result-primary .error-box")
        self.assertIn("400 Bad request", error)
        self.assertIn("sequence 0: has 3 features; the model takes 4 per step", error)
        # Input the page cannot read is refused before anything is sent.
        area.clear()
        area.send_keys("1, 2\n3")
        self.wait(lambda d: "line 2 has 1 values" in d.find_element(By.ID, "input-summary").text)
        self.assertFalse(self.by("#classify").is_enabled())
        self.assertCleanConsole(allowed=("400",))  # the refused call, as Chromium logs it

    def test_a_server_that_wants_a_token(self):
        server = TOKEN_SERVER
        try:
            self.open(server)
            # Without a token: the model list and metadata are refused, saying why.
            note = self.by("#model-note")
            self.assertTrue(note.is_displayed())
            self.assertIn("401", note.text)
            self.assertIn("needs a bearer token", note.text)
            token = self.by("#token")
            token.send_keys(TOKEN)
            self.by("#token-apply").click()
            self.wait(lambda d: d.find_element(By.ID, "model").is_displayed() and
                      d.find_element(By.ID, "version").get_attribute("value") == "2")
            self.assertIn("up", self.text_of("#metadata"))
            Select(self.by("#sample")).select_by_value("demo.json")
            self.wait(lambda d: "8 sequences" in d.find_element(By.ID, "input-summary").text)
            self.classify()
            expected = api_infer(server, "2", [s["values"] for s in demo_sequences()], TOKEN)
            self.assertSameResult(self.dom_result(".result-primary"), expected[0])
            # A wrong token: the server's answer, with its status, where the
            # model's metadata was.
            token.clear()
            token.send_keys("not-the-token-0123456789")
            self.by("#token-apply").click()
            self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#metadata .error-box"))
            error = self.text_of("#metadata .error-box")
            self.assertIn("401 Unauthenticated", error)
            self.assertIn("the bearer token is not valid", error)
            self.assertFalse(self.by("#classify").is_enabled())
            self.assertCleanConsole(allowed=("401",))
        finally:
            DRIVER.execute_script("sessionStorage.clear()")


def main():
    global DRIVER, SCREENSHOT
    if "--screenshot" in sys.argv:
        at = sys.argv.index("--screenshot")
        SCREENSHOT = os.path.abspath(sys.argv[at + 1])
        del sys.argv[at:at + 2]
    argv = harness.parse_args()
    DRIVER, why = start_browser()
    if DRIVER is None:
        print(f"SKIP: the browser test needs headless Chromium: {why}", flush=True)
        sys.exit(SKIP)
    try:
        program = unittest.main(argv=argv, verbosity=2, exit=False)
    finally:
        quit_browser()
    sys.exit(0 if program.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
