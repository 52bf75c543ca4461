#!/usr/bin/env bash
# The whole test suite. The Flux integration tests run against a real Flux: the one on PATH, or
# one that build/flux.sh builds once from the flux-core release tarball beside the repository.
# Without either they skip, saying why. FLUXAPPS_FLUX=skip runs the suite without Flux.
# Arguments go to `dotnet test` (e.g. --filter).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${FLUXAPPS_FLUX:-}" != "skip" ]; then
  fluxbin=$(bash build/flux.sh | tail -n 1) || { echo "test.sh: Flux could not be built; the Flux tests cannot run (see above)" >&2; exit 1; }
  if [ -n "$fluxbin" ]; then
    export PATH="$fluxbin:$PATH"
    # Flux is here: a Flux test that cannot reach it fails rather than skips.
    export FLUXAPPS_REQUIRE_FLUX=1
  fi
fi
# The MPI sample's test compiles with mpicc: install Debian's MPICH when it is missing and this runs as
# root with apt-get (CI images), quietly and at most once; elsewhere that test skips, saying why.
if ! command -v mpicc >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends mpich libmpich-dev >/dev/null 2>&1 \
    || { DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -qq >/dev/null 2>&1 \
         && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends mpich libmpich-dev >/dev/null 2>&1; } \
    || echo "test.sh: MPICH could not be installed; the MPI sample's test will skip" >&2
fi
exec dotnet test FluxApps.sln "$@"
