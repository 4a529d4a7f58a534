//! Tests of the test support library itself (`tests/support/`), none of which
//! need awaitify to work: when these fail, every other integration test's
//! failure is suspect.

mod support;

use std::collections::BTreeMap;
use std::panic;
use std::time::{Duration, Instant};

use support::{
    Server, last_line, parse_fixture, python, read_tree, run_python, run_python_with_timeout,
    write_fixture,
};

fn tree(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn fixture_without_headers_is_main_py() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), "import time\ntime.sleep(0)\n");
    assert_eq!(
        read_tree(dir.path()),
        tree(&[("main.py", "import time\ntime.sleep(0)\n")])
    );
}

#[test]
fn fixture_headers_make_files_in_nested_dirs() {
    let spec = r#"
#- main.py
from pkg.sub import mod

mod.run()
#- pkg/__init__.py
#- pkg/sub/mod.py
def run():
    print("hi")
#- data/notes.txt
plain text
"#;
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), spec);
    assert_eq!(
        read_tree(dir.path()),
        tree(&[
            ("data/notes.txt", "plain text\n"),
            ("main.py", "from pkg.sub import mod\n\nmod.run()\n"),
            ("pkg/__init__.py", ""),
            ("pkg/sub/mod.py", "def run():\n    print(\"hi\")\n"),
        ])
    );
}

#[test]
fn fixture_keeps_bytes_of_contents() {
    let spec =
        "#- win.py\r\n\u{feff}import time\r\nif True:\r\n\ttime.sleep(0)\r\n#- last.py\nx = 1";
    let files = parse_fixture(spec).unwrap();
    assert_eq!(
        files,
        vec![
            (
                "win.py".to_string(),
                "\u{feff}import time\r\nif True:\r\n\ttime.sleep(0)\r\n".to_string()
            ),
            ("last.py".to_string(), "x = 1".to_string()),
        ]
    );
}

#[test]
fn fixture_rejects_text_before_first_header() {
    let err = parse_fixture("\nimport os\n#- main.py\nprint(1)\n").unwrap_err();
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("before the first"), "{err}");
}

#[test]
fn fixture_rejects_bad_paths_and_duplicates() {
    for (spec, want) in [
        ("#- \nx = 1\n", "without a path"),
        ("#- /abs.py\n", "relative"),
        ("#- a\\b.py\n", "relative"),
        ("#- ../up.py\n", "`..`"),
        ("#- a//b.py\n", "empty"),
        (
            "#- a.py\n#- b.py\n#- a.py\n",
            "line 3: `a.py` appears twice",
        ),
    ] {
        let err = parse_fixture(spec).unwrap_err();
        assert!(err.contains(want), "{spec:?}: {err}");
    }
}

#[test]
fn write_fixture_panics_on_a_bad_spec() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let result = panic::catch_unwind(|| write_fixture(&path, "oops\n#- main.py\n"));
    let payload = result.unwrap_err();
    let msg = payload.downcast_ref::<String>().unwrap();
    assert!(msg.starts_with("bad fixture: fixture line 1"), "{msg}");
    assert!(read_tree(dir.path()).is_empty());
}

#[test]
fn read_tree_skips_caches() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(
        dir.path(),
        "#- a.py\n#- __pycache__/a.cpython-311.pyc\n#- t/.pytest_cache/v\n#- t/b.py\n",
    );
    assert_eq!(read_tree(dir.path()), tree(&[("a.py", ""), ("t/b.py", "")]));
}

#[test]
fn run_python_captures_stdout_stderr_and_status() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(
        dir.path(),
        "import sys\nprint('out', sys.argv[1:])\nprint('err', file=sys.stderr)\nsys.exit(3)\n",
    );
    let run = run_python(dir.path(), &["main.py", "a", "b"], &[]);
    assert_eq!(run.status, 3);
    assert_eq!(run.stdout, "out ['a', 'b']\n");
    assert_eq!(run.stderr, "err\n");
}

