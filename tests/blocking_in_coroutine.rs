//! `blocking-call-in-coroutine` and `blocking-callable-passed`: each family of
//! `transforms/blocking-call-in-coroutine.toml` is reported where a call to it is left in a
//! coroutine (none is rewritten here: no rule covers it, or a test mocks it), with its line,
//! its ruff rule and its advice; and the names are the matcher's, so what it resolves (a
//! function-level import, a `Path` stored in an attribute) is reported too.

mod support;

/// The diagnostics of this pass's two codes, as `path:line:col: code message`.
fn reported(spec: &str) -> Vec<String> {
    support::migrate_fixture(spec)
        .diagnostics
        .iter()
        .filter(|d| {
            matches!(
                d.code,
                "blocking-call-in-coroutine" | "blocking-callable-passed"
            )
        })
        .map(ToString::to_string)
        .collect()
}

/// Each expected line is the start of one report, in order, and there are no others.
fn assert_reports(spec: &str, want: &[&str]) {
    let got = reported(spec);
    let ok = got.len() == want.len() && got.iter().zip(want).all(|(g, w)| g.starts_with(w));
    assert!(
        ok,
        "expected reports starting with\n{want:#?}\ngot\n{got:#?}"
    );
}

#[test]
fn names_no_rule_rewrites_are_reported_with_their_ruff_rule() {
    let spec = r#"#- app.py
import io
import os
from pathlib import Path

import httpx
import urllib3


async def fetch(u, file):
    httpx.get(u)
    urllib3.request("GET", u)
    io.open_code(file)
    os.path.abspath(file)
    Path(file).link_to(file)
"#;
    assert_reports(
        spec,
        &[
            "app.py:10:5: blocking-call-in-coroutine `httpx.get` blocks the event loop inside a coroutine (ASYNC210); use `httpx.AsyncClient`",
            "app.py:11:5: blocking-call-in-coroutine `urllib3.request` blocks the event loop inside a coroutine (ASYNC210)",
            "app.py:12:5: blocking-call-in-coroutine `io.open_code` blocks the event loop inside a coroutine (ASYNC230); use `aiofiles.open`",
            "app.py:13:5: blocking-call-in-coroutine `os.path.abspath` blocks the event loop inside a coroutine (ASYNC240); use `aiofiles.os.path`",
            "app.py:14:5: blocking-call-in-coroutine `Path.link_to` blocks the event loop inside a coroutine (ASYNC240); use `aiofiles`/`aiofiles.os`",
        ],
    );
}

#[test]
fn a_method_of_a_kept_httpx_client_is_reported_once_as_a_use_of_the_kept_object() {
    // The kept-object report names why the client is still sync; the generic ASYNC212 one
    // of the same site would only repeat it.
    let spec = r#"#- app.py
import httpx


async def fetch(u):
    c = httpx.Client()
    c.mount = 1
    return c.get(u)
"#;
    assert_reports(
        spec,
        &[
            "app.py:7:12: blocking-call-in-coroutine `c.get(...)` blocks the event loop: its `httpx.Client` is kept",
        ],
    );
    // Kept because `__init__` made it; a blocking call that is no kept object's method is
    // still this pass's.
    let spec = r#"#- app.py
import httpx


class Api:
    def __init__(self):
        self.client = httpx.Client()

    async def fetch(self, url):
        httpx.get(url)
        return self.client.get(url)
"#;
    assert_reports(
        spec,
        &[
            "app.py:9:9: blocking-call-in-coroutine `httpx.get` blocks the event loop inside a coroutine (ASYNC210)",
            "app.py:10:16: blocking-call-in-coroutine `self.client.get(...)` blocks the event loop: its `httpx.Client` is kept",
        ],
    );
}

#[test]
fn names_a_test_mocks_stay_and_are_reported() {
    // The mocks keep the os, time and input rules from rewriting these calls.
    let spec = r#"#- app.py
import os
import time


async def run(cmd):
    os.spawnl(os.P_WAIT, cmd, cmd)
    os.system(cmd)
    os.waitpid(0, 0)
    time.sleep(0)
    return input()
#- test_app.py
from unittest import mock

import app


@mock.patch("os.system")
@mock.patch("time.sleep")
@mock.patch("builtins.input", return_value="x")
def test_run(inp, sleep, system):
    pass
"#;
    assert_reports(
        spec,
        &[
            "app.py:6:5: blocking-call-in-coroutine `os.spawnl` blocks the event loop inside a coroutine (ASYNC220)",
            "app.py:7:5: blocking-call-in-coroutine `os.system` blocks the event loop inside a coroutine (ASYNC221)",
            "app.py:8:5: blocking-call-in-coroutine `os.waitpid` blocks the event loop inside a coroutine (ASYNC222)",
            "app.py:9:5: blocking-call-in-coroutine `time.sleep` blocks the event loop inside a coroutine (ASYNC251); use `await asyncio.sleep(...)`",
            "app.py:10:12: blocking-call-in-coroutine `input` blocks the event loop inside a coroutine (ASYNC250)",
        ],
    );
}

#[test]
fn what_the_matcher_resolves_is_reported() {
    // The pass's own resolver, before the matcher's, took a function-level import for a
    // shadowing local and typed receivers only from a constructor call, a local or an
    // annotation: neither call was reported.
    let spec = r#"#- app.py
from pathlib import Path


class Tree:
    def __init__(self, d):
        self.root = Path(d)

    async def link(self, to):
        self.root.link_to(to)


async def open_code(file):
    import io

    return io.open_code(file)
"#;
    assert_reports(
        spec,
        &[
            "app.py:9:9: blocking-call-in-coroutine `Path.link_to` blocks the event loop inside a coroutine (ASYNC240)",
            "app.py:15:12: blocking-call-in-coroutine `io.open_code` blocks the event loop inside a coroutine (ASYNC230)",
        ],
    );
}

#[test]
fn a_blocking_name_passed_as_a_value_is_reported_unless_to_a_thread() {
    let spec = r#"#- app.py
import asyncio
import functools
import os.path as osp


async def later(file):
    return functools.partial(osp.abspath, file)


async def off_the_loop(file):
    return await asyncio.to_thread(osp.abspath, file)
"#;
    assert_reports(
        spec,
        &[
            "app.py:7:30: blocking-callable-passed the blocking `os.path.abspath` is passed as a value to `functools.partial` inside a coroutine",
        ],
    );
}

#[test]
fn a_blocking_name_handed_to_an_executor_is_not_reported_typed_or_not() {
    // `pool` is typed (`with ThreadPoolExecutor() as pool`): its type decides. `loop` and
    // `executor` are not: their method's name does, as only a report hangs on it.
    let spec = r#"#- app.py
import asyncio
import os.path as osp
from concurrent.futures import ThreadPoolExecutor


async def in_a_pool(files):
    with ThreadPoolExecutor() as pool:
        return list(pool.map(osp.abspath, files))


async def in_the_loop_executor(file):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, osp.abspath, file)


async def untyped(executor, files):
    return executor.map(osp.abspath, files)
"#;
    assert_reports(spec, &[]);
}
