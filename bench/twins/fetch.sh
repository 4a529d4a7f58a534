#!/usr/bin/env bash
# Download the pinned sdists of the twin benchmark and unpack them.
#
# Usage: bench/twins/fetch.sh [PACKAGE ...]     (default: every package of twins.toml)
#
# Sdists go to bench/.corpora/twins/sdists/, unpacked trees to bench/.corpora/twins/src/
# (git-ignored). An sdist already there is not downloaded again.
# Exit codes: 0 ok, 1 a download or check failed, 2 bad usage or missing python3.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=$(dirname "$HERE")/.corpora/twins
command -v python3 >/dev/null || { echo "fetch: python3 not found" >&2; exit 2; }

# "name spec" lines from twins.toml, so the pins live in one place.
specs=$(python3 - "$HERE/twins.toml" "$@" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    table = tomllib.load(f)
wanted = sys.argv[2:] or list(table)
for name in wanted:
    if name not in table:
        sys.exit(f"fetch: unknown package {name!r} (known: {', '.join(table)})")
    print(name, table[name]["spec"])
PY
) || exit 2

mkdir -p "$CACHE/sdists" "$CACHE/src"
while read -r name spec; do
    version=${spec#*==}
    archive=$(ls "$CACHE/sdists/" | grep -i -E "^${name//_/[-_]}-${version//./\\.}\.(tar\.gz|zip)$" | head -1 || true)
    if [[ -z $archive ]]; then
        echo "fetch: pip download $spec (sdist)" >&2
        python3 -m pip download --quiet --disable-pip-version-check --no-deps \
            --no-binary :all: "$spec" -d "$CACHE/sdists" || { echo "fetch: download of $spec failed" >&2; exit 1; }
        archive=$(ls "$CACHE/sdists/" | grep -i -E "^${name//_/[-_]}-${version//./\\.}\.(tar\.gz|zip)$" | head -1 || true)
        [[ -n $archive ]] || { echo "fetch: no sdist for $spec in $CACHE/sdists" >&2; exit 1; }
    fi
    dest=$CACHE/src/$name-$version
    if [[ ! -d $dest ]]; then
        tmp=$(mktemp -d "$CACHE/src/.unpack.XXXXXX")
        tar -xzf "$CACHE/sdists/$archive" -C "$tmp"
        mv "$tmp"/* "$dest"
        rmdir "$tmp"
    fi
    echo "fetch: $name $version -> ${dest#"$(dirname "$(dirname "$HERE")")"/}" >&2
done <<<"$specs"
