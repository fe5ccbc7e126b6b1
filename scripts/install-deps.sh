#!/usr/bin/env bash
# Installs every Debian 12 package OncoMesh needs to build, test, run the demo and benchmark.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # lint (scripts/lint.sh; the test suite checks the formatting)
  clang-format clang-tidy
  # fuzzing (scripts/fuzz.sh, docs/fuzzing.md): clang 14 and its libFuzzer
  clang clang-14 libfuzzer-14-dev
  # libraries (see CMakeLists.txt)
  libboost-dev libssl-dev libsqlite3-dev libroaring-dev nlohmann-json3-dev libcli11-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev zlib1g-dev libsimdjson-dev libhts-dev
  # JOSE (JWK, JWS) for passports, visas and signed audit checkpoints
  libcjose-dev libjansson-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev nodejs sqlite3 curl wrk postgresql libpq-dev
  # outside verifiers of the audit log (tests/audit_outside_verifier_test.cc): the Python of
  # docs/audit.md and the openssl CLI for checkpoint signatures
  python3 openssl
  # genomics: htslib's own tools, as test client (htsget), oracle (bcftools view -r) and
  # benchmark baseline (tabix)
  bcftools tabix
  # imaging: DCMTK (library; storescu, dcmdump as test client and oracle), dicom3tools'
  # dciodvfy (an independent validator of the DICOM the node writes)
  libdcmtk-dev dcmtk dicom3tools
  # imaging benchmark baseline (bench/imaging.sh starts its own instance on loopback)
  orthanc
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The npm package dicomweb-client (OHIF's DICOMweb client), a real client in tests/dicomweb_test.cc;
# versions pinned by tests/dicomweb-client/package-lock.json.
client_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/dicomweb-client"
if [ ! -d "$client_dir/node_modules/dicomweb-client" ]; then
  echo "install-deps: npm ci in tests/dicomweb-client"
  (cd "$client_dir" && npm ci --no-audit --no-fund --silent)
fi

# The npm package jose (panva/jose), an independent JWT library: tests/jose-issuer/issuer.mjs
# signs passports and visas with it for tests/passport_https_test.cc; pinned by
# tests/jose-issuer/package-lock.json.
issuer_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/jose-issuer"
if [ ! -d "$issuer_dir/node_modules/jose" ]; then
  echo "install-deps: npm ci in tests/jose-issuer"
  (cd "$issuer_dir" && npm ci --no-audit --no-fund --silent)
fi
