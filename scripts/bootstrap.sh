#!/usr/bin/env bash
# Installs what meshwork needs to build and test on Debian 12, and nothing when it is all there.
#
#   scripts/bootstrap.sh            Debian packages (apt) + DuckDB 1.4.4 (npm registry), quiet if present
#   scripts/bootstrap.sh --print-duckdb-root   print the folder holding duckdb.h and libduckdb.so
#
# Environment:
#   DUCKDB_ROOT=/dir      use this folder (duckdb.h + libduckdb.so, like DuckDB's release zip); no download
#   XDG_CACHE_HOME        cache root (default ~/.cache); DuckDB lands in $XDG_CACHE_HOME/meshwork/duckdb-1.4.4
#   NPM_REGISTRY=url      npm registry to fetch DuckDB from (default: npm's configured registry)
#
# Idempotent: apt-get update runs only when a package must be installed; DuckDB is downloaded once
# and verified against the registry's sha512 integrity, which must also equal the value pinned here.
set -euo pipefail

readonly DUCKDB_VERSION=1.4.4
# The header comes from the `duckdb` package, the library from the node bindings package. arm64 has
# no r.4 build of 1.4.4 on the registry; r.3 carries the same DuckDB 1.4.4 library.
readonly HEADER_PKG="duckdb" HEADER_VER="1.4.4"
readonly HEADER_SHA512="sha512-hEJJ5hyVF0VLj3dmOLpsWrQR0b3d4Ykqtygm6iUXjHJDDnSqg/USKxcb5qvNrOhFYPgktayU6dXCtgPqcmmpog=="
readonly HEADER_PATH_IN_TGZ="package/src/duckdb/src/include/duckdb.h"

# Packages of DESIGN §3 that the build and the tests use. Later features add theirs here.
APT_PACKAGES=(
  g++ cmake make ninja-build pkg-config ccache clang-format curl ca-certificates git
  libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libsimdjson-dev
  libcpp-httplib-dev libasio-dev libssl-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev
  zlib1g-dev libsnappy-dev libzstd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql-client postgresql-15
  python3-avro avro-bin
  chromium fonts-liberation
)

die() { echo "bootstrap: $*" >&2; exit 1; }

cache_root() { echo "${XDG_CACHE_HOME:-$HOME/.cache}/meshwork"; }
duckdb_cache_dir() { echo "$(cache_root)/duckdb-${DUCKDB_VERSION}"; }

install_missing_apt_packages() {
  local missing=() pkg status
  for pkg in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "missing Debian packages: ${missing[*]}; run as root or install them: apt-get install ${missing[*]}"
    sudo=(sudo)
  fi
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local log
  log=$(mktemp)
  if ! { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get could not install: ${missing[*]}"
  fi
  rm -f "$log"
}

npm_registry() {
  local registry="${NPM_REGISTRY:-}"
  if [[ -z "$registry" ]] && command -v npm >/dev/null; then
    registry=$(npm config get registry 2>/dev/null || true)
  fi
  registry="${registry:-https://registry.npmjs.org/}"
  echo "${registry%/}"
}

library_package() {
  case "$(uname -m)" in
    x86_64 | amd64) echo "@duckdb/node-bindings-linux-x64 1.4.4-r.4 sha512-jBTL/WvfwxLToFa/pVHfT6elMtltJGnc3wSuxZD9OfMltit9YUdVFS37vBFQzXMT1Z8OWjtSjMh+zPKxOwHLHA==" ;;
    aarch64 | arm64) echo "@duckdb/node-bindings-linux-arm64 1.4.4-r.3 -" ;;
    *) die "no DuckDB ${DUCKDB_VERSION} build for $(uname -m); set DUCKDB_ROOT to a folder with duckdb.h and libduckdb.so" ;;
  esac
}

# Prints the first string value of "key" in a JSON text (enough for a registry version document,
# whose dist.integrity and dist.tarball keys are unique), or nothing.
json_string_field() {
  grep -oE "\"$1\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" <<<"$2" | head -n1 | sed -E 's/.*:[[:space:]]*"([^"]*)"/\1/' || true
}

