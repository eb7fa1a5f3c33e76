#!/usr/bin/python3
"""Checks that deploy/compose.yaml and deploy/kserve/ fit attnserve and each
other: mounted files exist, Prometheus scrapes the compose service's metrics
port, Grafana's datasource is the compose Prometheus, the KServe runtime serves
/mnt/models over the v2 protocols on ports that match its flags, with probes on
/v2/health, the InferenceService uses that runtime, and the queue-depth HPA
asks for a metric prometheus-adapter serves from a gauge attnserve exports
(metric and flag names are read from the server's source). Renders deploy/kserve
with `kubectl kustomize`; no container engine or cluster needed.
"""
import os
import re
import shutil
import subprocess
import sys
import unittest

try:
    import yaml
except ImportError:
    print("manifests_test: FAILED: PyYAML missing: install python3-yaml "
          "(scripts/install-deps.sh)", file=sys.stderr)
    sys.exit(1)

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(SOURCE_DIR, "deploy")


def load(path):
    with open(path, encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def flag_value(args, flag):
    value = None
    for arg in args:
        match = re.fullmatch(r"--?" + flag + r"=(.*)", arg)
        if match:
            value = match.group(1)
    return value


def env_default(value):
    """"${VAR:-default}" -> "default" (compose interpolation)."""
    match = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", str(value))
    return match.group(1) if match else str(value)


def seconds(duration):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m)", str(duration))
    assert match, f"unsupported duration {duration}"
    return float(match.group(1)) * (60 if match.group(2) == "m" else 1)


