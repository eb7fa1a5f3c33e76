#!/usr/bin/env bash
# promtool_config_test: deploy/prometheus/ is a valid Prometheus setup.
#   1. promtool check config prometheus.yml (it loads alerts.yml and
#      attention_rules.yml, relative to it)
#   2. promtool check rules on each (fatal lint: no duplicate rules)
#   3. promtool test rules alerts_test.yml and attention_rules_test.yml (each
#      alert fires when it should, and only then; the attention test replays
#      27 hours at 1 minute steps: about 4 s of CPU)
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
for rules in alerts attention_rules; do
  echo "== promtool check rules $deploy/$rules.yml"
  "$promtool" check rules --lint=all --lint-fatal "$deploy/$rules.yml"
  echo "== promtool test rules $deploy/${rules}_test.yml"
  "$promtool" test rules "$deploy/${rules}_test.yml"
done
echo "PASS"