# Downloads package@version's tarball to $3 after checking the registry's integrity value against
# the pinned one ("-" when none is pinned) and the downloaded bytes against both.
fetch_verified_tarball() {
  local pkg="$1" version="$2" out="$3" pinned="$4" registry meta integrity tarball actual
  registry=$(npm_registry)
  meta=$(curl -fsSL --retry 3 "${registry}/${pkg}/${version}") ||
    die "cannot read ${pkg}@${version} from ${registry}; check network access to the npm registry or set DUCKDB_ROOT"
  integrity=$(json_string_field integrity "$meta")
  tarball=$(json_string_field tarball "$meta")
  [[ -n "$integrity" && -n "$tarball" ]] || die "registry answer for ${pkg}@${version} has no dist.integrity/tarball"
  if [[ "$pinned" != "-" && "$integrity" != "$pinned" ]]; then
    die "registry integrity of ${pkg}@${version} is ${integrity}, expected the pinned ${pinned}; refusing to use it"
  fi
  curl -fsSL --retry 3 -o "$out" "$tarball" || die "download of ${tarball} failed"
  actual="sha512-$(openssl dgst -sha512 -binary "$out" | base64 -w0)"
  [[ "$actual" == "$integrity" ]] || die "${pkg}@${version}: downloaded tarball has ${actual}, registry says ${integrity}"
}

ensure_duckdb() {
  if [[ -n "${DUCKDB_ROOT:-}" ]]; then
    [[ -f "$DUCKDB_ROOT/duckdb.h" && -f "$DUCKDB_ROOT/libduckdb.so" ]] ||
      die "DUCKDB_ROOT=$DUCKDB_ROOT must contain duckdb.h and libduckdb.so"
    return 0
  fi
  local dir
  dir=$(duckdb_cache_dir)
  [[ -f "$dir/.verified" && -f "$dir/duckdb.h" && -f "$dir/libduckdb.so" ]] && return 0

  echo "bootstrap: fetching DuckDB ${DUCKDB_VERSION} from the npm registry into ${dir}"
  local lib_pkg lib_ver lib_sha
  read -r lib_pkg lib_ver lib_sha <<<"$(library_package)"
  mkdir -p "$(cache_root)"
  work=$(mktemp -d "$(cache_root)/.duckdb-download.XXXXXX")
  trap 'rm -rf "${work:-}"' EXIT
  fetch_verified_tarball "$HEADER_PKG" "$HEADER_VER" "$work/header.tgz" "$HEADER_SHA512"
  fetch_verified_tarball "$lib_pkg" "$lib_ver" "$work/lib.tgz" "$lib_sha"
  mkdir -p "$work/out"
  tar -xzf "$work/header.tgz" -C "$work" "$HEADER_PATH_IN_TGZ"
  tar -xzf "$work/lib.tgz" -C "$work" package/libduckdb.so
  mv "$work/$HEADER_PATH_IN_TGZ" "$work/out/duckdb.h"
  mv "$work/package/libduckdb.so" "$work/out/libduckdb.so"
  echo "header ${HEADER_PKG}@${HEADER_VER}; library ${lib_pkg}@${lib_ver}" >"$work/out/.verified"
  rm -rf "$dir"
  mv "$work/out" "$dir"
  rm -rf "$work"
  trap - EXIT
}

# Node.js runs the independent clients of the end-to-end tests. Checked by command, not package:
# machines with NodeSource's nodejs (which bundles npm) must not get Debian's conflicting npm.
install_node_if_missing() {
  command -v node >/dev/null && command -v npm >/dev/null && return 0
  local saved=("${APT_PACKAGES[@]}")
  APT_PACKAGES=(nodejs npm)
  install_missing_apt_packages
  APT_PACKAGES=("${saved[@]}")
}

# `npm ci` in a folder of the repo, pinned by its package-lock.json; rerun only when the lock
# file changed. $1: the folder relative to the repo, $2: what it holds (for the message).
ensure_node_modules() {
  local folder
  folder="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/$1"
  [[ -f "$folder/package-lock.json" ]] || return 0
  local stamp="$folder/node_modules/.meshwork-lock-sha"
  local want
  want=$(sha256sum "$folder/package-lock.json" | cut -d' ' -f1)
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && return 0
  echo "bootstrap: installing $2 (npm ci in $1)"
  local log
  log=$(mktemp)
  if ! (cd "$folder" && npm ci --no-audit --no-fund) >"$log" 2>&1; then
    cat "$log" >&2
    die "npm ci failed in $1; check access to the npm registry"
  fi
  rm -f "$log"
  echo "$want" >"$stamp"
}

# The npm packages of tests/e2e (icebird, avsc, s3rver for the storage tests, playwright-core
# for the portal, ...).
ensure_e2e_node_modules() { ensure_node_modules tests/e2e "the end-to-end test clients"; }
# The portal's runtime modules (preact, htm), compiled into the binary by the build.
ensure_web_node_modules() { ensure_node_modules web "the portal's modules"; }

if [[ "${1:-}" == "--print-duckdb-root" ]]; then
  echo "${DUCKDB_ROOT:-$(duckdb_cache_dir)}"
  exit 0
fi
install_missing_apt_packages
install_node_if_missing
ensure_duckdb
ensure_e2e_node_modules
ensure_web_node_modules
