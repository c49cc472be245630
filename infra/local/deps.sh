#!/usr/bin/env bash
# Makes sure the Debian packages the test suite needs are installed: radosgw, ceph-mon and
# ceph-osd (the real S3 server); curl, wget, aria2, gdal-bin and python3 (the real clients);
# chromium and ffmpeg (the browser test); nginx-light (the benchmarks' reference server); wrk (the
# benchmarks' load client, cheap in CPU).
# Installs what is missing when run as root; otherwise fails with the one command to run.
set -euo pipefail

packages=(radosgw ceph-mon ceph-osd ceph-common curl wget aria2 gdal-bin python3 chromium ffmpeg nginx-light wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "deps: missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}" >&2
apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
