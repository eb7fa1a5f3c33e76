#!/usr/bin/python3
"""Summarises `perf report --no-children --sort dso,sym --stdio` (on stdin).

Prints the share of samples per component (oneDNN JIT kernels, the rest of
oneDNN, OpenMP, gRPC/protobuf/abseil, kernel, libc/libstdc++, attnserve's
own code, prometheus-cpp, other) and the top symbols. oneDNN's JIT kernels
appear under perf-PID.map when the server ran with ONEDNN_JIT_PROFILE=2.
"""

import re
import sys

LINE = re.compile(r"^\s*([\d.]+)%\s+(.+?)\s+\[([.k])\]\s+(.*)$")
COMPONENTS = [
    ("oneDNN JIT kernels", lambda dso, sym: dso.startswith("perf-") or sym.startswith("jit")
     or dso.startswith("[JIT]")),
    ("oneDNN (non-JIT code)", lambda dso, sym: "libdnnl" in dso),
    ("OpenMP runtime (libgomp)", lambda dso, sym: "libgomp" in dso),
    ("gRPC / protobuf / abseil", lambda dso, sym: re.search(
        r"libgrpc|libgpr|libprotobuf|libabsl|libupb|libaddress_sorting|libre2|libcares|libssl|"
        r"libcrypto|libz", dso) is not None),
    ("prometheus-cpp", lambda dso, sym: "prometheus" in dso),
    ("kernel (syscalls, network, scheduler)", lambda dso, sym: dso.startswith("[kernel")),
    ("libc / libstdc++ / libm", lambda dso, sym: re.search(r"libc\.|libstdc\+\+|libm\.|ld-linux",
                                                           dso) is not None),
    ("attnserve (own code)", lambda dso, sym: dso == "attnserve"),
]


def main():
    rows = []
    for line in sys.stdin:
        m = LINE.match(line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(4).strip()))
    totals = {name: 0.0 for name, _ in COMPONENTS}
    totals["other / unknown"] = 0.0
    for pct, dso, sym in rows:
        for name, test in COMPONENTS:
            if test(dso, sym):
                totals[name] += pct
                break
        else:
            totals["other / unknown"] += pct
    print("\n## time by component (share of samples)")
    print("| component | share |\n| --- | ---: |")
    for name, pct in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {pct:.1f}% |")
    # JIT code is listed per thread (and, without a perf map, per address): fold it.
    folded = {}
    for pct, dso, sym in rows:
        if dso.startswith("[JIT]"):
            key = ("[JIT]", "(unnamed JIT code)" if sym.startswith("0x") else sym)
        else:
            key = (dso, sym)
        folded[key] = folded.get(key, 0.0) + pct
    print("\n## top symbols")
    print("| share | dso | symbol |\n| ---: | --- | --- |")
    for (dso, sym), pct in sorted(folded.items(), key=lambda kv: -kv[1])[:30]:
        print(f"| {pct:.2f}% | {dso} | `{sym[:90]}` |")


if __name__ == "__main__":
    main()