#[test]
fn run_python_sets_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import os, sys
print(os.environ["PYTHONHASHSEED"], os.environ["PYTHONDONTWRITEBYTECODE"])
print(os.environ["PYTHONIOENCODING"], os.environ["PYTHONUNBUFFERED"])
print(os.environ["EXTRA"], repr(sys.stdin.read()), os.path.basename(os.getcwd()))
print(sys.prefix == os.environ["VIRTUAL_ENV"], sys.prefix != sys.base_prefix)
print("caf\u00e9")
"#;
    let sub = dir.path().join("work");
    write_fixture(&sub, script);
    let run = run_python(&sub, &["main.py"], &[("EXTRA", "x=1")]);
    assert_eq!(
        (run.status, run.stdout.as_str()),
        (0, "0 1\nutf-8 1\nx=1 '' work\nTrue True\ncafé\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn run_python_kills_a_program_that_overruns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let started = Instant::now();
    let result = panic::catch_unwind(|| {
        run_python_with_timeout(
            &path,
            &[
                "-c",
                "import time; print('started', flush=True); time.sleep(30)",
            ],
            &[],
            Duration::from_secs(2),
        )
    });
    let payload = result.unwrap_err();
    let msg = payload.downcast_ref::<String>().unwrap();
    assert!(msg.contains("timed out after 2s and was killed"), "{msg}");
    assert!(msg.contains("started"), "partial stdout is shown: {msg}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn venv_has_the_pinned_packages() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
from importlib.metadata import version
for name in ["requests", "httpx", "aiosqlite", "aiofiles", "pytest", "pytest-asyncio"]:
    print(name, version(name))
"#;
    write_fixture(dir.path(), script);
    let run = run_python(dir.path(), &["main.py"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let pinned =
        std::fs::read_to_string(support::repo_root().join("tests/python-requirements.txt"))
            .unwrap();
    for line in run.stdout.lines() {
        let pin = line.replace(' ', "==");
        assert!(pinned.lines().any(|l| l == pin), "{pin} is not pinned");
    }
    assert_eq!(run.stdout.lines().count(), 6);
    assert!(python().starts_with(support::repo_root().join("target/test-venv")));
}

#[test]
fn pytest_and_pytest_asyncio_run() {
    let dir = tempfile::tempdir().unwrap();
    let spec = r#"
#- test_it.py
import asyncio
import pytest

def test_sync():
    assert 1 + 1 == 2

@pytest.mark.asyncio
async def test_async():
    await asyncio.sleep(0)
"#;
    write_fixture(dir.path(), spec);
    let run = run_python(
        dir.path(),
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        &[],
    );
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(last_line(&run.stdout), "2 passed");
}

#[test]
fn last_line_drops_pytest_durations() {
    assert_eq!(last_line("x\n3 passed in 0.12s\n\n"), "3 passed");
    assert_eq!(
        last_line("1 failed, 2 passed in 61.20s (0:01:01)\n"),
        "1 failed, 2 passed"
    );
    assert_eq!(
        last_line("===== 2 passed in 1s =====\r\n"),
        "===== 2 passed ====="
    );
    assert_eq!(last_line("done in 3 steps\n"), "done in 3 steps");
    assert_eq!(last_line("ran in 0.5 seconds\n"), "ran in 0.5 seconds");
    assert_eq!(last_line(""), "");
}

/// Queries the server with `requests` from the venv, which proves both work.
#[test]
fn server_answers_json_and_status() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import os
import requests

base = os.environ["TEST_SERVER"]
r = requests.get(base + "/json", timeout=10)
print(r.status_code, r.headers["Content-Type"], r.json()["owner"]["address"]["city"])
r = requests.get(base + "/status/404", timeout=10)
print(r.status_code, r.json())
"#;
    write_fixture(dir.path(), script);
    let run = run_python(dir.path(), &["main.py"], &[("TEST_SERVER", &server.url)]);
    assert_eq!(
        (run.status, run.stdout.as_str()),
        (0, "200 application/json Springfield\n404 {'status': 404}\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn server_endpoints_are_deterministic() {
    let script = r#"
import os
import requests

base = os.environ["TEST_SERVER"]
s = requests.Session()

def show(r):
    print(r.status_code, r.headers.get("Content-Type"), r.text.strip()[:80])

show(s.get(base + "/text"))
show(s.get(base + "/echo", params=[("a", "1"), ("b", "2"), ("b", "3")]))
show(s.post(base + "/echo", data="raw body", headers={"Content-Type": "text/x-test"}))
show(s.put(base + "/echo", json={"k": [1, 2]}))
show(s.get(base + "/headers", headers={"X-Trace": "t1", "Authorization": "Bearer x", "Other": "no"}))
show(s.get(base + "/status/503"))
show(s.get(base + "/status/204"))
show(s.get(base + "/slow", params={"ms": 30}))
r = s.get(base + "/redirect", params={"to": "/text"})
print(r.status_code, [h.status_code for h in r.history], r.text.strip())
print(s.get(base + "/redirect", allow_redirects=False).headers["Location"])
print([i["name"] for i in s.get(base + "/items").json()["items"]])
show(s.get(base + "/items", params={"page": 3, "per_page": 2}))
show(s.get(base + "/items/2"))
show(s.get(base + "/items/99"))
data = s.get(base + "/bytes/300", stream=True)
chunks = list(data.iter_content(chunk_size=128))
print([len(c) for c in chunks], sum(b"".join(chunks)))
print(list(s.get(base + "/lines", params={"n": 3}, stream=True).iter_lines()))
print([s.get(base + "/flaky", params={"key": "k", "fail": 2}).status_code for _ in range(3)])
show(s.get(base + "/auth"))
show(s.get(base + "/auth", headers={"Authorization": "Bearer secret-token"}))
show(s.get(base + "/store/k"))
show(s.put(base + "/store/k", data=b"v1"))
show(s.put(base + "/store/k", data=b"v2", headers={"Content-Type": "text/plain"}))
show(s.get(base + "/store/k"))
show(s.get(base + "/store"))
show(s.delete(base + "/store/k"))
show(s.delete(base + "/store/k"))
show(s.get(base + "/nowhere"))
show(s.get(base + "/slow", params={"ms": "x"}))
"#;
    let expected = r#"200 text/plain; charset=utf-8 hello from test server
200 application/json {"args": {"a": "1", "b": ["2", "3"]}, "method": "GET"}
200 text/x-test raw body
200 application/json {"k": [1, 2]}
200 application/json {"headers": {"authorization": "Bearer x", "x-trace": "t1"}}
503 application/json {"status": 503}
204 text/plain 
200 application/json {"slept_ms": 30}
200 [302] hello from test server
/json
['apple', 'banana', 'cherry', 'damson', 'elder']
200 application/json {"items": [{"id": 5, "name": "elder", "price": 4.5}], "next": null}
200 application/json {"id": 2, "name": "banana", "price": 0.5}
404 application/json {"error": "no such item", "id": "99"}
[128, 128, 44] 38210
[b'line 1', b'line 2', b'line 3']
[503, 503, 200]
401 application/json {"error": "unauthorized"}
200 application/json {"user": "alice"}
404 application/json {"error": "no such key", "key": "k"}
201 application/json {"key": "k", "size": 2}
200 application/json {"key": "k", "size": 2}
200 text/plain v2
200 application/json {"keys": ["k"]}
200 application/json {"deleted": true, "key": "k"}
404 application/json {"deleted": false, "key": "k"}
404 application/json {"error": "not found"}
400 application/json {"error": "not a number: 'x'"}
"#;
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), script);
    // Two fresh servers answer the same sequence identically.
    for _ in 0..2 {
        let server = Server::start();
        let run = run_python(dir.path(), &["main.py"], &[("TEST_SERVER", &server.url)]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert_eq!(run.stdout, expected, "{}", run.stderr);
        assert_eq!(run.stderr, "");
    }
}

#[test]
fn server_is_gone_after_drop() {
    let server = Server::start();
    let url = server.url.clone();
    drop(server);
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import os, requests
try:
    requests.get(os.environ["TEST_SERVER"] + "/json", timeout=5)
    print("still up")
except requests.ConnectionError:
    print("refused")
"#;
    write_fixture(dir.path(), script);
    let run = run_python(dir.path(), &["main.py"], &[("TEST_SERVER", &url)]);
    assert_eq!(run.stdout, "refused\n", "{}", run.stderr);
}
