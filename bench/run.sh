#!/usr/bin/env bash
# Benchmark awaitify against its parse-only floor, ast-grep and ruff.
# See bench/README.md for what each column means.
#
# Usage: bench/run.sh [--quick] [--runs N] [--warmup N] [CORPUS ...]
#   CORPUS: stdlib, django, sympy (default: all three; --quick: stdlib only)
#
# Environment overrides:
#   AWAITIFY_BIN      awaitify binary  (default: target/release/awaitify)
#   PARSE_FLOOR_BIN   parse floor      (default: target/release/examples/parse_floor)
#   AWAITIFY_ARGS     awaitify options before the corpus path (default: --color never;
#                     the dry run prints every diff, as ast-grep's does)
#   AST_GREP_SPEC, RUFF_SPEC   pip requirement specs of the reference tools
# A binary given by an override is not built; the defaults are built with
# `cargo build --release`.
#
# Exit codes: 0 ok, 1 a step failed, 2 a prerequisite is missing or bad usage.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
CORPORA_DIR="$BENCH_DIR/.corpora"
VENV="$BENCH_DIR/.venv"
RESULTS="$BENCH_DIR/.results"

AST_GREP_SPEC=${AST_GREP_SPEC:-ast-grep-cli==0.51.1}
RUFF_SPEC=${RUFF_SPEC:-ruff==0.17.6}
DJANGO_SPEC='django==5.1.*'
SYMPY_SPEC='sympy==1.13.*'
ALL_CORPORA=(stdlib django sympy)

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -n 's/^# \{0,1\}//p'
}

die() { echo "bench: $*" >&2; exit 1; }
missing() { echo "bench: $*" >&2; exit 2; }
log() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- arguments
quick=0
runs=""
warmup=""
selected=()
while (($#)); do
    case $1 in
        --quick) quick=1 ;;
        --runs) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }; runs=$2; shift ;;
        --warmup) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }; warmup=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        stdlib|django|sympy) selected+=("$1") ;;
        *) echo "bench: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
