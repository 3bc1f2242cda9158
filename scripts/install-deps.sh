#!/usr/bin/env bash
# Installs the Debian 12 packages baofeed needs to build, test and run.
# Idempotent: packages already present are skipped; `apt-get update` runs only
# when something is missing. Needs root (or sudo) only when it has work to do.
set -euo pipefail

packages=(
  # toolchain
  g++ make cmake ninja-build pkg-config clang-format
  # libraries
  libcurl4-openssl-dev libgumbo-dev libboost-dev libxml2-dev libsqlite3-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev libutf8proc-dev
  libxxhash-dev libgtest-dev nlohmann-json3-dev zlib1g-dev libzstd-dev libjemalloc-dev
  # run time and tests: TLS roots, feed checkers, the fixture server
  ca-certificates libxml2-utils python3 python3-feedparser
  # fuzzing (libFuzzer needs clang) and the extraction benchmark's reference extractor
  clang-14 libclang-rt-14-dev python3-readability
  # the crawl benchmark's baseline (bench/crawl-bench)
  python3-scrapy python3-zstandard
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
