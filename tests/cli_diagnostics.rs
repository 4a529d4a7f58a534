//! Which diagnostics a run shows: `--select` / `--ignore` / `--extend-select` (also in
//! `[tool.awaitify]`), notes behind `--show-notes`, `# awaitify: ignore[...]` comments, the
//! summary's counts of what is hidden, `--check --select` as a lint, `--explain` alone, and
//! `blocking-sync-call`.

mod support;

use serde_json::Value;
use std::fs;
use support::{read_tree, run_awaitify, write_fixture};

/// Two warnings (`blocking-call-in-coroutine`, `dangling-task`) and two notes (the lambda
/// pins `slow`: `blocking-call-kept`, `sync-boundary`); nothing is rewritten.
const MIXED: &str = r#"#- main.py
import asyncio
import time

import urllib3


def slow():
    time.sleep(0)


g = lambda: slow()


async def work():
    await asyncio.sleep(0)


async def handler(flag):
    urllib3.request("GET", "http://localhost/")
    if flag: asyncio.create_task(work())
"#;

fn project(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), spec);
    dir
}

/// `(line, code)` of each diagnostic line of a text run's stderr.
fn shown(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("main.py:"))
        .map(|l| {
            let mut parts = l.splitn(4, ':');
            let line = parts.nth(1).unwrap();
            let code = parts.nth(1).unwrap().split_whitespace().next().unwrap();
            format!("{line}:{code}")
        })
        .collect()
}

fn summary_line(stderr: &str) -> &str {
    stderr.lines().last().unwrap_or("")
}

#[test]
fn notes_are_hidden_by_default_shown_with_show_notes_and_counted() {
    let dir = project(MIXED);
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        shown(&run.stderr),
        ["19:blocking-call-in-coroutine", "20:dangling-task"]
    );
    assert_eq!(
        summary_line(&run.stderr),
        "1 file scanned, 0 files changed, 0 functions made async, 0 call sites rewritten; unawaited calls into async code: 0, 0 errors (changes not written), 2 warnings, 2 notes; not shown: 2 notes (--show-notes)"
    );
    let run = run_awaitify(dir.path(), &["--show-notes", "main.py"]);
    assert_eq!(
        shown(&run.stderr),
        [
            "8:blocking-call-kept",
            "11:sync-boundary",
            "19:blocking-call-in-coroutine",
            "20:dangling-task"
        ]
    );
    assert!(!run.stderr.contains("not shown"), "{}", run.stderr);
    // JSON keeps the notes (each with its severity); nothing is hidden there.
    let run = run_awaitify(dir.path(), &["--format", "json", "main.py"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["diagnostics"].as_array().unwrap().len(), 4);
    let s = &doc["summary"];
    assert_eq!(
        (&s["warnings"], &s["notes"], &s["shown"], &s["notes_hidden"]),
        (&2.into(), &2.into(), &4.into(), &0.into())
    );
    // `[tool.awaitify] show-notes = true` does the same.
    fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.awaitify]\nshow-notes = true\n",
    )
    .unwrap();
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(shown(&run.stderr).len(), 4, "{}", run.stderr);
}

