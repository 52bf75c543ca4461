#!/usr/bin/env bash
# Records the public API of the shipped packages (src/FluxApps, src/FluxApps.Hosting) in their
# PublicAPI.Unshipped.txt, after a change that adds, removes or changes public API:
#
#   bash build/public-api.sh                      # both packages
#   bash build/public-api.sh src/FluxApps         # one (a project folder or .csproj)
#
# Microsoft.CodeAnalysis.PublicApiAnalyzers reports public API missing from the files (RS0016) and
# entries whose API is gone (RS0017); warnings are errors, so either fails the build until recorded.
#  1. New API: `dotnet format analyzers --diagnostics RS0016`, the analyzer's own code fix applied to
#     every occurrence at once (the line it writes carries the nullable annotations).
#  2. Removed or changed API: the package has no code fix for RS0017, so a build reports them and this
#     script deletes the entries from PublicAPI.Unshipped.txt, or, for an entry of PublicAPI.Shipped.txt,
#     adds `*REMOVED*<entry>` to PublicAPI.Unshipped.txt (how the analyzer records a breaking change).
#  3. A last build shows what is left: diagnostics that need a change to the code, not to the files
#     (RS0026/RS0027 optional parameters across overloads, RS0041 oblivious types, ...). The script
#     exits non-zero while any are left.
#
# Review the diff of the PublicAPI files before committing: it is the change to the packages' API.
# When a version is released, its lines move from PublicAPI.Unshipped.txt to PublicAPI.Shipped.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
  set -- src/FluxApps/FluxApps.csproj src/FluxApps.Hosting/FluxApps.Hosting.csproj
fi

log=$(mktemp)
trap 'rm -f "$log" "$log.build"' EXIT

# Builds one project and leaves in $log the distinct API diagnostics of that project's own files
# (a build prints each twice, and a referenced project's diagnostics are that project's business).
api_diagnostics() {
  local proj=$1 dir=$2 rc=0 self
  self="[$(cd "$(dirname "$proj")" && pwd)/$(basename "$proj")]"
  # PublicAPI files are compiler inputs (AdditionalFiles): touching one makes the compiler run, and
  # report, even when the last build had nothing to rebuild.
  touch "$dir/PublicAPI.Unshipped.txt"
  dotnet build "$proj" -nologo -v quiet -clp:NoSummary > "$log.build" 2>&1 || rc=$?
  grep -E ": (warning|error) RS00[0-9][0-9]: " "$log.build" | grep -F "$self" \
    | sed -E 's/ \[[^]]*\]$//' | sort -u > "$log" || true
  # Any other error (a compile error, a referenced project that fails) hides what the analyzer would say.
  if [ $rc -ne 0 ]; then
    local others
    others=$( { grep -E ": error " "$log.build" | grep -vF "$self" || true
                grep -F "$self" "$log.build" | grep -E ": error " | grep -vE ": error RS00[0-9][0-9]: " || true
                grep -E "^(MSBUILD|.*error (MSB|NU)[0-9]+)" "$log.build" || true; } | sort -u)
    if [ -n "$others" ]; then
      echo "public-api.sh: $proj does not build for another reason:" >&2
      printf '%s\n' "$others" | head -n 20 >&2
      rm -f "$log.build"
      exit 1
    fi
  fi
  rm -f "$log.build"
}

status=0
for arg in "$@"; do
  if [ -d "$arg" ]; then
    proj=$(ls "$arg"/*.csproj)
  else
    proj=$arg
  fi
  dir=$(dirname "$proj")
  unshipped="$dir/PublicAPI.Unshipped.txt"
  shipped="$dir/PublicAPI.Shipped.txt"
  for f in "$shipped" "$unshipped"; do
    [ -f "$f" ] || printf '#nullable enable\n' > "$f"
  done

  echo "== $proj"
  # 1. New API. ("Warnings were encountered while loading the workspace" is about the analyzer projects'
  #    AnalyzerReleases files, which the workspace sees twice; it does not affect the fix.)
  dotnet format analyzers "$proj" --diagnostics RS0016 RS0036 RS0037 --severity warn

  # 2. Removed or changed API, as the build reports it: `<file>(<line>,<col>): error RS0017: Symbol '<entry>' is ...`.
  api_diagnostics "$proj" "$dir"
  removed_unshipped=$(grep -E "PublicAPI\.Unshipped\.txt\([0-9]+,[0-9]+\): (warning|error) RS0017: " "$log" \
    | sed -E 's/^.*PublicAPI\.Unshipped\.txt\(([0-9]+),[0-9]+\).*$/\1/' | sort -rn | uniq || true)
  removed_shipped=$(grep -E "PublicAPI\.Shipped\.txt\([0-9]+,[0-9]+\): (warning|error) RS0017: " "$log" \
    | sed -E 's/^.*PublicAPI\.Shipped\.txt\(([0-9]+),[0-9]+\).*$/\1/' | sort -n | uniq || true)
  for line in $removed_shipped; do
    entry=$(sed -n "${line}p" "$shipped")
    echo "  removed (shipped): $entry"
    printf '*REMOVED*%s\n' "$entry" >> "$unshipped"
  done
  for line in $removed_unshipped; do   # from the last line up, so the numbers stay right
    echo "  removed: $(sed -n "${line}p" "$unshipped")"
    sed -i "${line}d" "$unshipped"
  done

  # 3. What is left.
  api_diagnostics "$proj" "$dir"
  if [ -s "$log" ]; then
    status=1
    echo "public-api.sh: $proj still has public API diagnostics; these need a change to the code:" >&2
    sed -E "s#^$(pwd)/##" "$log" >&2
  else
    echo "  $unshipped is up to date"
  fi
done
exit $status