if ((quick)); then
    runs=${runs:-3}; warmup=${warmup:-1}; rss_runs=2
    ((${#selected[@]})) || selected=(stdlib)
else
    runs=${runs:-10}; warmup=${warmup:-3}; rss_runs=3
    ((${#selected[@]})) || selected=("${ALL_CORPORA[@]}")
fi

# ------------------------------------------------------------ prerequisites
command -v hyperfine >/dev/null ||
    missing "hyperfine not found; install it with: apt-get install hyperfine"
if ! /usr/bin/time -f %M true >/dev/null 2>&1; then
    missing "GNU time (/usr/bin/time) not found; install it with: apt-get install time"
fi
command -v python3 >/dev/null ||
    missing "python3 not found; install it with: apt-get install python3 python3-venv"

AWAITIFY_BIN=${AWAITIFY_BIN:-}
AWAITIFY_ARGS=${AWAITIFY_ARGS---color never}
read -r -a awaitify_args <<<"$AWAITIFY_ARGS"
PARSE_FLOOR_BIN=${PARSE_FLOOR_BIN:-}
build_args=()
[[ -n $AWAITIFY_BIN ]] || { AWAITIFY_BIN=$ROOT/target/release/awaitify; build_args+=(--bin awaitify); }
[[ -n $PARSE_FLOOR_BIN ]] || { PARSE_FLOOR_BIN=$ROOT/target/release/examples/parse_floor; build_args+=(--example parse_floor); }
if ((${#build_args[@]})); then
    command -v cargo >/dev/null || missing "cargo not found (needed to build ${build_args[*]})"
    log "cargo build --release ${build_args[*]}"
    (cd "$ROOT" && cargo build --release --quiet "${build_args[@]}") || die "cargo build failed"
fi
AWAITIFY_BIN=$(realpath "$AWAITIFY_BIN")
PARSE_FLOOR_BIN=$(realpath "$PARSE_FLOOR_BIN")
[[ -x $AWAITIFY_BIN ]] || die "not executable: $AWAITIFY_BIN"
[[ -x $PARSE_FLOOR_BIN ]] || die "not executable: $PARSE_FLOOR_BIN"

if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV"
    python3 -m venv "$VENV" ||
        missing "python3 -m venv failed; on Debian: apt-get install python3-venv"
fi
log "pip install $AST_GREP_SPEC $RUFF_SPEC"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$AST_GREP_SPEC" "$RUFF_SPEC" ||
    die "pip install of the reference tools failed"
AST_GREP=$VENV/bin/ast-grep
RUFF=$VENV/bin/ruff
[[ -x $AST_GREP && -x $RUFF ]] || die "ast-grep or ruff missing from $VENV/bin"

# ------------------------------------------------------------------ corpora
mkdir -p "$CORPORA_DIR" "$RESULTS"

# Prints the directory of corpus $1, fetching or copying it on first use.
corpus_dir() {
    local name=$1 dir spec
    case $name in
        stdlib)
            # The installed standard library, copied without site-packages
            # (machine-specific third-party code), bytecode and build
            # artifacts, so every tool sees the same, reproducible tree.
            local src ver
            src=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
            ver=$(python3 -c 'import platform; print(platform.python_version())')
            dir=$CORPORA_DIR/stdlib-$ver
            if [[ ! -d $dir ]]; then
                log "copying $src to $dir"
                rm -rf "$dir.tmp"
                python3 - "$src" "$dir.tmp" <<'PY'
import shutil, sys
shutil.copytree(sys.argv[1], sys.argv[2], symlinks=True,
                ignore=shutil.ignore_patterns(
                    "site-packages", "__pycache__", "*.pyc",
                    "config-*", "lib-dynload"))
PY
                mv "$dir.tmp" "$dir"
            fi
            ;;
        django|sympy)
            [[ $name == django ]] && spec=$DJANGO_SPEC || spec=$SYMPY_SPEC
            local dl=$CORPORA_DIR/download-$name sdist
            sdist=""
            [[ -d $dl ]] && sdist=$(find "$dl" -maxdepth 1 -name '*.tar.gz' | sort | tail -n 1)
            if [[ -z $sdist ]]; then
                log "pip download $spec (sdist)"
                "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check \
                    --no-deps --no-binary :all: -d "$dl" "$spec" >&2 ||
                    die "pip download $spec failed"
                sdist=$(find "$dl" -maxdepth 1 -name '*.tar.gz' | sort | tail -n 1)
                [[ -n $sdist ]] || die "no sdist downloaded for $spec"
            fi
            # Sdists unpack to a single NAME-VERSION directory.
            dir=$CORPORA_DIR/$(basename "$sdist" .tar.gz)
            if [[ ! -d $dir ]]; then
                log "unpacking $(basename "$sdist")"
                tar -xzf "$sdist" -C "$CORPORA_DIR"
                [[ -d $dir ]] || die "$(basename "$sdist") did not unpack to $dir"
            fi
            ;;
    esac
    echo "$dir"
}

# ---------------------------------------------------------------- benchmark
# hyperfine runs each command without a shell (-N) and sends its stdout and
# stderr to /dev/null (its default). awaitify exits 1 when it would change
# files and ast-grep exits 1 when nothing matched, so failures are ignored
# during the runs (-i) and the exit codes are checked afterwards from the
# JSON export instead (awaitify and ast-grep: 0 or 1; the others: 0).
#
# (c) ast-grep: `ast-grep run -p PAT -r REWRITE` without --update-all is
# ast-grep's dry run: it parses every file, finds the matches, applies the
# rewrite in memory and prints the resulting diff, which is what
# awaitify's dry run does too (`-q` would skip its diffs). --update-all would write the files, which would
# need a fresh copy of the corpus per run and measure disk writes that
# awaitify's dry run never does.

rows=()
cpu_rows=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if python3 -c 'import os, sys; sys.exit(os.getloadavg()[0] <= os.cpu_count() / 2)'; then
    log "warning: load average ${load_before%% *} on $(nproc) cores; other work will distort the timings"
fi
table_header='| corpus | files | lines | (a) parse floor | (b) awaitify | (c) ast-grep | (d) ruff | (b) peak RSS | (b)/(a) | (b)/(c) | (b)/(d) |'
table_rule='|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|'

for name in "${selected[@]}"; do
    dir=$(corpus_dir "$name")
    label=$(basename "$dir")

    counts=$("$PARSE_FLOOR_BIN" "$dir") || die "parse floor failed on $dir"
    log "$label: $counts"

    # One checked run of each tool before timing, so that a broken tool
    # fails loudly here rather than as a fast, wrong number.
    rc=0; "$AWAITIFY_BIN" "${awaitify_args[@]}" "$dir" >/dev/null 2>"$RESULTS/$label.awaitify.stderr" || rc=$?
    ((rc <= 1)) || die "awaitify $AWAITIFY_ARGS $dir exited $rc (see $RESULTS/$label.awaitify.stderr)"
    # ast-grep exits 1 when nothing matched, and also on errors, which it
    # reports on stderr; --inspect summary adds its file count there.
    rc=0
    # shellcheck disable=SC2016 # $A is ast-grep's metavariable, not bash's
    "$AST_GREP" run --inspect summary --color never --lang python -p 'time.sleep($A)' \
        -r 'await asyncio.sleep($A)' "$dir" >/dev/null 2>"$RESULTS/$label.ast-grep.stderr" || rc=$?
    if ((rc > 1)) || grep -qv '^sg: ' "$RESULTS/$label.ast-grep.stderr"; then
        cat "$RESULTS/$label.ast-grep.stderr" >&2
        die "ast-grep failed on $dir (exit $rc)"
    fi
    sg_files=$(grep -o 'scannedFileCount=[0-9]*' "$RESULTS/$label.ast-grep.stderr" | cut -d= -f2 || true)
    # ruff: 0 no findings, 1 findings, 2 abnormal termination.
    rc=0
    "$RUFF" check --select ASYNC,RUF006 --no-cache --isolated --quiet "$dir" >/dev/null || rc=$?
    ((rc <= 1)) || die "ruff failed on $dir (exit $rc)"
    ruff_files=$("$RUFF" check --select ASYNC,RUF006 --no-cache --isolated --exit-zero --show-files "$dir" | grep -c . || true)
    log "$label: files seen: parse floor ${counts%% *}, ast-grep ${sg_files:-?}, ruff $ruff_files (ast-grep and ruff also count *.pyi; ruff skips dirs such as venv/ and build/)"

    q=$(printf '%q' "$dir")
    json=$RESULTS/$label.json
    log "$label: hyperfine, $warmup warm-up + $runs timed runs per command"
    hyperfine -N -i --warmup "$warmup" --runs "$runs" --export-json "$json" \
        -n parse_floor "$(printf '%q' "$PARSE_FLOOR_BIN") $q" \
        -n awaitify "$(printf '%q' "$AWAITIFY_BIN") $AWAITIFY_ARGS $q" \
        -n ast-grep "$(printf '%q' "$AST_GREP") run --color never --lang python -p 'time.sleep(\$A)' -r 'await asyncio.sleep(\$A)' $q" \
        -n ruff "$(printf '%q' "$RUFF") check --select ASYNC,RUF006 --no-cache --isolated --exit-zero $q" \
        >&2 || die "hyperfine failed on $dir"

    # Peak RSS of awaitify: max over a few runs of GNU time's %M (KiB).
    peak_kib=0
    for ((i = 0; i < rss_runs; i++)); do
        rc=0
        /usr/bin/time -f %M -o "$RESULTS/$label.rss" "$AWAITIFY_BIN" "${awaitify_args[@]}" "$dir" >/dev/null 2>&1 || rc=$?
        ((rc <= 1)) || die "awaitify $AWAITIFY_ARGS $dir exited $rc while measuring RSS"
        kib=$(tail -n 1 "$RESULTS/$label.rss")
        if ((kib > peak_kib)); then peak_kib=$kib; fi
    done

    row=$(python3 - "$json" "$label" "$counts" "$peak_kib" <<'PY'
import json, sys

path, label, counts, peak_kib = sys.argv[1:]
kv = dict(item.split("=", 1) for item in counts.split())
results = {r["command"]: r for r in json.load(open(path))["results"]}
allowed = {"awaitify": {0, 1}, "ast-grep": {0, 1}}
for name, r in results.items():
    bad = sorted({c for c in r.get("exit_codes", []) if c not in allowed.get(name, {0})})
    if bad:
        sys.exit(f"bench: {name} exited {bad} during the timed runs on {label}")

def t(name):
    r = results[name]
    return f"{r['mean']:.3f} s ± {r['stddev'] or 0:.3f}"

def ratio(a, b, key="mean"):
    return f"{results[a][key] / results[b][key]:.2f}×"

for r in results.values():
    r["cpu"] = r["user"] + r["system"]

print("| " + " | ".join([
    label, f"{int(kv['files']):,}", f"{int(kv['lines']):,}",
    t("parse_floor"), t("awaitify"), t("ast-grep"), t("ruff"),
    f"{int(peak_kib) / 1024:.0f} MiB",
    ratio("awaitify", "parse_floor"), ratio("awaitify", "ast-grep"),
    ratio("awaitify", "ruff"),
]) + " |")
# CPU time (user + system, mean): much less disturbed by other load on the
# machine than wall time, and it shows how well each tool uses the cores.
print("| " + " | ".join(
    [label]
    + [f"{results[n]['cpu']:.3f} s" for n in ("parse_floor", "awaitify", "ast-grep", "ruff")]
    + [ratio("awaitify", "parse_floor", "cpu"), ratio("awaitify", "ast-grep", "cpu"),
       ratio("awaitify", "ruff", "cpu")]
) + " |")
PY
    ) || die "could not summarise $json"
    rows+=("${row%%$'\n'*}")
    cpu_rows+=("${row#*$'\n'}")
    log "$label: done"
done

# -------------------------------------------------------------------- table
echo
echo "awaitify benchmark — $(nproc) cores, $(hyperfine --version), $("$AST_GREP" --version), $("$RUFF" --version), $warmup warm-up + $runs runs"
echo "(b) is \`$AWAITIFY_BIN $AWAITIFY_ARGS CORPUS\`"
echo
echo "Load average before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg) (on $(nproc) cores; a busy machine inflates wall times and σ)."
echo
echo "Wall time:"
echo
echo "$table_header"
echo "$table_rule"
printf '%s\n' "${rows[@]}"
echo
echo "CPU time (user + system, mean):"
echo
echo '| corpus | (a) parse floor | (b) awaitify | (c) ast-grep | (d) ruff | (b)/(a) | (b)/(c) | (b)/(d) |'
echo '|---|--:|--:|--:|--:|--:|--:|--:|'
printf '%s\n' "${cpu_rows[@]}"