#[test]
fn select_ignore_and_extend_select_by_code_and_prefix() {
    let dir = project(MIXED);
    let show = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push("main.py");
        let run = run_awaitify(dir.path(), &all);
        assert_eq!(run.status, 0, "{args:?}: {}", run.stderr);
        (shown(&run.stderr), summary_line(&run.stderr).to_string())
    };
    // A prefix ends at a `-`; a note it names is shown without --show-notes.
    let (got, summary) = show(&["--select", "blocking"]);
    assert_eq!(
        got,
        ["8:blocking-call-kept", "19:blocking-call-in-coroutine"]
    );
    assert!(
        summary.ends_with("not shown: 2 deselected (--select/--ignore)"),
        "{summary}"
    );
    let (got, _) = show(&["--select", "blocking", "--ignore", "blocking-call-kept"]);
    assert_eq!(got, ["19:blocking-call-in-coroutine"]);
    let (got, _) = show(&["--ignore", "blocking"]);
    assert_eq!(got, ["20:dangling-task"]);
    let (got, _) = show(&[
        "--select",
        "dangling-task",
        "--extend-select",
        "blocking-call-in-coroutine",
    ]);
    assert_eq!(got, ["19:blocking-call-in-coroutine", "20:dangling-task"]);
    // Comma-separated and repeatable; the longest selector wins over a shorter ignore.
    let (got, _) = show(&[
        "--ignore",
        "blocking,dangling-task",
        "--extend-select=blocking-call-in-coroutine",
    ]);
    assert_eq!(got, ["19:blocking-call-in-coroutine"]);
    // JSON and SARIF show the same selection.
    let run = run_awaitify(
        dir.path(),
        &["--format", "json", "--ignore", "sync-boundary", "main.py"],
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let codes: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "blocking-call-kept",
            "blocking-call-in-coroutine",
            "dangling-task"
        ]
    );
    assert_eq!(doc["summary"]["deselected"], 1);
    assert_eq!(doc["summary"]["diagnostics"], 4);
    let run = run_awaitify(
        dir.path(),
        &["--format", "sarif", "--select", "dangling-task", "main.py"],
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "dangling-task");
    // A file that changes is an `async-migration` result, selected like any code.
    let sleepy = project(
        "#- main.py\nimport time\n\n\ndef nap():\n    time.sleep(0)\n\n\nif __name__ == \"__main__\":\n    nap()\n",
    );
    let rules = |args: &[&str]| {
        let mut all = vec!["--format", "sarif"];
        all.extend(args);
        all.push("main.py");
        let run = run_awaitify(sleepy.path(), &all);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let results = doc["runs"][0]["results"].as_array().unwrap().clone();
        results
            .iter()
            .map(|r| r["ruleId"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(rules(&[]), ["async-migration"]);
    assert_eq!(
        rules(&["--ignore", "async-migration"]),
        Vec::<String>::new()
    );
}

#[test]
fn pyproject_selects_and_the_command_line_select_replaces_it() {
    let dir = project(MIXED);
    fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.awaitify]\nselect = [\"dangling-task\"]\nextend-select = [\"sync-boundary\"]\n",
    )
    .unwrap();
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(shown(&run.stderr), ["11:sync-boundary", "20:dangling-task"]);
    let run = run_awaitify(dir.path(), &["--select", "blocking-call-in", "main.py"]);
    assert_eq!(
        shown(&run.stderr),
        ["11:sync-boundary", "19:blocking-call-in-coroutine"]
    );
    fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.awaitify]\nignore = [\"dangling-task\"]\n",
    )
    .unwrap();
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(shown(&run.stderr), ["19:blocking-call-in-coroutine"]);
}

#[test]
fn an_unknown_code_or_prefix_is_a_usage_error() {
    let dir = project(MIXED);
    for args in [
        &["--select", "dang"][..],
        &["--ignore", "block"],
        &["--extend-select", "sync-bondary"],
        &["--select", "dangling-task,nope"],
    ] {
        let run = run_awaitify(dir.path(), args);
        assert_eq!(run.status, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("is not a diagnostic code or a prefix of one"),
            "{}",
            run.stderr
        );
    }
    let run = run_awaitify(dir.path(), &["--ignore", "sync-bondary"]);
    assert!(
        run.stderr.contains("(did you mean sync-boundary?)"),
        "{}",
        run.stderr
    );
    fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.awaitify]\nignore = [\"unresolved-calls\"]\n",
    )
    .unwrap();
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("pyproject.toml: [tool.awaitify]: `unresolved-calls`"),
        "{}",
        run.stderr
    );
}

#[test]
fn selection_never_changes_what_is_written_or_the_exit_status() {
    let spec = "#- main.py\nimport time\n\n\ndef nap():\n    time.sleep(0)\n\n\nasync def main():\n    nap()\n    if True: asyncio.create_task(main())\n\n\nimport asyncio\n#- broken.py\ndef f(:\n";
    let plain = project(spec);
    let narrow = project(spec);
    let a = run_awaitify(plain.path(), &["--write", "."]);
    let b = run_awaitify(
        narrow.path(),
        &["--write", "--ignore", "syntax-error,dangling-task", "."],
    );
    assert_eq!(read_tree(plain.path()), read_tree(narrow.path()));
    assert!(
        read_tree(narrow.path())["main.py"].contains("async def nap"),
        "the migration was written"
    );
    // The error is hidden but still fails the run and is counted.
    assert_eq!((a.status, b.status), (1, 1), "{}", b.stderr);
    assert!(!b.stderr.contains("syntax-error"), "{}", b.stderr);
    assert!(
        summary_line(&b.stderr).contains("1 error (changes not written)"),
        "{}",
        b.stderr
    );
    assert!(
        summary_line(&b.stderr).contains("2 deselected"),
        "{}",
        b.stderr
    );
}

