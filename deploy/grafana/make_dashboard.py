#!/usr/bin/env python3
"""Writes deploy/grafana/dashboards/attnserve.json, the attnserve Grafana dashboard.

The JSON is generated so that every panel follows the same conventions (one
datasource variable, the same label filters, rates over $__rate_interval,
quantiles from `sum by (le)` buckets so that they aggregate across replicas).
Edit this file, then run it:

    python3 deploy/grafana/make_dashboard.py          # rewrite the JSON
    python3 deploy/grafana/make_dashboard.py --check  # exit 1 if the JSON is stale

ctest's dashboard_json_test runs --check; prometheus_e2e_test runs every
expression of the JSON against a real Prometheus scraping a real attnserve.
Standard library only.
"""
import argparse
import json
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards", "attnserve.json")

DS = {"type": "prometheus", "uid": "${datasource}"}

# Label filters: model-level series, and process-level series (no model label).
M = 'job=~"$job", instance=~"$instance", model=~"$model"'
P = 'job=~"$job", instance=~"$instance"'
RI = "$__rate_interval"


def quantile(q, metric, by="le"):
    return (f"histogram_quantile({q}, sum by ({by}) "
            f"(rate({metric}_bucket{{{M}}}[{RI}])))")


SERVER_ERROR_CODES = "INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED|UNKNOWN|DATA_LOSS"
CLIENT_ERROR_CODES = ("INVALID_ARGUMENT|NOT_FOUND|FAILED_PRECONDITION|OUT_OF_RANGE|"
                      "ALREADY_EXISTS|PERMISSION_DENIED|UNAUTHENTICATED|RESOURCE_EXHAUSTED|"
                      "ABORTED|UNIMPLEMENTED|CANCELLED")


