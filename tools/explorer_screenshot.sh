#!/usr/bin/env bash
# Regenerates docs/img/explorer.png, the attention explorer's picture in
# docs/explorer.md: the browser test (tests/python/explorer_browser_test.py)
# run against the built server, saving the page in compare mode on the demo
# sample. Needs a build (make build) and the browser test's packages
# (scripts/install-deps.sh: chromium, chromium-driver, python3-selenium).
#   tools/explorer_screenshot.sh [BUILD_DIR] [OUTPUT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
output=${2:-$root/docs/img/explorer.png}
cmake --build "$build" --target attnserve attnctl
/usr/bin/python3 "$root/tests/python/explorer_browser_test.py" --source="$root" \
  --attnserve="$build/server/attnserve" --attnctl="$build/client/attnctl" \
  --screenshot "$output" ExplorerTest.test_compare_two_versions_side_by_side
echo "wrote $output"
