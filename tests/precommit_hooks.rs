//! The hooks of `.pre-commit-hooks.yaml`, run on sample git repositories exactly as
//! pre-commit calls them: the hook's `entry` (with the built binary for `awaitify`), its
//! `args`, then the staged files its `types` select, from the repository's root.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use support::{awaitify, repo_root, write_fixture};

type Hook = BTreeMap<String, String>;

/// The hooks file's entries as `key -> value` maps. The file is ours and kept to flat
/// `key: value` lines, so a small reader does (a nested value would fail the test).
fn hooks() -> Vec<Hook> {
    let text = std::fs::read_to_string(repo_root().join(".pre-commit-hooks.yaml")).unwrap();
    let mut out: Vec<Hook> = Vec::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        if line.trim().is_empty() {
            continue;
        }
        let (new, body) = match line.strip_prefix("- ") {
            Some(rest) => (true, rest),
            None => (false, line.strip_prefix("  ").expect("a hook key: {line}")),
        };
        assert!(
            !body.starts_with(' '),
            "nested YAML is not expected: {line}"
        );
        if new {
            out.push(Hook::new());
        }
        let (key, value) = body.split_once(": ").expect("key: value");
        let hook = out.last_mut().unwrap();
        hook.insert(key.to_string(), value.trim().to_string());
    }
    out
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A git repository with `spec`'s files staged.
fn staged_repo(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    write_fixture(dir.path(), spec);
    std::fs::write(dir.path().join("README.md"), "# sample\n").unwrap();
    git(dir.path(), &["add", "-A"]);
    dir
}

/// Runs `id` as pre-commit would on the staged files; returns the exit status and output.
fn run_hook(id: &str, repo: &Path) -> (i32, String) {
    let hook = hooks().into_iter().find(|h| h["id"] == id).expect(id);
    assert_eq!(hook["language"], "python");
    assert_eq!(
        hook["types"], "[python]",
        "the file filter below is for python"
    );
    assert_eq!(
        hook.get("pass_filenames").map(String::as_str),
        None,
        "pre-commit passes the file names by default"
    );
    let staged = git(repo, &["diff", "--cached", "--name-only"]);
    let files: Vec<&str> = staged.lines().filter(|f| f.ends_with(".py")).collect();
    let mut words = hook["entry"].split_whitespace();
    assert_eq!(words.next(), Some("awaitify"));
    let args = hook.get("args").map_or(Vec::new(), |a| {
        a.trim_matches(['[', ']'])
            .split(',')
            .map(|s| s.trim().to_string())
            .collect()
    });
    let out = Command::new(awaitify())
        .current_dir(repo)
        .args(words)
        .args(&args)
        .args(&files)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

const CLEAN: &str = r#"#- app.py
import asyncio


async def main():
    await asyncio.sleep(0)


asyncio.run(main())
"#;

const SYNC_IO: &str = r#"#- app.py
import time


def nap():
    time.sleep(0)


if __name__ == "__main__":
    nap()
"#;

/// Reported, not rewritten: no file would change, so only the selection fails the hook.
const REPORTED_HAZARD: &str = r#"#- app.py
import urllib3


async def handler():
    urllib3.request("GET", "http://localhost/")
"#;

/// Fixed by awaitify (a reference is kept): the change fails the hook.
const FIXABLE_HAZARD: &str = r#"#- app.py
import asyncio


async def work():
    await asyncio.sleep(0)


async def main():
    asyncio.create_task(work())
    await asyncio.sleep(0)
"#;

#[test]
fn both_hooks_are_declared() {
    let ids: Vec<String> = hooks().into_iter().map(|h| h["id"].clone()).collect();
    assert_eq!(ids, ["awaitify-check", "awaitify-async-hazards"]);
}

#[test]
fn check_hook_fails_on_sync_io_and_passes_on_async_code() {
    let (status, out) = run_hook("awaitify-check", staged_repo(CLEAN).path());
    assert_eq!(status, 0, "{out}");
    let (status, out) = run_hook("awaitify-check", staged_repo(SYNC_IO).path());
    assert_eq!(status, 1, "{out}");
    // A warning alone is not a change: the check hook lets it through.
    let (status, out) = run_hook("awaitify-check", staged_repo(REPORTED_HAZARD).path());
    assert_eq!(status, 0, "{out}");
}

#[test]
fn hazard_hook_fails_on_each_hazard_and_passes_on_clean_code() {
    let (status, out) = run_hook("awaitify-async-hazards", staged_repo(CLEAN).path());
    assert_eq!(status, 0, "{out}");
    let (status, out) = run_hook(
        "awaitify-async-hazards",
        staged_repo(REPORTED_HAZARD).path(),
    );
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("app.py:5:5: blocking-call-in-coroutine warning:"),
        "{out}"
    );
    let (status, out) = run_hook("awaitify-async-hazards", staged_repo(FIXABLE_HAZARD).path());
    assert_eq!(status, 1, "{out}");
    let cancel = "#- app.py\nimport asyncio\n\n\nasync def main():\n    try:\n        await asyncio.sleep(0)\n    except:\n        pass\n";
    let (status, out) = run_hook("awaitify-async-hazards", staged_repo(cancel).path());
    assert_eq!(status, 1, "{out}");
    // Through a function that stays sync (an lru_cache would cache the coroutine).
    let cached = "#- app.py\nimport functools\nimport time\n\n\n@functools.lru_cache(maxsize=None)\ndef config(key):\n    time.sleep(0)\n    return key\n\n\nasync def handler():\n    return config(\"k\")\n";
    let (status, out) = run_hook("awaitify-async-hazards", staged_repo(cached).path());
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("app.py:12:1: blocking-sync-call warning:"),
        "{out}"
    );
}

#[test]
fn a_suppressed_hazard_passes_the_hazard_hook() {
    let spec = REPORTED_HAZARD.replace(
        "\"http://localhost/\")",
        "\"http://localhost/\")  # awaitify: ignore[blocking-call-in-coroutine]",
    );
    let (status, out) = run_hook("awaitify-async-hazards", staged_repo(&spec).path());
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("1 suppressed (# awaitify: ignore)"), "{out}");
}
