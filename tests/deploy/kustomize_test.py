#!/usr/bin/python3
"""Renders deploy/k8s with `kubectl kustomize` and checks that the objects fit
together: probes on the gRPC port, a termination grace that covers attnserve's
drain, selectors that match the pod labels, CPU sized to workers x threads.

  tests/deploy/kustomize_test.py [unittest options]
  KUBECTL=/path/to/kubectl tests/deploy/kustomize_test.py

Needs kubectl (Debian: kubernetes-client, which scripts/install-deps.sh installs)
and PyYAML (python3-yaml); fails, never skips, without them.
"""
import os
import re
import shutil
import subprocess
import sys
import unittest

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KUSTOMIZATION = os.environ.get("ATTNSERVE_KUSTOMIZATION") or os.path.join(SOURCE_DIR, "deploy", "k8s")

# attnserve's own defaults (server/main.cc) for settings the manifests leave out.
DEFAULTS = {
    "port": "8500",
    "metrics_port": "8502",
    "workers": "2",
    "threads_per_worker": "1",
    "shutdown_grace_s": "10",
    "drain_delay_s": "0",
}
# The entrypoint's variable for each flag (deploy/docker/entrypoint.sh).
ENV_FOR_FLAG = {
    "port": "ATTNSERVE_GRPC_PORT",
    "metrics_port": "ATTNSERVE_METRICS_PORT",
    "workers": "ATTNSERVE_WORKERS",
    "threads_per_worker": "ATTNSERVE_THREADS_PER_WORKER",
    "shutdown_grace_s": "ATTNSERVE_SHUTDOWN_GRACE_S",
    "drain_delay_s": "ATTNSERVE_DRAIN_DELAY_S",
    "model_repository": "ATTNSERVE_MODEL_REPOSITORY",
}
HEALTH_SERVICES = ("", "attnserve.v1.AttnServe")
# After the drain, attnserve gives the gRPC server this long to close (main.cc).
SERVER_SHUTDOWN_S = 1


