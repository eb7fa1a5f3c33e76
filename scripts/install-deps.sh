#!/usr/bin/env bash
# Installs the Debian packages attnserve needs, and nothing else. Idempotent:
# when everything is present it changes nothing and says so.
#   scripts/install-deps.sh               build + test dependencies
#   scripts/install-deps.sh --build-only  only what compiling attnserve needs
#                                         (the Dockerfile's build stage)
#   scripts/install-deps.sh --tools       also PyTorch, to regenerate the
#                                         fixtures and the demo model
#   scripts/install-deps.sh --bench       also what `make bench` runs: PyTorch
#                                         with OpenBLAS, grpcio, matplotlib, perf
#   scripts/install-deps.sh --fuzz        also clang and its libFuzzer, ASan and
#                                         UBSan runtimes (`make fuzz`)
#   scripts/install-deps.sh --keras       also Node.js and npm, to regenerate the
#                                         Keras fixtures (`make keras-fixtures`)
# Test-only packages: `prometheus` (promtool, and the server the end-to-end
# metrics test scrapes with; its own service is not used), `kubernetes-client`
# (kubectl renders deploy/k8s; skipped when a kubectl is already installed, e.g.
# the upstream `kubectl` package, which conflicts with it), python3-yaml, and
# what the Python client (client/python) is built and tested with: grpcio,
# protobuf, numpy, matplotlib, grpc-tools (stub compiler; also for the KServe v2
# client the integration tests generate from proto/kserve), pip, setuptools and
# venv (its install), openssl (the certificates of the TLS tests, made at test
# time by tests/security/make_test_pki.sh), h5py (the Keras importer reads .h5
# and .keras files), and clang-14 (the thread-safety analysis `make test` runs,
# tests/static), and chromium, chromium-driver, python3-selenium and python3-pil
# (the attention explorer's browser test). libssl-dev: the server checks its
# TLS files with OpenSSL (gRPC's own dependency).
set -euo pipefail

packages=(
  build-essential cmake make pkg-config
  libabsl-dev libdnnl-dev nlohmann-json3-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  prometheus-cpp-dev libssl-dev libcpp-httplib-dev
)
python_client_packages=(python3-grpcio python3-protobuf python3-numpy python3-matplotlib
                        python3-grpc-tools python3-pip python3-setuptools python3-venv openssl)
# The attention explorer's browser test (tests/python/explorer_browser_test.py):
# headless Chromium, its WebDriver, Selenium, and Pillow to read its screenshots.
browser_test_packages=(chromium chromium-driver python3-selenium python3-pil)
test_packages=(libgtest-dev libgmock-dev libbenchmark-dev prometheus python3-yaml python3-h5py
               clang-14 "${python_client_packages[@]}" "${browser_test_packages[@]}")
command -v kubectl >/dev/null || test_packages+=(kubernetes-client)
case "${1:-}" in
  --build-only) ;;
  --tools) packages+=("${test_packages[@]}" python3-torch python3-numpy) ;;
  --fuzz) packages+=("${test_packages[@]}" libclang-rt-14-dev) ;;
  --keras) packages+=("${test_packages[@]}")
           # A Node.js from elsewhere (e.g. with its own npm) is kept.
           command -v node >/dev/null || packages+=(nodejs)
           command -v npm >/dev/null || packages+=(npm) ;;
  --bench) packages+=("${test_packages[@]}" python3-torch python3-numpy python3-matplotlib
                      python3-grpcio python3-grpc-tools libopenblas0-openmp linux-perf) ;;
  *) packages+=("${test_packages[@]}") ;;
esac

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
