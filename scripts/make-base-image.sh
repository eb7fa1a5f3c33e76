#!/usr/bin/env bash
# Makes the Debian bookworm base image the Dockerfile builds FROM, for machines
# without a registry: mmdebstrap bootstraps a minimal Debian from Debian's mirror
# and podman imports it as localhost/debian:bookworm. Does nothing when that
# image is already present (--force rebuilds it). Installs podman, runc and
# mmdebstrap with apt when they are missing.
#
#   scripts/make-base-image.sh [--force] [IMAGE]     (default localhost/debian:bookworm)
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian),
# DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
set -euo pipefail

force=0
image=localhost/debian:bookworm
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "make-base-image: unknown option $arg" >&2; exit 2 ;;
    *) image=$arg ;;
  esac
done
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

# Tools: podman (and runc, the runtime `podman run --runtime runc` uses) and mmdebstrap.
missing=()
for tool in podman:podman runc:runc mmdebstrap:mmdebstrap; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "make-base-image: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ $force -eq 0 ]] && $sudo podman image exists "$image"; then
  echo "make-base-image: $image already present ($($sudo podman image inspect --format '{{.Size}}' "$image") bytes)"
  exit 0
fi

# minbase: essential packages + apt, which the Dockerfile's stages use to install
# their own packages. The merged-usr hook lays out merged /usr itself, so the
# usrmerge package (and with it Perl, ~50 MB) is not installed. No documentation,
# man pages or locales (copyright files are kept).
echo "make-base-image: bootstrapping bookworm from $mirror"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$sudo mmdebstrap --variant=minbase --components=main --format=tar \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --aptopt='Acquire::Languages "none"' \
  --aptopt='APT::Install-Recommends "false"' \
  bookworm "$tmp/rootfs.tar" \
  "deb $mirror bookworm main" \
  "deb $mirror bookworm-updates main" \
  "deb $security bookworm-security main"

$sudo podman import --change 'CMD ["/bin/bash"]' "$tmp/rootfs.tar" "$image" >/dev/null
echo "make-base-image: imported $image ($($sudo podman image inspect --format '{{.Size}}' "$image") bytes)"
