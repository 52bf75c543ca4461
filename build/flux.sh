#!/usr/bin/env bash
# Makes a real Flux available for the Flux integration tests, and prints the directory holding
# `flux` on its last line of standard output (nothing when there is none, with the reason on
# standard error).
#
#   1. `flux` already on PATH: use it (a site install, a package, a build of your own).
#   2. A build cached in $FLUXAPPS_FLUX_PREFIX (default ~/.cache/fluxapps/flux-core-VERSION): reuse it.
#   3. The flux-core release tarball beside the repository ($FLUXAPPS_FLUX_TARBALL, default
#      ../shared/flux-core/flux-core-*.tar.gz): install its build packages (Debian, as root) and
#      build it into that prefix, once. A failed build exits non-zero and says why.
#   4. Neither: print the reason and exit 0; the Flux tests then skip, saying so.
#
# Flux's code and binaries never enter the repository: the prefix lives outside it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "flux.sh: $*" >&2; }

if command -v flux >/dev/null 2>&1; then
  say "using flux on PATH: $(command -v flux)"
  dirname "$(command -v flux)"
  exit 0
fi

tarball=${FLUXAPPS_FLUX_TARBALL:-}
if [ -z "$tarball" ]; then
  for t in "$root"/../shared/flux-core/flux-core-*.tar.gz; do
    [ -f "$t" ] && tarball=$t
  done
fi
if [ -n "$tarball" ]; then
  version=$(basename "$tarball" .tar.gz)
else
  version=flux-core-0.88.0
fi
prefix=${FLUXAPPS_FLUX_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/fluxapps/$version}

if [ -x "$prefix/bin/flux" ] && "$prefix/bin/flux" version >/dev/null 2>&1; then
  say "using the Flux built earlier in $prefix"
  echo "$prefix/bin"
  exit 0
fi

if [ -z "$tarball" ]; then
  say "no flux on PATH, no build in $prefix and no flux-core tarball (set FLUXAPPS_FLUX_TARBALL): the Flux tests will skip"
  exit 0
fi
[ -f "$tarball" ] || { say "FLUXAPPS_FLUX_TARBALL=$tarball: no such file"; exit 1; }

say "building $version from $tarball into $prefix (once; a few minutes)"
packages=(gcc g++ make pkg-config libzmq3-dev libczmq-dev libjansson-dev liblz4-dev libarchive-dev
  libsodium-dev libhwloc-dev uuid-dev libsqlite3-dev libncurses-dev libsystemd-dev lua5.3
  liblua5.3-dev lua-posix python3-dev python3-cffi python3-ply python3-yaml python3-setuptools)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "Flux's build needs these packages, and installing them needs root and apt-get: ${missing[*]}"
    exit 1
  fi
  say "installing build packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  aptlog=$(mktemp)
  if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$aptlog" 2>&1; then
    tail -n 30 "$aptlog" >&2
    say "installing the build packages failed: ${missing[*]}"
    exit 1
  fi
  rm -f "$aptlog"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="$work/build.log"
fail() {
  say "$1 failed; the last lines of its log:"
  tail -n 40 "$log" >&2
  rm -rf "$prefix.partial"
  exit 1
}
tar xzf "$tarball" -C "$work" || { say "cannot unpack $tarball"; exit 1; }
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)
# Debian's python3 and its cffi/ply/yaml: a PATH with another Python first would break flux's build.
export PATH="/usr/local/bin:/usr/bin:/bin:$PATH"
rm -rf "$prefix.partial"
(cd "$src" && ./configure --prefix="$prefix" --disable-docs PYTHON=/usr/bin/python3) >"$log" 2>&1 || fail "configure"
make -C "$src" -j"$(nproc)" >>"$log" 2>&1 || fail "make"
# Install into a staging copy first: an interrupted install never looks like a finished one.
make -C "$src" install DESTDIR="$prefix.partial" >>"$log" 2>&1 || fail "make install"
mkdir -p "$(dirname "$prefix")"
rm -rf "$prefix"
mv "$prefix.partial$prefix" "$prefix"
rm -rf "$prefix.partial"
"$prefix/bin/flux" version >/dev/null 2>&1 || { say "the built flux does not run: $prefix/bin/flux version"; exit 1; }
say "built $("$prefix/bin/flux" version | head -n 1)"
echo "$prefix/bin"