#[test]
fn suppression_comments_hide_a_line_and_unknown_codes_are_reported() {
    let suppressed = MIXED
        .replace(
            "\"http://localhost/\")",
            "\"http://localhost/\")  # awaitify: ignore[blocking-call-in-coroutine]",
        )
        .replace(
            "asyncio.create_task(work())",
            "asyncio.create_task(work())  # noqa # awaitify: ignore",
        );
    let dir = project(&suppressed);
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(shown(&run.stderr), Vec::<String>::new(), "{}", run.stderr);
    assert!(
        summary_line(&run.stderr)
            .ends_with("not shown: 2 notes (--show-notes), 2 suppressed (# awaitify: ignore)"),
        "{}",
        run.stderr
    );
    // A comment hides only the codes it names, only on its own line.
    let other = MIXED.replace(
        "\"http://localhost/\")",
        "\"http://localhost/\")  # awaitify: ignore[dangling-task]",
    );
    let dir = project(&other);
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(
        shown(&run.stderr),
        ["19:blocking-call-in-coroutine", "20:dangling-task"]
    );
    // An unknown code suppresses nothing and is reported.
    let unknown = MIXED.replace(
        "\"http://localhost/\")",
        "\"http://localhost/\")  # awaitify: ignore[blocking-call-in-corotine]",
    );
    let dir = project(&unknown);
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(
        shown(&run.stderr),
        [
            "19:blocking-call-in-coroutine",
            "19:unknown-suppression",
            "20:dangling-task"
        ]
    );
    assert!(
        run.stderr.contains(
            "main.py:19:50: unknown-suppression warning: `# awaitify: ignore[blocking-call-in-corotine]` suppresses nothing"
        ),
        "{}",
        run.stderr
    );
    // In a string it is not a comment.
    let in_string = MIXED.replace(
        "\"http://localhost/\")",
        "\"http://localhost/ # awaitify: ignore\")",
    );
    let dir = project(&in_string);
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(shown(&run.stderr).len(), 2, "{}", run.stderr);
}

#[test]
fn check_with_select_fails_on_a_selected_warning() {
    let dir = project(MIXED);
    let status = |args: &[&str]| {
        let mut all = vec!["--check"];
        all.extend(args);
        all.push("main.py");
        run_awaitify(dir.path(), &all).status
    };
    // Nothing would change: a plain --check passes whatever it reports.
    assert_eq!(status(&[]), 0);
    assert_eq!(status(&["--select", "dangling-task"]), 1);
    assert_eq!(status(&["--select", "blocking-call-in-coroutine"]), 1);
    // A selected note does not fail it, nor does a suppressed or ignored warning.
    assert_eq!(status(&["--select", "sync-boundary"]), 0);
    assert_eq!(
        status(&["--select", "dangling-task", "--ignore", "dangling-task"]),
        0
    );
    // Without --check the lint does not change the exit status.
    assert_eq!(
        run_awaitify(dir.path(), &["--select", "dangling-task", "main.py"]).status,
        0
    );
}

#[test]
fn explain_prints_the_chain_only() {
    let dir = project(
        "#- main.py\nimport time\n\n\ndef nap():\n    time.sleep(0)\n\n\ndef main():\n    nap()\n\n\ng = lambda: nap()\n",
    );
    let run = run_awaitify(dir.path(), &["--explain", "nap", "main.py"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("main.nap stays sync"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("---"), "no diff: {}", run.stdout);
    assert_eq!(run.stderr, "", "no diagnostics and no summary");
}

/// A pinned function with blocking calls that code async in the output calls, or uses at
/// the pin's site inside a coroutine, or (a property) that no followed call reaches.
#[test]
fn blocking_sync_call_where_a_coroutine_reaches_a_function_that_stays_sync() {
    let spec = r#"#- main.py
import functools
import time


def slow_len(word):
    time.sleep(0)
    return len(word)


def fetch(word):
    time.sleep(0)
    return word


@functools.lru_cache(maxsize=None)
def config(key):
    time.sleep(0)
    return key


class Box:
    @property
    def weight(self):
        time.sleep(0)
        return 1


def main():
    print(sorted(["a", "bb"], key=slow_len))
    print(fetch("x"), config("k"), Box().weight)


if __name__ == "__main__":
    main()
"#;
    let dir = project(spec);
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(
        shown(&run.stderr),
        [
            "22:blocking-sync-call",
            "29:blocking-sync-call",
            "30:blocking-sync-call"
        ],
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("main.py:30:1: blocking-sync-call warning: the coroutine `main` reaches `config` (main.py:15), which stays sync and keeps its blocking calls: they block the event loop here"),
        "{}",
        run.stderr
    );
    // A hook that something else calls (`__del__`, a test runner's setup) is no property:
    // nothing says a coroutine reaches it.
    let hooks = "#- main.py\nimport time\n\n\nclass Res:\n    def __del__(self):\n        time.sleep(0)\n\n\nclass TestX:\n    def setup_method(self):\n        time.sleep(0)\n\n\nasync def main():\n    Res()\n";
    let dir = project(hooks);
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(shown(&run.stderr), Vec::<String>::new(), "{}", run.stderr);
    assert!(
        run.stderr.contains("2 notes (--show-notes)"),
        "{}",
        run.stderr
    );
    // Where no coroutine reaches it, a pin is a note only.
    let sync_only = "#- main.py\nimport time\n\n\ndef slow_len(word):\n    time.sleep(0)\n    return len(word)\n\n\ndef main():\n    print(sorted([\"a\", \"bb\"], key=slow_len))\n\n\nmain()\n";
    let dir = project(sync_only);
    let run = run_awaitify(dir.path(), &["main.py"]);
    assert_eq!(shown(&run.stderr), Vec::<String>::new(), "{}", run.stderr);
}