class Compose(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.compose = load(os.path.join(DEPLOY, "compose.yaml"))[0]
        cls.services = cls.compose["services"]

    def test_services(self):
        self.assertEqual(set(self.services), {"attnserve", "prometheus", "grafana"})

    def test_attnserve_builds_this_repository(self):
        build = self.services["attnserve"]["build"]
        context = os.path.normpath(os.path.join(DEPLOY, build["context"]))
        self.assertEqual(context, SOURCE_DIR)
        self.assertTrue(os.path.isfile(os.path.join(context, build.get("dockerfile", "Dockerfile"))))

    def test_bind_mounts_exist(self):
        for name, service in self.services.items():
            for volume in service.get("volumes", []):
                source = volume.split(":")[0]
                if source.startswith((".", "/")):
                    with self.subTest(service=name, volume=volume):
                        self.assertTrue(os.path.exists(os.path.join(DEPLOY, source)),
                                        f"{source} (relative to deploy/) exists")

    def mounted(self, service, target):
        for volume in self.services[service].get("volumes", []):
            parts = volume.split(":")
            if parts[1] == target:
                return os.path.join(DEPLOY, parts[0])
        self.fail(f"{service} mounts nothing at {target}")

    def test_prometheus_scrapes_attnserve_with_the_alert_rules(self):
        command = self.services["prometheus"]["command"]
        config_path = flag_value(command, "config.file")
        config = load(self.mounted("prometheus", config_path))[0]
        environment = self.services["attnserve"].get("environment", {})
        metrics_port = env_default(environment.get("ATTNSERVE_METRICS_PORT", "8502"))
        targets = [t for job in config["scrape_configs"]
                   for static in job.get("static_configs", []) for t in static["targets"]]
        self.assertIn(f"attnserve:{metrics_port}", targets,
                      "Prometheus scrapes the compose service on attnserve's metrics port")
        for rule_file in config.get("rule_files", []):
            in_container = os.path.join(os.path.dirname(config_path), rule_file)
            with self.subTest(rule_file=rule_file):
                self.assertTrue(os.path.isfile(self.mounted("prometheus", in_container)))

    def test_grafana_provisioning(self):
        provisioning = self.mounted("grafana", "/etc/grafana/provisioning")
        datasources = load(os.path.join(provisioning, "datasources", "prometheus.yml"))[0]
        urls = [d["url"] for d in datasources["datasources"]]
        self.assertIn("http://prometheus:9090", urls, "the compose Prometheus")
        providers = []
        directory = os.path.join(provisioning, "dashboards")
        for name in os.listdir(directory):
            if name.endswith((".yml", ".yaml")):
                providers += load(os.path.join(directory, name))[0]["providers"]
        for provider in providers:
            path = provider["options"]["path"]
            with self.subTest(path=path):
                dashboards = self.mounted("grafana", path)
                self.assertTrue(any(f.endswith(".json") for f in os.listdir(dashboards)))

    def test_stop_grace_covers_the_drain(self):
        attnserve = self.services["attnserve"]
        grace = float(env_default(attnserve.get("environment", {}).get(
            "ATTNSERVE_SHUTDOWN_GRACE_S", "10")))
        self.assertGreater(seconds(attnserve.get("stop_grace_period", "10s")), grace + 1)


def server_flags():
    """The flags attnserve defines (ABSL_FLAG in server/*.cc)."""
    flags = set()
    server = os.path.join(SOURCE_DIR, "server")
    for name in os.listdir(server):
        if name.endswith(".cc"):
            with open(os.path.join(server, name), encoding="utf-8") as f:
                flags |= set(re.findall(r"ABSL_FLAG\(\s*[^,]+,\s*(\w+)\s*,", f.read()))
    return flags


def exported_metrics():
    """{name: type} of the metric families attnserve registers, read from its
    source (server/observability/*.cc: Build{Counter,Gauge,Histogram}().Name(...))."""
    metrics = {}
    directory = os.path.join(SOURCE_DIR, "server", "observability")
    for name in os.listdir(directory):
        if name.endswith(".cc"):
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                for kind, metric in re.findall(
                        r"Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\(\s*\"(\w+)\"",
                        f.read()):
                    metrics[metric] = kind.lower()
    return metrics


def render_kserve():
    kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not kubectl or not os.access(kubectl, os.X_OK):
        print("manifests_test: FAILED: kubectl not found: install it with "
              "scripts/install-deps.sh (Debian package kubernetes-client) or set KUBECTL",
              file=sys.stderr)
        sys.exit(1)
    result = subprocess.run([kubectl, "kustomize", os.path.join(DEPLOY, "kserve")],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(f"manifests_test: FAILED: kubectl kustomize deploy/kserve:\n{result.stderr}",
              file=sys.stderr)
        sys.exit(1)
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


class KServe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.objects = render_kserve()
        cls.runtime = cls.one("ServingRuntime")
        cls.isvc = cls.one("InferenceService")
        cls.hpa = cls.one("HorizontalPodAutoscaler")
        cls.adapter = load(os.path.join(DEPLOY, "kserve", "prometheus-adapter-config.yaml"))[0]

    @classmethod
    def one(cls, kind):
        found = [o for o in cls.objects if o["kind"] == kind]
        assert len(found) == 1, f"deploy/kserve renders one {kind}, not {len(found)}"
        return found[0]

    def container(self):
        containers = self.runtime["spec"]["containers"]
        self.assertEqual(len(containers), 1)
        return containers[0]

    def args(self):
        return self.container()["args"]

    def test_renders_exactly_these_objects(self):
        self.assertEqual(sorted(o["kind"] for o in self.objects),
                         ["HorizontalPodAutoscaler", "InferenceService", "ServingRuntime"])
        self.assertEqual(self.runtime["apiVersion"], "serving.kserve.io/v1alpha1")
        self.assertEqual(self.isvc["apiVersion"], "serving.kserve.io/v1beta1")
        self.assertEqual(self.hpa["apiVersion"], "autoscaling/v2")

    def test_runtime_serves_mnt_models_over_v2(self):
        formats = [f["name"] for f in self.runtime["spec"]["supportedModelFormats"]]
        self.assertIn("attnserve", formats)
        self.assertEqual(set(self.runtime["spec"]["protocolVersions"]), {"v2", "grpc-v2"})
        self.assertEqual(flag_value(self.args(), "model_repository"), "/mnt/models")

    def test_runtime_flags_are_attnserve_flags(self):
        known = server_flags()
        self.assertIn("port", known, "parsed server/main.cc's flags")
        self.assertIn("http_port", known, "the KServe v2 HTTP/REST port")
        for arg in self.args():
            match = re.fullmatch(r"--?(\w+)(=.*)?", arg)
            self.assertTrue(match, f"{arg} is a flag")
            self.assertIn(match.group(1), known, f"{arg}: attnserve has no such flag")

    def test_runtime_ports_match_the_flags(self):
        container = self.container()
        ports = [(p["name"], p["containerPort"]) for p in container["ports"]]
        http_port = int(flag_value(self.args(), "http_port") or 8000)
        grpc_port = int(flag_value(self.args(), "port") or 8500)
        # KServe's raw Service maps port 80 to the first container port: REST.
        self.assertEqual(ports, [("http1", http_port), ("h2c", grpc_port)])
        self.assertEqual(http_port, 8080, "KServe's default HTTP container port")
        self.assertNotEqual(http_port, grpc_port)
        metrics_port = flag_value(self.args(), "metrics_port") or "8502"
        self.assertNotIn(int(metrics_port), (http_port, grpc_port))
        annotations = self.runtime["spec"].get("annotations", {})
        self.assertEqual(annotations.get("prometheus.kserve.io/port"), metrics_port)
        self.assertEqual(annotations.get("prometheus.io/port"), metrics_port)
        self.assertEqual(annotations.get("prometheus.io/scrape"), "true")
        env = {e["name"]: e["value"] for e in container.get("env", [])}
        self.assertEqual(env.get("ATTNSERVE_GRPC_PORT", str(grpc_port)), str(grpc_port),
                         "the image's HEALTHCHECK asks the gRPC port")

    def test_probes_ask_v2_health_on_the_http_port(self):
        container = self.container()
        http_port = int(flag_value(self.args(), "http_port") or 8000)
        names = {p["name"]: p["containerPort"] for p in container["ports"]}
        expected = {"readinessProbe": "/v2/health/ready", "livenessProbe": "/v2/health/live",
                    "startupProbe": "/v2/health/live"}
        for probe, path in expected.items():
            with self.subTest(probe=probe):
                get = container[probe]["httpGet"]
                self.assertEqual(get["path"], path)
                port = get["port"]
                self.assertEqual(names.get(port, port), http_port)

    def test_runtime_cpu_matches_workers(self):
        args = self.args()
        cpus = int(flag_value(args, "workers") or 2) * int(flag_value(args, "threads_per_worker") or 1)
        resources = self.container()["resources"]
        self.assertEqual(str(resources["requests"]["cpu"]), str(cpus))
        self.assertEqual(str(resources["limits"]["cpu"]), str(cpus))

    def test_inference_service_uses_the_runtime(self):
        predictor = self.isvc["spec"]["predictor"]
        model = predictor["model"]
        self.assertEqual(model["runtime"], self.runtime["metadata"]["name"])
        self.assertIn(model["modelFormat"]["name"],
                      [f["name"] for f in self.runtime["spec"]["supportedModelFormats"]])
        self.assertIn(model.get("protocolVersion", "v1"), self.runtime["spec"]["protocolVersions"])
        self.assertIn("storageUri", model)
        grace = float(flag_value(self.args(), "shutdown_grace_s") or 10)
        self.assertGreater(predictor.get("terminationGracePeriodSeconds", 30), grace + 1)

    def test_hpa_scales_the_predictor(self):
        annotations = self.isvc["metadata"]["annotations"]
        self.assertEqual(annotations["serving.kserve.io/deploymentMode"], "RawDeployment")
        self.assertEqual(annotations["serving.kserve.io/autoscalerClass"], "external",
                         "KServe makes no HPA of its own that would fight this one")
        target = self.hpa["spec"]["scaleTargetRef"]
        self.assertEqual((target["kind"], target["name"]),
                         ("Deployment", self.isvc["metadata"]["name"] + "-predictor"))
        predictor = self.isvc["spec"]["predictor"]
        self.assertEqual(self.hpa["spec"]["minReplicas"], predictor["minReplicas"])
        self.assertEqual(self.hpa["spec"]["maxReplicas"], predictor["maxReplicas"])
        self.assertGreaterEqual(self.hpa["spec"]["minReplicas"], 2)

    def test_hpa_metric_is_served_by_the_adapter_from_an_exported_gauge(self):
        exported = exported_metrics()
        self.assertIn("attnserve_requests_total", exported, "parsed the server's metric names")
        metrics = self.hpa["spec"]["metrics"]
        self.assertEqual(len(metrics), 1)
        self.assertEqual(metrics[0]["type"], "Pods")
        name = metrics[0]["pods"]["metric"]["name"]
        rules = [r for r in self.adapter["rules"] if r["name"]["as"] == name]
        self.assertEqual(len(rules), 1, f"one adapter rule serves {name}")
        rule = rules[0]
        series = re.match(r"(\w+)\{", rule["seriesQuery"]).group(1)
        self.assertEqual(exported.get(series), "gauge",
                         f"{series} is a gauge attnserve exports (server/observability)")
        self.assertTrue(re.fullmatch(rule["name"]["matches"], series))
        self.assertEqual(rule["resources"]["overrides"]["pod"], {"resource": "pod"})
        self.assertEqual(rule["resources"]["overrides"]["namespace"], {"resource": "namespace"})
        for placeholder in ("<<.Series>>", "<<.LabelMatchers>>", "<<.GroupBy>>"):
            self.assertIn(placeholder, rule["metricsQuery"])
        self.assertGreater(float(metrics[0]["pods"]["target"]["averageValue"]), 0)


if __name__ == "__main__":
    unittest.main()
