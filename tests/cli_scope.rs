//! Scoping a migration: `--keep-sync` globs and decorators (and an unmatched pattern as a
//! usage error), the `# awaitify: keep-sync` comment, `--only` with callers outside it
//! (`caller-outside-scope`, run under Python), and `--public-api` in text and JSON.

mod support;

use serde_json::Value;
use std::fs;
use support::{Equiv, assert_equivalent, read_tree, run_awaitify, write_fixture};

fn project(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), spec);
    dir
}

/// Three blocking handlers, two of them named `handle_*`.
const HANDLERS: &str = r#"#- pkg/__init__.py
#- pkg/api.py
import time


def handle_get(n):
    time.sleep(0)
    return n


def handle_put(n):
    time.sleep(0)
    return n + 1


def other(n):
    time.sleep(0)
    return n + 2
"#;

#[test]
fn keep_sync_globs_match_dotted_paths_on_the_command_line_and_in_pyproject() {
    let dir = project(HANDLERS);
    let run = run_awaitify(
        dir.path(),
        &["--show-notes", "--keep-sync", "*.handle_*", "."],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("+async def other(n):"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("async def handle_"), "{}", run.stdout);
    for name in ["handle_get", "handle_put"] {
        let pinned = format!(
            "sync-boundary note: `{name}` stays sync and keeps its blocking calls: `{name}` is pinned sync by --keep-sync `*.handle_*`"
        );
        assert!(run.stderr.contains(&pinned), "{}", run.stderr);
    }
    // `*` spans dots: `pkg.*` is everything under `pkg`.
    let run = run_awaitify(dir.path(), &["--keep-sync", "pkg.*", "."]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    // The same from `[tool.awaitify]`.
    fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.awaitify]\nkeep-sync = [\"pkg.api.handle_*\"]\n",
    )
    .unwrap();
    let run = run_awaitify(dir.path(), &["."]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("+async def other(n):"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("async def handle_"), "{}", run.stdout);
}

/// A project decorator that forwards to the function it wraps.
const DECO_PY: &str = r#"#- deco.py
import functools


def traced(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)

    return wrapper
"#;

#[test]
fn keep_sync_decorators_resolve_through_imports_and_aliases() {
    let spec = DECO_PY.to_string()
        + r#"#- app.py
import time

import click
from click import command

from deco import traced as tr


@click.command()
def serve():
    time.sleep(0)


@command()
def stop():
    time.sleep(0)


@tr
def job():
    time.sleep(0)


def plain():
    time.sleep(0)
"#;
    let dir = project(&spec);
    let run = run_awaitify(dir.path(), &["--show-notes", "."]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.contains("+async def job():"), "{}", run.stdout);
    let run = run_awaitify(
        dir.path(),
        &[
            "--show-notes",
            "--keep-sync",
            "@click.command",
            "--keep-sync",
            "@deco.traced",
            ".",
        ],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    for (name, pattern) in [
        ("serve", "@click.command"),
        ("stop", "@click.command"),
        ("job", "@deco.traced"),
    ] {
        let pinned = format!("`{name}` is pinned sync by --keep-sync `{pattern}`");
        assert!(run.stderr.contains(&pinned), "{pinned}\n{}", run.stderr);
    }
    assert!(!run.stdout.contains("async def job"), "{}", run.stdout);
    assert!(run.stdout.contains("+async def plain():"), "{}", run.stdout);
}

#[test]
fn a_keep_sync_pattern_that_matches_nothing_is_a_usage_error() {
    let dir = project(HANDLERS);
    for pattern in ["nope", "pkg.api.nope", "*.nope_*", "@click.command"] {
        let run = run_awaitify(
            dir.path(),
            &["--keep-sync", "handle_get", "--keep-sync", pattern, "."],
        );
        assert_eq!(run.status, 2, "{pattern}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            format!("awaitify: --keep-sync `{pattern}` matches no function in the files scanned\n")
        );
        assert_eq!(run.stdout, "");
    }
    // A bad glob is one too.
    let run = run_awaitify(dir.path(), &["--keep-sync", "pkg.[", "."]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--keep-sync `pkg.[`"), "{}", run.stderr);
    // The project's patterns are checked when a directory is migrated, not when named files
    // are (pre-commit passes only the staged ones).
    fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.awaitify]\nkeep-sync = [\"legacy\"]\n",
    )
    .unwrap();
    let run = run_awaitify(dir.path(), &["."]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("[tool.awaitify] keep-sync `legacy` matches no function"),
        "{}",
        run.stderr
    );
    let run = run_awaitify(dir.path(), &["pkg/api.py"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
}

#[test]
fn keep_sync_comments_on_the_def_line_or_directly_above() {
    let spec = r##"import time


def trailing():  # awaitify: keep-sync
    time.sleep(0)


# awaitify: keep-sync
@staticmethod
def above():
    time.sleep(0)


def in_a_string(s="# awaitify: keep-sync"):
    time.sleep(0)


# awaitify: keep-sync

def not_directly_above():
    time.sleep(0)
"##;
    let dir = project(spec);
    let run = run_awaitify(dir.path(), &["--show-notes", "main.py"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    for name in ["trailing", "above"] {
        let pinned = format!("`{name}` is pinned sync by a `# awaitify: keep-sync` comment");
        assert!(run.stderr.contains(&pinned), "{}", run.stderr);
        assert!(
            !run.stdout.contains(&format!("async def {name}")),
            "{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("+async def in_a_string("),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+async def not_directly_above("),
        "{}",
        run.stdout
    );
    // A comment that keeps nothing says so.
    let stray: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("unattached-keep-sync"))
        .collect();
    assert_eq!(
        stray,
        [
            "main.py:18:1: unattached-keep-sync warning: `# awaitify: keep-sync` keeps nothing sync: put it at the end of a `def` line, or alone on the line directly above the `def` or its decorators"
        ],
        "{}",
        run.stderr
    );
}

/// `pkg` is migrated; `tools/cli.py` and `main.py` are not. `lookup` (and `fetch` below
/// it) must stay sync for `tools.cli.show`, and `summary` for `main.py`'s `__main__`
/// block; `report` and `pkg.jobs.run` become async.
const SCOPED: &str = r#"#- pkg/__init__.py
#- pkg/core.py
import time


def fetch(n):
    time.sleep(0)
    return n * 2


def lookup(n):
    return fetch(n) + 1


def report(n):
    time.sleep(0)
    return n


def summary():
    return lookup(7)
#- pkg/jobs.py
from pkg.core import lookup, report


def run():
    print(report(4), lookup(3))


if __name__ == "__main__":
    run()
#- tools/__init__.py
#- tools/cli.py
from pkg.core import lookup


def show():
    print(lookup(2))
#- main.py
from pkg.core import summary

if __name__ == "__main__":
    print(summary())
"#;

#[test]
fn only_edits_files_under_the_path_and_reports_callers_outside_it() {
    let dir = project(SCOPED);
    let before = read_tree(dir.path());
    let run = run_awaitify(dir.path(), &["--only", "pkg", "."]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let diffs: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("+++ "))
        .collect();
    assert_eq!(
        diffs,
        ["+++ b/pkg/core.py", "+++ b/pkg/jobs.py"],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+async def report(n):"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("+async def run():"), "{}", run.stdout);
    for kept in ["def fetch", "def lookup", "def summary"] {
        assert!(
            !run.stdout.contains(&format!("async {kept}")),
            "{}",
            run.stdout
        );
    }
    let outside: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("caller-outside-scope"))
        .collect();
    assert_eq!(
        outside,
        [
            "./main.py:4:1: caller-outside-scope warning: the __main__ block calls `pkg.core.summary` (./pkg/core.py:18) without await and is outside --only, so `summary` stays sync; add ./main.py to --only to convert it",
            "./tools/cli.py:5:1: caller-outside-scope warning: `show` calls `pkg.core.lookup` (./pkg/core.py:9) without await and is outside --only, so `lookup` stays sync; add ./tools/cli.py to --only to convert it",
        ],
        "{}",
        run.stderr
    );
    // Written: the files outside are byte for byte as they were.
    let run = run_awaitify(dir.path(), &["--write", "--only", "./pkg/", "."]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let after = read_tree(dir.path());
    for file in ["main.py", "tools/cli.py", "tools/__init__.py"] {
        assert_eq!(before[file], after[file], "{file}");
    }
    assert_ne!(before["pkg/core.py"], after["pkg/core.py"]);
    // With the outside files in scope too, everything converts.
    let dir = project(SCOPED);
    let run = run_awaitify(
        dir.path(),
        &["--only", "pkg", "--only", "tools", "--only", "main.py", "."],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains("caller-outside-scope"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("+async def lookup(n):"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("+async def show():"), "{}", run.stdout);
    // A path that does not exist is a usage error.
    let run = run_awaitify(dir.path(), &["--only", "nowhere", "."]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("awaitify: --only nowhere:"),
        "{}",
        run.stderr
    );
}

#[test]
fn only_runs_the_same_under_python() {
    // The outside caller runs first, sync; then the migrated `pkg.jobs` under asyncio.
    let command = "from tools.cli import show; show(); import runpy; runpy.run_module('pkg.jobs', run_name='__main__'); runpy.run_path('main.py', run_name='__main__')";
    let tree = assert_equivalent(
        SCOPED,
        &["-c", command],
        Equiv {
            args: vec!["--only".into(), "after/pkg".into()],
            ..Equiv::default()
        },
    );
    let original = support::parse_fixture(SCOPED).unwrap();
    for (path, text) in &original {
        if !path.starts_with("pkg/") {
            assert_eq!(&tree[path], text, "{path} changed");
        }
    }
    assert!(tree["pkg/core.py"].contains("async def report(n):"));
    assert!(tree["pkg/core.py"].contains("\ndef lookup(n):"));
    assert!(tree["pkg/core.py"].contains("\ndef fetch(n):\n    time.sleep(0)"));
}

const LIBRARY: &str = r#"#- lib/__init__.py
#- lib/client.py
import time


def fetch(n):
    time.sleep(0)
    return n


def _helper(n):
    return fetch(n)


class Client:
    def get(self, n):
        return _helper(n)

    def _send(self, n):
        return fetch(n)

    def handle(self, n):
        """Override to customise the handling."""
        return fetch(n)

    def run(self):
        return self._send(1) + self.handle(2)


class Special(Client):
    def _send(self, n):
        return fetch(n + 1)


class _Internal:
    def go(self):
        return fetch(0)
#- lib/_private.py
from lib.client import fetch


def hidden():
    return fetch(1)
"#;

#[test]
fn public_api_lists_public_functions_methods_and_extension_points_made_async() {
    let dir = project(LIBRARY);
    let run = run_awaitify(dir.path(), &["--public-api", "lib"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let summary = run
        .stderr
        .lines()
        .find(|l| l.contains("files scanned"))
        .unwrap();
    assert!(
        summary.ends_with("; public API made async: 5 functions"),
        "{}",
        run.stderr
    );
    let section: Vec<&str> = run
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("public API made async"))
        .collect();
    assert_eq!(
        section,
        [
            "public API made async (5):",
            "  lib.client.Client._send (lib/client.py:17): extension point",
            "  lib.client.Client.get (lib/client.py:14): method",
            "  lib.client.Client.handle (lib/client.py:20): extension point",
            "  lib.client.Client.run (lib/client.py:24): method",
            "  lib.client.fetch (lib/client.py:4): function",
        ],
        "{}",
        run.stderr
    );
    let run = run_awaitify(dir.path(), &["--public-api", "--format", "json", "lib"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["summary"]["public_api"], 5);
    let api = doc["public_api"].as_array().unwrap();
    assert_eq!(api.len(), 5);
    assert_eq!(
        api[4],
        serde_json::json!({"name": "lib.client.fetch", "path": "lib/client.py", "line": 4, "kind": "function"})
    );
    // Without the flag, neither the section nor the JSON keys.
    let run = run_awaitify(dir.path(), &["--format", "json", "lib"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(doc.get("public_api").is_none());
    assert!(doc["summary"].get("public_api").is_none());
    let run = run_awaitify(dir.path(), &["lib"]);
    assert!(!run.stderr.contains("public API"), "{}", run.stderr);
}

/// Objects cross the boundary both ways: a file opened in a coroutine outside `--only` and
/// read inside it, and one opened inside and read by a coroutine outside. The files outside
/// are not edited, so each file stays a sync file with all of its uses, on both sides.
#[test]
fn only_keeps_objects_that_cross_the_boundary() {
    let into = r#"#- pkg/__init__.py
#- pkg/lines.py
def first_line(f):
    return f.readline().strip()
#- main.py
import asyncio

from pkg.lines import first_line


async def main():
    with open("data.txt") as f:
        print(first_line(f))


asyncio.run(main())
#- data.txt
hello
"#;
    let out_of = r#"#- pkg/__init__.py
#- pkg/lines.py
from helpers import show


async def dump():
    with open("data.txt") as f:
        await show(f)
#- helpers.py
async def show(f):
    print(f.readline().strip())
#- main.py
import asyncio

from pkg.lines import dump

asyncio.run(dump())
#- data.txt
hello
"#;
    for spec in [into, out_of] {
        // Without --only both sides convert to aiofiles.
        let dir = project(spec);
        let run = run_awaitify(dir.path(), &["."]);
        assert!(run.stdout.contains("aiofiles.open"), "{}", run.stdout);
        assert_equivalent(
            spec,
            &["main.py"],
            Equiv {
                args: vec!["--only".into(), "after/pkg".into()],
                expect_unchanged: true,
                ..Equiv::default()
            },
        );
    }
}

/// A project decorator whose file is outside `--only`: its wrapper cannot become async, so
/// the function it wraps stays sync (as with a wrapper that stays sync for any reason).
#[test]
fn only_keeps_functions_under_a_decorator_outside_it_sync() {
    let spec = DECO_PY.to_string()
        + r#"#- pkg/__init__.py
#- pkg/work.py
import time

from deco import traced


@traced
def step():
    time.sleep(0)
    return 1


def main():
    print(step())


if __name__ == "__main__":
    main()
"#;
    let dir = project(&spec);
    let run = run_awaitify(dir.path(), &["."]);
    assert!(run.stdout.contains("+async def step():"), "{}", run.stdout);
    let run = run_awaitify(dir.path(), &["--show-notes", "--only", "pkg", "."]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("mixed-decorator note: `step` stays sync and keeps its blocking calls: the wrapper `wrapper` of decorator `traced` (./deco.py:4) stays sync (its file is outside --only)"),
        "{}",
        run.stderr
    );
}
