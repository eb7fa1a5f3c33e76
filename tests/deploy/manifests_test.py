#!/usr/bin/python3
"""Checks that deploy/compose.yaml and deploy/kserve/ fit attnserve and each
other: mounted files exist, Prometheus scrapes the compose service's metrics
port, Grafana's datasource is the compose Prometheus, the KServe runtime serves
/mnt/models on the port it declares, and the InferenceService uses that runtime.
Reads YAML only (python3-yaml); no container engine or cluster needed.
"""
import os
import re
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


class KServe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.runtime = load(os.path.join(DEPLOY, "kserve", "servingruntime.yaml"))[0]
        cls.isvc = load(os.path.join(DEPLOY, "kserve", "inferenceservice.yaml"))[0]

    def container(self):
        containers = self.runtime["spec"]["containers"]
        self.assertEqual(len(containers), 1)
        return containers[0]

    def test_runtime_serves_mnt_models(self):
        self.assertEqual(self.runtime["kind"], "ServingRuntime")
        formats = [f["name"] for f in self.runtime["spec"]["supportedModelFormats"]]
        self.assertIn("attnserve", formats)
        self.assertEqual(flag_value(self.container()["args"], "model_repository"), "/mnt/models")

    def test_runtime_port(self):
        container = self.container()
        port = int(flag_value(container["args"], "port") or 8500)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        self.assertEqual(ports, {"h2c": port}, "one port, h2c (gRPC for Knative), attnserve's --port")
        annotations = self.runtime["spec"].get("annotations", {})
        self.assertEqual(annotations.get("prometheus.kserve.io/port"),
                         flag_value(container["args"], "metrics_port") or "8502")

    def test_runtime_cpu_matches_workers(self):
        args = self.container()["args"]
        cpus = int(flag_value(args, "workers") or 2) * int(flag_value(args, "threads_per_worker") or 1)
        resources = self.container()["resources"]
        self.assertEqual(str(resources["requests"]["cpu"]), str(cpus))
        self.assertEqual(str(resources["limits"]["cpu"]), str(cpus))

    def test_inference_service_uses_the_runtime(self):
        self.assertEqual(self.isvc["kind"], "InferenceService")
        predictor = self.isvc["spec"]["predictor"]
        model = predictor["model"]
        self.assertEqual(model["runtime"], self.runtime["metadata"]["name"])
        self.assertIn(model["modelFormat"]["name"],
                      [f["name"] for f in self.runtime["spec"]["supportedModelFormats"]])
        self.assertIn("storageUri", model)
        grace = float(flag_value(self.container()["args"], "shutdown_grace_s") or 10)
        self.assertGreater(predictor.get("terminationGracePeriodSeconds", 30), grace + 1)


if __name__ == "__main__":
    unittest.main()
