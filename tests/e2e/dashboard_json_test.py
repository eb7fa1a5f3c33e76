#!/usr/bin/env python3
"""dashboard_json_test: deploy/grafana/ is well formed, without a Grafana.

- dashboards/attnserve.json parses and is what make_dashboard.py writes;
- panel ids are unique, panels lie on the 24-column grid without overlapping;
- every query panel and target uses the `datasource` variable, every target
  has an expression, every variable an expression uses is defined;
- the provisioning files point at the datasource uid and the dashboards path.

The expressions themselves are run against a real Prometheus by
prometheus_e2e_test. Standard library only.
usage: dashboard_json_test.py SOURCE_DIR
"""
import json
import os
import re
import subprocess
import sys


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 2:
        fail("usage: dashboard_json_test.py SOURCE_DIR")
    grafana = os.path.join(sys.argv[1], "deploy", "grafana")
    path = os.path.join(grafana, "dashboards", "attnserve.json")
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)

    check = subprocess.run([sys.executable, os.path.join(grafana, "make_dashboard.py"), "--check"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        fail(check.stderr.strip() or "make_dashboard.py --check failed")

    if dashboard.get("uid") != "attnserve" or dashboard.get("schemaVersion", 0) < 36:
        fail("the dashboard needs uid 'attnserve' and schemaVersion >= 36")
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    for needed in ("datasource", "model"):
        if needed not in variables:
            fail(f"variable ${needed} is missing")
    builtins = {"__rate_interval", "__interval", "__range", "__all"}

    ids = set()
    cells = {}
    exprs = 0
    for panel in dashboard["panels"]:
        title = panel.get("title", "?")
        if panel["id"] in ids:
            fail(f"panel id {panel['id']} is used twice")
        ids.add(panel["id"])
        g = panel["gridPos"]
        if g["x"] < 0 or g["w"] <= 0 or g["x"] + g["w"] > 24 or g["h"] <= 0:
            fail(f"panel '{title}' is off the grid: {g}")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    fail(f"panel '{title}' overlaps '{cells[(x, y)]}'")
                cells[(x, y)] = title
        if panel["type"] == "row":
            continue
        if panel.get("datasource", {}).get("uid") != "${datasource}":
            fail(f"panel '{title}' does not use the datasource variable")
        if not panel.get("targets"):
            fail(f"panel '{title}' has no query")
        for t in panel["targets"]:
            if t.get("datasource", {}).get("uid") != "${datasource}":
                fail(f"a query of '{title}' does not use the datasource variable")
            expr = t.get("expr", "").strip()
            if not expr:
                fail(f"a query of '{title}' is empty")
            for name in re.findall(r"\$\{?(\w+)", expr):
                if name not in variables and name not in builtins:
                    fail(f"'{title}' uses undefined variable ${name}: {expr}")
            exprs += 1

    with open(os.path.join(grafana, "provisioning", "datasources", "prometheus.yml"),
              encoding="utf-8") as f:
        datasources = f.read()
    for needed in ("uid: prometheus", "type: prometheus", "url: http://prometheus:9090"):
        if needed not in datasources:
            fail(f"provisioning/datasources/prometheus.yml lacks '{needed}'")
    with open(os.path.join(grafana, "provisioning", "dashboards", "attnserve.yml"),
              encoding="utf-8") as f:
        providers = f.read()
    for needed in ("type: file", "path: /var/lib/grafana/dashboards"):
        if needed not in providers:
            fail(f"provisioning/dashboards/attnserve.yml lacks '{needed}'")
    default_ds = next(v for v in dashboard["templating"]["list"] if v["name"] == "datasource")
    if default_ds["current"].get("value") != "prometheus":
        fail("the datasource variable does not default to the provisioned uid 'prometheus'")

    print(f"PASS: {len(ids)} panels, {exprs} expressions, variables {sorted(variables)}")


if __name__ == "__main__":
    main()
