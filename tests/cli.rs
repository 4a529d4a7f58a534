//! The command-line contract: output format, exit codes, walking, configuration.

mod support;

use std::fs;
use support::{run_awaitify, write_fixture};

const SLEEPY: &str =
    "import time\n\n\ndef nap():\n    time.sleep(0)\n\n\nif __name__ == \"__main__\":\n    nap()\n";

fn project(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), spec);
    dir
}

#[test]
fn dry_run_prints_diffs_and_summary_and_changes_nothing() {
    let dir = project(SLEEPY);
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("--- a/main.py\n+++ b/main.py\n@@ "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("-def nap():\n-    time.sleep(0)\n+async def nap():\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stderr.trim_end(),
        "1 file scanned, 1 file changed, 1 function made async, 2 call sites rewritten; unawaited calls into async code: 0, 0 errors (changes not written), 0 warnings, 0 notes"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("main.py")).unwrap(),
        SLEEPY
    );
}

#[test]
fn write_then_check_is_idempotent() {
    let dir = project(SLEEPY);
    assert_eq!(run_awaitify(dir.path(), &["--check", "."]).status, 1);
    let run = run_awaitify(dir.path(), &["--write", "."]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "--write prints no diff: {}",
        run.stdout
    );
    let written = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(written.contains("asyncio.run(nap())"), "{written}");
    let check = run_awaitify(dir.path(), &["--check", "."]);
    assert_eq!(check.status, 0, "{}", check.stderr);
    assert!(check.stderr.contains("0 files changed"), "{}", check.stderr);
}

#[test]
fn diagnostics_have_path_line_col_code() {
    let dir = project("import time\n\n\ndef f():\n    time.sleep(0)\n\n\ng = lambda: f()\n");
    let run = run_awaitify(dir.path(), &["--show-notes", "main.py"]);
    assert_eq!(
        run.status, 0,
        "diagnostics alone do not fail a run: {}",
        run.stderr
    );
    let first = run.stderr.lines().next().unwrap();
    assert_eq!(
        first,
        "main.py:5:5: blocking-call-kept note: blocking call `time.sleep` left in place: `f` must stay sync: `f` is called from a lambda"
    );
    assert!(
        run.stderr
            .contains("main.py:8:1: sync-boundary note: `f` stays sync"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = project(SLEEPY);
    assert_eq!(run_awaitify(dir.path(), &["--no-such-flag"]).status, 2);
    assert_eq!(run_awaitify(dir.path(), &["--write", "--check"]).status, 2);
    fs::write(
        dir.path().join("bad.toml"),
        "id = \"x\"\nsummary = \"s\"\nbogus = 1\n",
    )
    .unwrap();
    let run = run_awaitify(dir.path(), &["--rules", "bad.toml", "."]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("bogus"), "{}", run.stderr);
}

#[test]
fn a_broken_file_is_reported_and_the_rest_migrates() {
    let dir = project(&format!(
        "#- ok.py\n{SLEEPY}#- broken.py\ndef f(:\n    time.sleep(1)\n"
    ));
    let run = run_awaitify(dir.path(), &["--write", "."]);
    assert_eq!(
        run.status, 1,
        "a file that could not be processed sets exit 1"
    );
    assert!(
        run.stderr.contains("broken.py:1:7: syntax-error"),
        "{}",
        run.stderr
    );
    assert!(
        fs::read_to_string(dir.path().join("ok.py"))
            .unwrap()
            .contains("async def nap")
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("broken.py")).unwrap(),
        "def f(:\n    time.sleep(1)\n"
    );
}

#[test]
fn walking_honours_ignores_excludes_hidden_and_venvs_but_not_for_named_paths() {
    let spec = format!(
        "#- .gitignore\nignored.py\n#- app.py\n{SLEEPY}#- ignored.py\n{SLEEPY}#- .hidden/h.py\n{SLEEPY}#- venv/v.py\n{SLEEPY}#- build/b.py\n{SLEEPY}"
    );
    let dir = project(&spec);
    let run = run_awaitify(dir.path(), &["--exclude", "build", "."]);
    let changed: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("+++ b/"))
        .collect();
    assert_eq!(changed, ["app.py"], "{}", run.stdout);
    let run = run_awaitify(dir.path(), &["--no-ignore", "--exclude", "build", "."]);
    assert!(run.stdout.contains("+++ b/ignored.py"), "{}", run.stdout);
    let run = run_awaitify(dir.path(), &["ignored.py"]);
    assert!(
        run.stdout.contains("+++ b/ignored.py"),
        "a named path is always processed: {}",
        run.stdout
    );
}

#[test]
fn quiet_color_and_version() {
    let dir = project(SLEEPY);
    let quiet = run_awaitify(dir.path(), &["-q", "main.py"]);
    assert!(
        quiet.stdout.is_empty() && quiet.stderr.is_empty(),
        "{quiet:?}",
        quiet = (quiet.stdout, quiet.stderr)
    );
    let color = run_awaitify(dir.path(), &["--color", "always", "main.py"]);
    assert!(
        color.stdout.contains("\x1b[31m-def nap():\x1b[0m"),
        "{}",
        color.stdout
    );
    let version = run_awaitify(dir.path(), &["--version"]);
    assert_eq!(
        version.stdout.trim(),
        format!("awaitify {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn pyproject_keep_sync_and_inline_rules() {
    let spec = r#"#- pyproject.toml
[project]
name = "demo"

[tool.awaitify]
keep-sync = ["legacy"]

[[tool.awaitify.rule]]
id = "demo-fetch"
summary = "demo.fetch has an awaitable twin"
call = [{ name = "demo.fetch", action = "replace", replace = "demo.afetch", await = true }]
example = [{ before = "", after = "" }]
#- main.py
import time

import demo


def legacy():
    time.sleep(0)


def load():
    return demo.fetch(1)
"#;
    let dir = project(spec);
    let run = run_awaitify(dir.path(), &["--show-notes", "."]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("+async def load():\n+    return await demo.afetch(1)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("async def legacy"), "{}", run.stdout);
    assert!(
        run.stderr.contains("pinned sync by --keep-sync"),
        "{}",
        run.stderr
    );
}