def fail_setup(message):
    print(f"kustomize_test: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def render():
    kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not kubectl or not os.access(kubectl, os.X_OK):
        fail_setup("kubectl not found: install it with scripts/install-deps.sh "
                   "(Debian package kubernetes-client) or set KUBECTL")
    try:
        import yaml  # noqa: F401
    except ImportError:
        fail_setup("PyYAML missing: install python3-yaml (scripts/install-deps.sh)")
    result = subprocess.run([kubectl, "kustomize", KUSTOMIZATION], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        fail_setup(f"`{kubectl} kustomize {KUSTOMIZATION}` failed:\n{result.stderr}")
    import yaml
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def cpu_millicores(quantity):
    text = str(quantity)
    if text.endswith("m"):
        return int(text[:-1])
    return round(float(text) * 1000)


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class RenderedKustomization(unittest.TestCase):
    objects = []

    @classmethod
    def setUpClass(cls):
        cls.objects = render()

    # --- lookups ---------------------------------------------------------------
    def of_kind(self, kind):
        return [o for o in self.objects if o.get("kind") == kind]

    def one(self, kind, name=None):
        found = [o for o in self.of_kind(kind) if name is None or o["metadata"]["name"] == name]
        self.assertEqual(len(found), 1, f"expected one {kind} {name or ''}, found {len(found)}")
        return found[0]

    def deployment(self):
        return self.one("Deployment", "attnserve")

    def pod_spec(self):
        return self.deployment()["spec"]["template"]["spec"]

    def pod_labels(self):
        return self.deployment()["spec"]["template"]["metadata"]["labels"]

    def container(self):
        containers = [c for c in self.pod_spec()["containers"] if c["name"] == "attnserve"]
        self.assertEqual(len(containers), 1, "one container named attnserve")
        return containers[0]

    def container_ports(self):
        return {p["name"]: p["containerPort"] for p in self.container().get("ports", [])}

    def setting(self, flag):
        """attnserve's effective --flag: container args win over env, env over the
        ConfigMaps (envFrom), those over attnserve's default."""
        value = DEFAULTS.get(flag)
        variable = ENV_FOR_FLAG[flag]
        container = self.container()
        configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in self.of_kind("ConfigMap")}
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef")
            if ref:
                self.assertIn(ref["name"], configmaps, "envFrom names a rendered ConfigMap")
                value = configmaps[ref["name"]].get(variable, value)
        for env in container.get("env", []):
            if env["name"] == variable and "value" in env:
                value = env["value"]
        for arg in container.get("args", []) + container.get("command", [])[1:]:
            match = re.fullmatch(r"--?" + flag + r"=(.*)", arg)
            if match:
                value = match.group(1)
        return value

    # --- the checks --------------------------------------------------------------
    def test_expected_objects(self):
        kinds = sorted(o["kind"] for o in self.objects)
        for kind in ("ConfigMap", "Deployment", "HorizontalPodAutoscaler",
                     "PodDisruptionBudget", "PodMonitor", "Service", "Service"):
            self.assertIn(kind, kinds)
        self.assertEqual(len(self.of_kind("Service")), 2, "a ClusterIP and a headless Service")

    def test_deployment_selector_matches_pod_labels(self):
        selector = self.deployment()["spec"]["selector"]["matchLabels"]
        self.assertTrue(labels_match(selector, self.pod_labels()),
                        f"selector {selector} vs pod labels {self.pod_labels()}")

    def test_ports_are_attnserves(self):
        ports = self.container_ports()
        self.assertEqual(str(ports.get("grpc")), self.setting("port"),
                         "container port 'grpc' is attnserve's --port")
        self.assertEqual(str(ports.get("metrics")), self.setting("metrics_port"),
                         "container port 'metrics' is attnserve's --metrics_port")

    def test_probes_use_grpc_health_on_the_grpc_port(self):
        container = self.container()
        grpc_port = self.container_ports()["grpc"]
        for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
            with self.subTest(probe=probe_name):
                probe = container.get(probe_name)
                self.assertIsNotNone(probe, f"{probe_name} is set")
                self.assertIn("grpc", probe, f"{probe_name} is a native gRPC probe")
                self.assertEqual(probe["grpc"]["port"], grpc_port,
                                 f"{probe_name} checks the grpc container port")
                self.assertIn(probe["grpc"].get("service", ""), HEALTH_SERVICES,
                              "a service attnserve's health server answers for")

    def test_termination_grace_covers_prestop_and_drain(self):
        spec = self.pod_spec()
        grace = float(self.setting("shutdown_grace_s"))
        delay = float(self.setting("drain_delay_s"))
        prestop = self.container().get("lifecycle", {}).get("preStop", {})
        sleep = 0.0
        if "sleep" in prestop:
            sleep = float(prestop["sleep"]["seconds"])
        elif "exec" in prestop:
            command = prestop["exec"]["command"]
            self.assertEqual(command[0], "sleep", "preStop only waits")
            sleep = float(command[1])
        self.assertGreater(sleep + delay, 0,
                           "a preStop sleep or --drain_delay_s lets endpoints drain before new "
                           "calls are refused")
        period = spec.get("terminationGracePeriodSeconds", 30)
        self.assertGreater(period, sleep + delay + grace + SERVER_SHUTDOWN_S,
                           f"terminationGracePeriodSeconds {period} must exceed preStop {sleep} s"
                           f" + --drain_delay_s {delay} s + --shutdown_grace_s {grace} s"
                           f" + {SERVER_SHUTDOWN_S} s")

    def test_cpu_matches_workers_times_threads(self):
        workers = int(self.setting("workers"))
        threads = int(self.setting("threads_per_worker"))
        resources = self.container()["resources"]
        for kind in ("requests", "limits"):
            with self.subTest(kind=kind):
                self.assertEqual(cpu_millicores(resources[kind]["cpu"]), workers * threads * 1000,
                                 f"cpu {kind} = --workers {workers} x --threads_per_worker {threads}")
            self.assertIn("memory", resources[kind])

    def test_services_select_the_pods(self):
        ports = self.container_ports()
        for service in self.of_kind("Service"):
            name = service["metadata"]["name"]
            with self.subTest(service=name):
                spec = service["spec"]
                self.assertTrue(labels_match(spec["selector"], self.pod_labels()),
                                f"{name} selector {spec['selector']} matches the pods")
                grpc = [p for p in spec["ports"] if p["name"] == "grpc"]
                self.assertEqual(len(grpc), 1, f"{name} has a port named grpc")
                self.assertEqual(grpc[0].get("appProtocol"), "grpc")
                for port in spec["ports"]:
                    target = port.get("targetPort", port["port"])
                    if isinstance(target, str):
                        self.assertIn(target, ports, f"{name} targets a named container port")
                    else:
                        self.assertIn(target, ports.values())

    def test_headless_service(self):
        headless = [s for s in self.of_kind("Service") if s["spec"].get("clusterIP") == "None"]
        self.assertEqual(len(headless), 1, "one headless Service (clusterIP: None)")
        self.assertFalse(headless[0]["spec"].get("publishNotReadyAddresses", False),
                         "draining pods leave the headless Service's DNS")
        others = [s for s in self.of_kind("Service") if s not in headless]
        self.assertEqual(others[0]["spec"].get("type", "ClusterIP"), "ClusterIP")

    def test_hpa_targets_the_deployment(self):
        hpa = self.one("HorizontalPodAutoscaler")
        self.assertEqual(hpa["apiVersion"], "autoscaling/v2")
        target = hpa["spec"]["scaleTargetRef"]
        self.assertEqual((target["apiVersion"], target["kind"], target["name"]),
                         ("apps/v1", "Deployment", self.deployment()["metadata"]["name"]))
        self.assertLessEqual(hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"])
        cpu = [m for m in hpa["spec"]["metrics"]
               if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
        self.assertEqual(len(cpu), 1, "scales on CPU")

    def test_pdb_selects_the_pods_and_allows_a_drain(self):
        pdb = self.one("PodDisruptionBudget")
        self.assertTrue(labels_match(pdb["spec"]["selector"]["matchLabels"], self.pod_labels()))
        min_replicas = self.one("HorizontalPodAutoscaler")["spec"]["minReplicas"]
        if "maxUnavailable" in pdb["spec"]:
            self.assertGreaterEqual(int(pdb["spec"]["maxUnavailable"]), 1)
        else:
            self.assertLess(int(pdb["spec"]["minAvailable"]), min_replicas,
                            "minAvailable below the smallest replica count, or nodes never drain")

    def test_podmonitor_scrapes_the_metrics_port(self):
        monitor = self.one("PodMonitor")
        self.assertTrue(labels_match(monitor["spec"]["selector"]["matchLabels"], self.pod_labels()))
        ports = self.container_ports()
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            self.assertIn(endpoint["port"], ports, "a container port name")
            self.assertEqual(ports[endpoint["port"]], ports["metrics"])
            self.assertEqual(endpoint.get("path", "/metrics"), "/metrics")

    def test_model_repository_volume(self):
        repository = self.setting("model_repository")
        self.assertIsNotNone(repository, "the ConfigMap names the model repository")
        mounts = {m["mountPath"]: m for m in self.container().get("volumeMounts", [])}
        self.assertIn(repository, mounts, "the model repository is a mounted volume")
        volume_name = mounts[repository]["name"]
        volumes = {v["name"]: v for v in self.pod_spec()["volumes"]}
        self.assertIn(volume_name, volumes)
        if "emptyDir" in volumes[volume_name]:
            fillers = [c for c in self.pod_spec().get("initContainers", [])
                       if any(m["name"] == volume_name for m in c.get("volumeMounts", []))]
            self.assertTrue(fillers, "an init container fills the emptyDir repository")

    def test_security_context(self):
        spec = self.pod_spec()
        self.assertTrue(spec["securityContext"].get("runAsNonRoot"))
        self.assertFalse(spec.get("enableServiceLinks", True),
                         "no ATTNSERVE_* service-link variables reach the entrypoint")
        for container in spec["containers"] + spec.get("initContainers", []):
            with self.subTest(container=container["name"]):
                context = container.get("securityContext", {})
                self.assertTrue(context.get("readOnlyRootFilesystem"))
                self.assertFalse(context.get("allowPrivilegeEscalation", True))


if __name__ == "__main__":
    unittest.main()
