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
exec dotnet test FluxApps.sln "$@"
