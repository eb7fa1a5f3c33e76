#!/usr/bin/env bash
# promtool_config_test: deploy/prometheus/ is a valid Prometheus setup.
#   1. promtool check config prometheus.yml (it loads alerts.yml, relative to it)
#   2. promtool check rules alerts.yml (fatal lint: no duplicate rules)
#   3. promtool test rules alerts_test.yml (each alert fires when it should,
#      and only then)
# Run from a scratch directory so that nothing depends on the caller's cwd.
# usage: promtool_config_test.sh SOURCE_DIR [PROMTOOL]
set -euo pipefail

source_dir=${1:?usage: promtool_config_test.sh SOURCE_DIR [PROMTOOL]}
promtool=${2:-/usr/bin/promtool}
deploy="$source_dir/deploy/prometheus"

if [[ ! -x "$promtool" ]]; then
  echo "FAIL: promtool not found at $promtool: run scripts/install-deps.sh" \
       "(it installs the Debian package 'prometheus', which provides promtool)" >&2
  exit 1
fi
"$promtool" --version 2>&1 | head -1

scratch=$(mktemp -d "${TMPDIR:-/tmp}/attnserve-promtool.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"

echo "== promtool check config $deploy/prometheus.yml"
"$promtool" check config "$deploy/prometheus.yml"
echo "== promtool check rules $deploy/alerts.yml"
"$promtool" check rules --lint=all --lint-fatal "$deploy/alerts.yml"
echo "== promtool test rules $deploy/alerts_test.yml"
"$promtool" test rules "$deploy/alerts_test.yml"
echo "PASS"
