#!/usr/bin/env python3
"""Clang's thread-safety analysis over every C++ source of attnserve.

Reads the build's compile_commands.json (the build may use any compiler), and
compiles each project source outside tests/ with clang++ -fsyntax-only
-Wthread-safety -Werror: a field read without the absl::Mutex named by its
ABSL_GUARDED_BY, a helper called without the lock its
ABSL_EXCLUSIVE_LOCKS_REQUIRED names, a lock not released on every path, and
every other clang warning fail the check. It prints one line per file and the
diagnostics of the files that failed, then a summary.

    thread_safety_check.py BUILD_DIR SOURCE_DIR [--clang CLANG] [--jobs N]

Exit status: 0 clean, 1 a file failed, 2 no clang (scripts/install-deps.sh
installs clang-14) or no compile_commands.json.
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

# Sources checked: everything that ships (tests use gtest macros that clang
# analyses differently and add nothing to the server's locking).
CHECKED_DIRS = ("engine/", "server/", "client/", "offline/", "fuzz/")
CLANG_FLAGS = ["-fsyntax-only", "-Wthread-safety", "-Wthread-safety-beta", "-Werror",
               # g++-only options in the shared warning set are not errors.
               "-Wno-unknown-warning-option"]


def clang_command(entry, clang):
    args = entry.get("arguments") or shlex.split(entry["command"])
    out = [clang]
    skip = False
    for arg in args[1:]:
        if skip:
            skip = False
            continue
        if arg in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if arg in ("-c", "-MD", "-MMD") or arg.startswith("-fsanitize") or arg == "--":
            continue
        out.append(arg)
    return out + CLANG_FLAGS


def check(entry, clang):
    started = time.monotonic()
    cmd = clang_command(entry, clang)
    proc = subprocess.run(cmd, cwd=entry["directory"], capture_output=True, text=True)
    return entry["file"], proc.returncode, proc.stderr, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir")
    parser.add_argument("source_dir")
    parser.add_argument("--clang", default=None)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    options = parser.parse_args()

    clang = options.clang or shutil.which("clang++-14") or shutil.which("clang++")
    if not clang:
        print("thread_safety_check: no clang++ (scripts/install-deps.sh installs clang-14)")
        return 2
    database = os.path.join(options.build_dir, "compile_commands.json")
    if not os.path.exists(database):
        print(f"thread_safety_check: {database} missing (configure with CMake first)")
        return 2
    source_dir = os.path.realpath(options.source_dir)
    with open(database) as f:
        entries = json.load(f)
    checked = []
    seen = set()
    for entry in entries:
        path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        rel = os.path.relpath(path, source_dir)
        if rel.startswith("..") or not rel.startswith(CHECKED_DIRS) or rel in seen:
            continue
        seen.add(rel)
        entry = dict(entry, file=path)
        checked.append(entry)
    if not checked:
        print("thread_safety_check: no project sources in", database)
        return 2

    # The analysis must be live: a known violation has to be rejected.
    violation = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "thread_safety_violation.cc")
    proc = subprocess.run([clang, "-std=c++17"] + CLANG_FLAGS + [violation],
                          capture_output=True, text=True)
    if proc.returncode == 0 or "-Wthread-safety" not in proc.stderr:
        print("thread_safety_check: clang accepted thread_safety_violation.cc; the analysis "
              "is not active, so a clean result would mean nothing\n" + proc.stderr)
        return 1
    print("thread_safety_check: the known violation is rejected ("
          + proc.stderr.splitlines()[0].split(": ", 1)[-1] + ")")

    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        for path, code, stderr, seconds in pool.map(
                lambda e: check(e, clang), checked):
            rel = os.path.relpath(path, source_dir)
            print(f"{'ok  ' if code == 0 else 'FAIL'} {rel} ({seconds:.1f} s)", flush=True)
            if code != 0:
                failed.append((rel, stderr))
    for rel, stderr in failed:
        print(f"\n== {rel}\n{stderr}")
    print(f"thread_safety_check: {len(checked) - len(failed)} of {len(checked)} sources "
          f"clean under {os.path.basename(clang)} -Wthread-safety -Werror")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
