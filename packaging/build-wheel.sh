#!/usr/bin/env bash
# Builds the awaitify wheel (the release binary packaged by maturin) into target/wheels/.
# maturin is installed into its own venv under target/, pinned, so a fresh machine needs
# only Python 3 with pip and the Rust toolchain.
#
#   packaging/build-wheel.sh            # build
#   packaging/build-wheel.sh --check    # build, install into a fresh venv, run it
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MATURIN_VERSION=1.16.0
venv=target/maturin-venv
if [[ ! -x "$venv/bin/maturin" ]] || [[ "$("$venv/bin/maturin" --version)" != "maturin $MATURIN_VERSION" ]]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi

rm -rf target/wheels
"$venv/bin/maturin" build --release --out target/wheels
wheel="$(ls target/wheels/awaitify-*.whl)"
echo "built $wheel"

if [[ "${1:-}" == "--check" ]]; then
    # A fresh venv, the wheel alone: the binary must be on the venv's PATH and migrate.
    check=target/wheel-check-venv
    rm -rf "$check"
    python3 -m venv "$check"
    "$check/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
    "$check/bin/awaitify" --version
    expected="$(cargo run --quiet --release -- --color never examples/countdown)"
    got="$("$check/bin/awaitify" --color never examples/countdown)"
    if [[ "$got" != "$expected" ]]; then
        echo "error: the installed wheel's dry run differs from the cargo build's" >&2
        diff <(echo "$expected") <(echo "$got") >&2 || true
        exit 1
    fi
    if ! grep -q '^+async def' <<<"$got"; then
        echo "error: the installed wheel's dry run made no function async" >&2
        exit 1
    fi
    echo "wheel check: $("$check/bin/awaitify" --version) installs and migrates examples/countdown"
fi