class Layout:
    """Assigns panel ids and grid positions: rows of panels 24 units wide."""

    def __init__(self):
        self.panels = []
        self.next_id = 1
        self.y = 0
        self.x = 0
        self.row_height = 0

    def _id(self):
        self.next_id += 1
        return self.next_id - 1

    def row(self, title):
        self._newline()
        self.panels.append({"type": "row", "id": self._id(), "title": title, "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def _newline(self):
        if self.x > 0:
            self.y += self.row_height
            self.x = 0
            self.row_height = 0

    def add(self, panel, w=12, h=8):
        if self.x + w > 24:
            self._newline()
        panel["id"] = self._id()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_height = max(self.row_height, h)
        self.panels.append(panel)


def target(expr, legend, ref, **extra):
    t = {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref, "range": True,
         "instant": False, "editorMode": "code"}
    t.update(extra)
    return t


def targets(*pairs):
    return [target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(pairs)]


def timeseries(title, description, tgts, unit="short", min_=0, max_=None, stack=False,
               overrides=None):
    defaults = {
        "unit": unit,
        "min": min_,
        "color": {"mode": "palette-classic"},
        "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if stack else 0,
                   "showPoints": "never", "spanNulls": False,
                   "stacking": {"mode": "normal" if stack else "none", "group": "A"}},
    }
    if max_ is not None:
        defaults["max"] = max_
    return {
        "type": "timeseries", "title": title, "description": description, "datasource": DS,
        "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom",
                               "calcs": ["mean", "max", "lastNotNull"], "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": tgts,
    }


def stat(title, description, tgts, unit="short", mappings=None, thresholds=None):
    return {
        "type": "stat", "title": title, "description": description, "datasource": DS,
        "fieldConfig": {"defaults": {
            "unit": unit, "mappings": mappings or [],
            "color": {"mode": "thresholds"},
            "thresholds": thresholds or {"mode": "absolute",
                                         "steps": [{"color": "green", "value": None}]}},
            "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "background", "graphMode": "none", "textMode": "value_and_name",
                    "justifyMode": "auto", "orientation": "auto"},
        "targets": tgts,
    }


def build():
    lay = Layout()

    # ---------------------------------------------------------------- traffic
    lay.row("Traffic and errors")
    lay.add(timeseries(
        "Request rate by model and code",
        "Inference requests answered per second (every protocol), by model and gRPC status "
        "code "
        "(attnserve_requests_total). model=\"\" counts requests that named no servable "
        "model version. Codes with no traffic are hidden.",
        targets((f"sum by (model, code) (rate(attnserve_requests_total{{{M}}}[{RI}])) > 0",
                 "{{model}} {{code}}")),
        unit="reqps", stack=True), w=12)
    lay.add(timeseries(
        "Error ratio by model",
        "Fraction of requests answered with a server-side error "
        f"({SERVER_ERROR_CODES.replace('|', ', ')}: what AttnserveHighErrorRate alerts on at 5%) "
        "and with a client error (invalid input, unknown model, cancelled).",
        targets(
            (f"sum by (model) (rate(attnserve_requests_total{{{M}, code=~\"{SERVER_ERROR_CODES}\"}}[{RI}]))"
             f" / sum by (model) (rate(attnserve_requests_total{{{M}}}[{RI}]))",
             "{{model}} server-side"),
            (f"sum by (model) (rate(attnserve_requests_total{{{M}, code=~\"{CLIENT_ERROR_CODES}\"}}[{RI}]))"
             f" / sum by (model) (rate(attnserve_requests_total{{{M}}}[{RI}]))",
             "{{model}} client")),
        unit="percentunit", max_=1), w=12)
    lay.add(timeseries(
        "In-flight requests",
        "Classify requests accepted and not yet answered (attnserve_inflight_requests), "
        "per replica and model.",
        targets((f"sum by (instance, model) (attnserve_inflight_requests{{{M}}})",
                 "{{instance}} {{model}}"))), w=12)
    lay.add(timeseries(
        "Rejected by reason",
        "Requests or sequences not computed, per second, by reason "
        "(attnserve_rejected_total): invalid, not_ready, too_large (requests), queue_full, "
        "client_limit, overload, deadline, cancelled, shutdown (sequences). Reasons with no "
        "traffic are hidden.",
        targets((f"sum by (model, reason) (rate(attnserve_rejected_total{{{M}}}[{RI}])) > 0",
                 "{{model}} {{reason}}")),
        unit="ops", stack=True), w=12)
    lay.add(timeseries(
        "Request rate by protocol",
        "Inference requests answered per second by the protocol they came by "
        "(attnserve_requests_total's protocol label): v1 (attnserve.v1 gRPC), kserve_grpc "
        "and kserve_http (the Open Inference Protocol, KServe v2, over gRPC and HTTP/REST). "
        "Protocols with no traffic are hidden.",
        targets((f"sum by (protocol) (rate(attnserve_requests_total{{{M}}}[{RI}])) > 0",
                 "{{protocol}}")),
        unit="reqps", stack=True), w=12)
    lay.add(timeseries(
        "Client error ratio by protocol",
        "Fraction of each protocol's requests refused as the client's mistake (invalid input, "
        "unknown model or output, cancelled): a new client or integration that sends "
        "malformed tensors shows up here.",
        targets(
            (f"sum by (protocol) (rate(attnserve_requests_total{{{M}, code=~\"{CLIENT_ERROR_CODES}\"}}[{RI}]))"
             f" / sum by (protocol) (rate(attnserve_requests_total{{{M}}}[{RI}]))",
             "{{protocol}}")),
        unit="percentunit", max_=1), w=12)

    # ---------------------------------------------------------------- latency
    lay.row("Latency")
    lay.add(timeseries(
        "Request latency p50 / p95 / p99",
        "Server-side Classify latency, receipt to answer "
        "(attnserve_request_duration_seconds), over every selected model and replica: "
        "buckets are summed before histogram_quantile, which is how quantiles aggregate.",
        targets(
            (quantile(0.5, "attnserve_request_duration_seconds"), "p50"),
            (quantile(0.95, "attnserve_request_duration_seconds"), "p95"),
            (quantile(0.99, "attnserve_request_duration_seconds"), "p99")),
        unit="s"), w=12)
    lay.add(timeseries(
        "p99 latency by model",
        "99th percentile of server-side latency per model, all replicas "
        "(what AttnserveHighLatencyP99 alerts on at 500ms).",
        targets((quantile(0.99, "attnserve_request_duration_seconds", by="le, model"),
                 "{{model}} p99")),
        unit="s"), w=12)
    lay.add(timeseries(
        "p50 / p99 latency by protocol",
        "Server-side latency per protocol (attnserve_request_duration_seconds by protocol), "
        "all selected models and replicas: the same core serves every protocol, so a gap "
        "between them is the protocol's own cost (decoding, encoding).",
        targets(
            (quantile(0.5, "attnserve_request_duration_seconds", by="le, protocol"),
             "{{protocol}} p50"),
            (quantile(0.99, "attnserve_request_duration_seconds", by="le, protocol"),
             "{{protocol}} p99")),
        unit="s"), w=12)
    lay.add(timeseries(
        "Queue wait vs batch compute (p50 / p99)",
        "Where the time goes: attnserve_queue_duration_seconds (per sequence, from "
        "enqueue to its batch's start) against attnserve_batch_compute_duration_seconds "
        "(per batch, the engine's run). Queue wait growing while compute is flat means "
        "the replica is saturated.",
        targets(
            (quantile(0.5, "attnserve_queue_duration_seconds"), "queue wait p50"),
            (quantile(0.99, "attnserve_queue_duration_seconds"), "queue wait p99"),
            (quantile(0.5, "attnserve_batch_compute_duration_seconds"), "compute p50"),
            (quantile(0.99, "attnserve_batch_compute_duration_seconds"), "compute p99")),
        unit="s"), w=12)
    lay.add(timeseries(
        "Mean queue wait vs compute",
        "Mean time per sequence in the queue and mean time per batch in the engine "
        "(histogram _sum / _count).",
        targets(
            (f"sum(rate(attnserve_queue_duration_seconds_sum{{{M}}}[{RI}])) / "
             f"sum(rate(attnserve_queue_duration_seconds_count{{{M}}}[{RI}]))", "queue wait"),
            (f"sum(rate(attnserve_batch_compute_duration_seconds_sum{{{M}}}[{RI}])) / "
             f"sum(rate(attnserve_batch_compute_duration_seconds_count{{{M}}}[{RI}]))",
             "compute")),
        unit="s"), w=12)

    # --------------------------------------------------------------- batching
    lay.row("Batching")
    lay.add(timeseries(
        "Batch size",
        "Sequences per batch run (attnserve_batch_size): the mean (_sum / _count) and "
        "the median and 99th percentile.",
        targets(
            (f"sum(rate(attnserve_batch_size_sum{{{M}}}[{RI}])) / "
             f"sum(rate(attnserve_batch_size_count{{{M}}}[{RI}]))", "mean"),
            (quantile(0.5, "attnserve_batch_size"), "p50"),
            (quantile(0.99, "attnserve_batch_size"), "p99"))), w=8)
    heat = {
        "type": "heatmap", "title": "Batch size distribution",
        "description": "Batches per interval in each attnserve_batch_size bucket.",
        "datasource": DS,
        "fieldConfig": {"defaults": {"custom": {"scaleDistribution": {"type": "linear"},
                                                "hideFrom": {"legend": False, "tooltip": False,
                                                             "viz": False}}},
                        "overrides": []},
        "options": {"calculate": False, "cellGap": 1, "yAxis": {"axisPlacement": "left",
                                                                "unit": "short"},
                    "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64,
                              "exponent": 0.5, "fill": "dark-orange", "scale": "exponential",
                              "reverse": False},
                    "rowsFrame": {"layout": "auto"}, "filterValues": {"le": 1e-9},
                    "cellValues": {"unit": "short"}, "legend": {"show": True},
                    "tooltip": {"show": True, "yHistogram": False},
                    "exemplars": {"color": "rgba(255,0,255,0.7)"}},
        "targets": [target(f"sum by (le) (increase(attnserve_batch_size_bucket{{{M}}}[{RI}]))",
                           "{{le}}", "A", format="heatmap")],
    }
    lay.add(heat, w=8)
    lay.add(timeseries(
        "Batches and sequences per second",
        "Batches run and sequences computed per second (attnserve_batch_size _count and _sum).",
        targets(
            (f"sum(rate(attnserve_batch_size_count{{{M}}}[{RI}]))", "batches/s"),
            (f"sum(rate(attnserve_batch_size_sum{{{M}}}[{RI}]))", "sequences/s")),
        unit="ops"), w=8)
    lay.add(timeseries(
        "Padding ratio",
        "Fraction of computed timesteps that were padding: "
        "1 - timesteps_requested / timesteps_computed. A batch runs every member for its "
        "longest (padded) length; --max_padding_fraction bounds this.",
        targets((f"1 - sum by (model) (rate(attnserve_timesteps_requested_total{{{M}}}[{RI}])) / "
                 f"sum by (model) (rate(attnserve_timesteps_computed_total{{{M}}}[{RI}]))",
                 "{{model}}")),
        unit="percentunit", max_=1), w=8)
    lay.add(timeseries(
        "Sequence length p50 / p99",
        "Timesteps per sequence received (attnserve_sequence_length).",
        targets(
            (quantile(0.5, "attnserve_sequence_length"), "p50"),
            (quantile(0.99, "attnserve_sequence_length"), "p99"))), w=8)
    lay.add(timeseries(
        "Timesteps per second",
        "Timesteps of the sequences run (requested) and computed including padding.",
        targets(
            (f"sum(rate(attnserve_timesteps_requested_total{{{M}}}[{RI}]))", "requested"),
            (f"sum(rate(attnserve_timesteps_computed_total{{{M}}}[{RI}]))", "computed")),
        unit="ops"), w=8)

    # ------------------------------------------------------------- saturation
    lay.row("Saturation and models")
    lay.add(timeseries(
        "Queue depth",
        "Sequences waiting in each model version's queue, per replica "
        "(attnserve_queue_depth). New requests are answered UNAVAILABLE when it reaches "
        "--max_queue_size (default 1024); AttnserveQueueBacklog fires above 512.",
        targets((f"sum by (instance, model, version) (attnserve_queue_depth{{{M}}})",
                 "{{instance}} {{model}} v{{version}}"))), w=12)
    state_expr = (
        f"max by (instance, model, version) (attnserve_model_state{{{M}, state=\"loading\"}}) * 1"
        f" + max by (instance, model, version) (attnserve_model_state{{{M}, state=\"ready\"}}) * 2"
        f" + max by (instance, model, version) (attnserve_model_state{{{M}, state=\"unloading\"}}) * 3"
        f" + max by (instance, model, version) (attnserve_model_state{{{M}, state=\"failed\"}}) * 4")
    lay.add({
        "type": "state-timeline", "title": "Model version state",
        "description": "attnserve_model_state per replica and model version: "
                       "loading, ready, unloading (draining after a newer version took "
                       "over) or failed (docs/model-management.md).",
        "datasource": DS,
        "fieldConfig": {"defaults": {
            "color": {"mode": "thresholds"},
            "thresholds": {"mode": "absolute", "steps": [{"color": "transparent", "value": None}]},
            "mappings": [{"type": "value", "options": {
                "0": {"text": "unknown", "color": "gray", "index": 0},
                "1": {"text": "loading", "color": "yellow", "index": 1},
                "2": {"text": "ready", "color": "green", "index": 2},
                "3": {"text": "unloading", "color": "blue", "index": 3},
                "4": {"text": "failed", "color": "red", "index": 4}}}],
            "custom": {"fillOpacity": 80, "lineWidth": 0}}, "overrides": []},
        "options": {"showValue": "auto", "mergeValues": True, "rowHeight": 0.9,
                    "alignValue": "left", "legend": {"showLegend": False},
                    "tooltip": {"mode": "single"}},
        "targets": [target(state_expr, "{{instance}} {{model}} v{{version}}", "A")],
    }, w=12)
    lay.add(stat(
        "Model load duration",
        "Time each model version took to load (attnserve_model_load_duration_seconds).",
        [target(f"attnserve_model_load_duration_seconds{{{M}}}",
                "{{instance}} {{model}} v{{version}}", "A")],
        unit="s"), w=12, h=5)
    lay.add(stat(
        "Uptime",
        "Time since each replica started (process_start_time_seconds).",
        [target(f"time() - process_start_time_seconds{{{P}}}", "{{instance}}", "A")],
        unit="s"), w=12, h=5)
    lay.add(timeseries(
        "Model loads, unloads and load failures",
        "Versions loaded (and made ready), unloaded and failed to load per model, per "
        "minute (attnserve_model_loads_total, attnserve_model_unloads_total, "
        "attnserve_model_load_failures_total): a rollout is a load followed by an "
        "unload; a failure leaves the serving version in place.",
        targets((f"sum by (model) (increase(attnserve_model_loads_total{{{M}}}[1m]))",
                 "{{model}} loads"),
                (f"sum by (model) (increase(attnserve_model_unloads_total{{{M}}}[1m]))",
                 "{{model}} unloads"),
                (f"sum by (model) (increase(attnserve_model_load_failures_total{{{M}}}[1m]))",
                 "{{model}} load failures"))), w=12)
    lay.add(stat(
        "Model warm-up duration",
        "Time each model version's warm-up took before it served "
        "(attnserve_model_warmup_duration_seconds).",
        [target(f"attnserve_model_warmup_duration_seconds{{{M}}}",
                "{{instance}} {{model}} v{{version}}", "A")],
        unit="s"), w=12, h=8)

    # ----------------------------------------------------------------- engine
    lay.row("Engine")
    lay.add(timeseries(
        "Plan cache",
        "Batches per second whose shape's prepared plan was cached, and plans built "
        "(attnserve_plan_cache_hits_total, attnserve_plans_built_total). Plans built "
        "under steady traffic mean shapes are evicted and rebuilt: raise "
        "--max_cached_plans or --max_plan_cache_mb.",
        targets((f"sum by (model, version) (rate(attnserve_plan_cache_hits_total{{{M}}}[{RI}]))",
                 "{{model}} v{{version}} hits"),
                (f"sum by (model, version) (rate(attnserve_plans_built_total{{{M}}}[{RI}]))",
                 "{{model}} v{{version}} built"),
                (f"sum by (model, version) "
                 f"(rate(attnserve_plan_cache_evictions_total{{{M}}}[{RI}]))",
                 "{{model}} v{{version}} evicted")),
        unit="ops"), w=8)
    lay.add(timeseries(
        "Engine memory",
        "Bytes held by each version's prepared weights (attnserve_prepared_weight_bytes) "
        "and, estimated, by its workers' cached plans (attnserve_plan_cache_bytes).",
        targets((f"sum by (instance, model, version) "
                 f"(attnserve_prepared_weight_bytes{{{M}}})",
                 "{{instance}} {{model}} v{{version}} weights"),
                (f"sum by (instance, model, version) (attnserve_plan_cache_bytes{{{M}}})",
                 "{{instance}} {{model}} v{{version}} plans")),
        unit="bytes"), w=8)
    lay.add(stat(
        "Warm-up",
        "Warm-up time of each version before it was ready "
        "(attnserve_model_warmup_duration_seconds, --warmup_lengths).",
        [target(f"attnserve_model_warmup_duration_seconds{{{M}}}",
                "{{instance}} {{model}} v{{version}}", "A")],
        unit="s"), w=4)
    lay.add(stat(
        "Replicas by CPU",
        "Replicas per CPU instruction set oneDNN runs on (attnserve_build_info): avx2 "
        "replicas run oneDNN's AVX2 path and cannot serve bf16 models.",
        [target(f"count by (isa) (attnserve_build_info{{{P}}})", "{{isa}}", "A")]), w=4)

    # -------------------------------------------------------------- attention
    lay.row("Attention")
    by = "le, model, version, map"
    legend = "{{model}} v{{version}} {{map}}"
    lay.add(timeseries(
        "Attention entropy p50 / p90",
        "Per model version and attention map: entropy of each sequence's weights divided "
        "by log(length) (attnserve_attention_entropy): 1 = spread evenly, 0 = all on one "
        "step (for map=feature: over the input features). docs/attention-monitoring.md.",
        targets((quantile(0.5, "attnserve_attention_entropy", by), f"{legend} p50"),
                (quantile(0.9, "attnserve_attention_entropy", by), f"{legend} p90")),
        max_=1), w=8)
    lay.add(timeseries(
        "Attention peak position p50 / p90",
        "Where each sequence's largest weight sits, argmax / (length - 1): 0 = first "
        "step, 1 = last (attnserve_attention_peak_position).",
        targets((quantile(0.5, "attnserve_attention_peak_position", by), f"{legend} p50"),
                (quantile(0.9, "attnserve_attention_peak_position", by), f"{legend} p90")),
        max_=1), w=8)
    lay.add(timeseries(
        "Attention peak weight p50 / p90",
        "The largest weight of each sequence's map (attnserve_attention_peak_weight): "
        "1/length for uniform attention, 1 when one step takes it all.",
        targets((quantile(0.5, "attnserve_attention_peak_weight", by), f"{legend} p50"),
                (quantile(0.9, "attnserve_attention_peak_weight", by), f"{legend} p90")),
        max_=1), w=8)
    lay.add(timeseries(
        "Feature attention shares",
        "Mean share of the feature attention per input feature (attnserve_attention_"
        "feature_share; models with feature attention over at most "
        "--attention_feature_metrics_max_d features). Stacked: the shares sum to 1.",
        targets((f"sum by (model, version, feature) "
                 f"(rate(attnserve_attention_feature_share_sum{{{M}}}[{RI}])) / "
                 f"sum by (model, version, feature) "
                 f"(rate(attnserve_attention_feature_share_count{{{M}}}[{RI}]))",
                 "{{model}} v{{version}} feature {{feature}}")),
        max_=1, stack=True), w=8)
    R = 'model=~"$model"'
    lay.add(timeseries(
        "Median peak position: last hour vs the day before",
        "The recording rules of deploy/prometheus/attention_rules.yml, per model and map "
        "across replicas and versions: the last hour's median peak position and the band "
        "learned over the previous day (mean +- max(3 sd, 0.1)). "
        "AttnserveAttentionPeakShift fires when the median stays outside for 15 minutes.",
        targets((f"model_map:attnserve_attention_peak_position:median1h{{{R}}}",
                 "{{model}} {{map}} last hour"),
                (f"model_map:attnserve_attention_peak_position_median1h:avg1d{{{R}}} + "
                 f"clamp_min(3 * model_map:attnserve_attention_peak_position_median1h:stddev1d"
                 f"{{{R}}}, 0.1)", "{{model}} {{map}} band high"),
                (f"model_map:attnserve_attention_peak_position_median1h:avg1d{{{R}}} - "
                 f"clamp_min(3 * model_map:attnserve_attention_peak_position_median1h:stddev1d"
                 f"{{{R}}}, 0.1)", "{{model}} {{map}} band low")),
        max_=1), w=8)
    lay.add(timeseries(
        "Median entropy: last hour vs the day before",
        "As on the left for the normalised entropy (AttnserveAttentionEntropyShift).",
        targets((f"model_map:attnserve_attention_entropy:median1h{{{R}}}",
                 "{{model}} {{map}} last hour"),
                (f"model_map:attnserve_attention_entropy_median1h:avg1d{{{R}}} + "
                 f"clamp_min(3 * model_map:attnserve_attention_entropy_median1h:stddev1d"
                 f"{{{R}}}, 0.1)", "{{model}} {{map}} band high"),
                (f"model_map:attnserve_attention_entropy_median1h:avg1d{{{R}}} - "
                 f"clamp_min(3 * model_map:attnserve_attention_entropy_median1h:stddev1d"
                 f"{{{R}}}, 0.1)", "{{model}} {{map}} band low")),
        max_=1), w=8)
    lay.add(timeseries(
        "Head gate mean p50",
        "Models with a head gate: the median over sequences of the gate's mean value "
        "(attnserve_attention_gate_mean): how much of the head's vector passes.",
        targets((quantile(0.5, "attnserve_attention_gate_mean", by), f"{legend} p50")),
        max_=1), w=8)

    # ---------------------------------------------------------------- process
    lay.row("Process")
    lay.add(timeseries(
        "Resident memory",
        "Resident set size of each replica (process_resident_memory_bytes).",
        targets((f"process_resident_memory_bytes{{{P}}}", "{{instance}}")),
        unit="bytes"), w=8)
    lay.add(timeseries(
        "CPU",
        "CPU cores in use by each replica (rate of process_cpu_seconds_total: 1 = one "
        "core busy).",
        targets((f"rate(process_cpu_seconds_total{{{P}}}[{RI}])", "{{instance}}"))), w=8)
    lay.add(timeseries(
        "Open file descriptors",
        "process_open_fds against the limit process_max_fds.",
        targets((f"process_open_fds{{{P}}}", "{{instance}} open"),
                (f"process_max_fds{{{P}}}", "{{instance}} limit"))), w=8)

    def query_var(name, label, query, multi, include_all, all_value=None, current=None):
        v = {"name": name, "label": label, "type": "query", "datasource": DS,
             "query": {"query": query, "refId": f"{name}-var"}, "definition": query,
             "refresh": 2, "sort": 1, "multi": multi, "includeAll": include_all,
             "hide": 0, "regex": "", "options": [],
             "current": current or {"selected": True, "text": ["All"], "value": ["$__all"]}}
        if all_value is not None:
            v["allValue"] = all_value
        return v

    templating = [
        {"name": "datasource", "label": "Data source", "type": "datasource",
         "query": "prometheus", "refresh": 1, "regex": "", "hide": 0, "multi": False,
         "includeAll": False, "options": [],
         "current": {"selected": True, "text": "Prometheus", "value": "prometheus"}},
        query_var("job", "Job", "label_values(attnserve_requests_total, job)", False, False,
                  current={"selected": True, "text": "attnserve", "value": "attnserve"}),
        query_var("instance", "Instance",
                  'label_values(attnserve_requests_total{job=~"$job"}, instance)', True, True,
                  all_value=".*"),
        query_var("model", "Model",
                  'label_values(attnserve_requests_total{job=~"$job", model!=""}, model)',
                  True, True, all_value=".*"),
    ]

    return {
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.4.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
        ],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "description": "attnserve: traffic, errors, latency, batching, saturation, model "
                       "state and process resources. Metrics: docs/metrics.md.",
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [],
        "liveNow": False,
        "panels": lay.panels,
        "refresh": "10s",
        "schemaVersion": 38,
        "style": "dark",
        "tags": ["attnserve"],
        "templating": {"list": templating},
        "time": {"from": "now-1h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": "attnserve",
        "uid": "attnserve",
        "version": 1,
        "weekStart": "",
    }


def render():
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the JSON differs from what this script writes")
    args = parser.parse_args()
    text = render()
    if args.check:
        try:
            with open(OUT, encoding="utf-8") as f:
                current = f.read()
        except OSError as e:
            print(f"make_dashboard: cannot read {OUT}: {e}", file=sys.stderr)
            return 1
        if current != text:
            print(f"make_dashboard: {OUT} is stale; run python3 deploy/grafana/make_dashboard.py",
                  file=sys.stderr)
            return 1
        print(f"make_dashboard: {OUT} is up to date")
        return 0
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"make_dashboard: wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
