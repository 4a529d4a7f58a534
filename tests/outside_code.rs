//! Code outside the project that calls project functions without await: methods overriding
//! a stdlib or third-party base, functions under a decorator that is not the project's own,
//! and project decorators whose wrapper cannot serve both sync and async functions. Each
//! must stay sync, with a diagnostic; each program here runs the same before and after.

mod support;

use awaitify::rules::Catalog;
use awaitify::run::migrate_texts;
use support::{Equiv, assert_equivalent};

/// The diagnostics of a migration of the fixture's Python files outside `vendor/`.
fn diagnostics(spec: &str, catalog: &Catalog) -> Vec<String> {
    let files = support::parse_fixture(spec).expect("valid fixture");
    let refs: Vec<(&str, &str)> = files
        .iter()
        .filter(|(p, _)| p.ends_with(".py") && !p.starts_with("vendor/"))
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    migrate_texts(&refs, catalog)
        .diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect()
}

#[track_caller]
fn assert_has(haystack: &str, needles: &[&str]) {
    for needle in needles {
        assert!(haystack.contains(needle), "missing {needle:?}:\n{haystack}");
    }
}

/// The stdlib calls these overrides without await: `Thread.run` from `start()`,
/// `JSONEncoder.default` from `dumps`, `Handler.emit` from `Logger.warning`,
/// `HTTPConnection.connect` from `request`.
const STDLIB_BASES: &str = r#"import http.client
import json
import logging
import threading
import time


class Worker(threading.Thread):
    def __init__(self):
        super().__init__()
        self.out = []

    def run(self):
        time.sleep(0.01)
        self.out.append("ran")


class SetEncoder(json.JSONEncoder):
    def default(self, o):
        time.sleep(0)
        return sorted(o)


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        time.sleep(0)
        self.records.append(record.getMessage())

    def summary(self):
        time.sleep(0)
        return len(self.records)


class OfflineConnection(http.client.HTTPConnection):
    def connect(self):
        time.sleep(0)
        raise OSError("offline")


def fetch():
    conn = OfflineConnection("example.invalid")
    try:
        conn.request("GET", "/")
    except OSError as e:
        return f"failed: {e}"
    return "sent"


class RunMixin:
    def run(self):
        time.sleep(0.01)
        self.out.append("mixin ran")


class MixedWorker(RunMixin, threading.Thread):
    def __init__(self):
        super().__init__()
        self.out = []


def main():
    w = Worker()
    w.start()
    w.join()
    print(w.out)
    m = MixedWorker()
    m.start()
    m.join()
    print(m.out)
    print(json.dumps({"s": {3, 1, 2}}, cls=SetEncoder))
    log = logging.getLogger("demo")
    handler = ListHandler()
    log.addHandler(handler)
    log.warning("hello %s", "world")
    print(handler.records, handler.summary())
    print(fetch())


if __name__ == "__main__":
    main()
"#;

#[test]
fn overrides_of_stdlib_methods_stay_sync() {
    let tree = assert_equivalent(STDLIB_BASES, &["main.py"], Equiv::default());
    let out = &tree["main.py"];
    assert_has(
        out,
        &[
            "    def run(self):\n        time.sleep(0.01)",
            "    def default(self, o):\n        time.sleep(0)",
            "    def emit(self, record):\n        time.sleep(0)",
            "    def connect(self):\n        time.sleep(0)",
            // Not a method the base has: it converts.
            "    async def summary(self):\n        await asyncio.sleep(0)",
        ],
    );
    let diags = diagnostics(STDLIB_BASES, &Catalog::builtin().unwrap()).join("\n");
    assert_has(
        &diags,
        &[
            "main.py:13:1: external-base `run` stays sync and keeps its blocking calls: `Worker.run` overrides a method of `threading.Thread`, which calls it without await",
            "main.py:19:1: external-base `default` stays sync and keeps its blocking calls: `SetEncoder.default` overrides a method of `json.JSONEncoder`",
            "main.py:29:1: external-base `emit` stays sync and keeps its blocking calls: `ListHandler.emit` overrides a method of `logging.Handler`",
            "main.py:39:1: external-base `connect` stays sync and keeps its blocking calls: `OfflineConnection.connect` overrides a method of `http.client.HTTPConnection`",
            "main.py:54:1: external-base `run` stays sync and keeps its blocking calls: `RunMixin.run` (inherited by `MixedWorker`) overrides a method of `threading.Thread`",
        ],
    );
}

/// A base outside the project and outside the stdlib (here a `vendor` package excluded
/// from the run): awaitify does not know which methods it calls, so none converts; a rule
/// that declares the base async-aware lets them convert.
const VENDOR_BASE: &str = r#"#- vendor/__init__.py
#- vendor/lib.py
import asyncio
import inspect


class Base:
    def go(self):
        return f"{self.name()}: {self.handle()}"


class AsyncBase:
    def go(self):
        return asyncio.run(self._drive())

    async def _drive(self):
        result = self.handle()
        if inspect.isawaitable(result):
            result = await result
        return result
#- aware.toml
id = "vendor-async-base"
summary = "vendor.lib.AsyncBase awaits handle()"

[[async-aware-base]]
name = "vendor.lib.AsyncBase"
#- app.py
import time

from vendor import lib
from vendor.lib import AsyncBase as Aware


class Job(lib.Base):
    def name(self):
        return "job"

    def handle(self):
        time.sleep(0)
        return "done"


class AwareJob(Aware):
    def handle(self):
        time.sleep(0)
        return "awaited"


def main():
    print(Job().go())
    print(AwareJob().go())


if __name__ == "__main__":
    main()
"#;

#[test]
fn overrides_of_unknown_bases_stay_sync_unless_a_rule_says_the_base_awaits() {
    let opts = |rules: bool| {
        let mut args = vec!["--exclude", "vendor"];
        if rules {
            args.extend(["--rules", "after/aware.toml"]);
        }
        Equiv {
            args: args.into_iter().map(String::from).collect(),
            ..Default::default()
        }
    };
    // Without the rule nothing converts, and every method of both classes is reported.
    let tree = assert_equivalent(
        VENDOR_BASE,
        &["app.py"],
        Equiv {
            expect_unchanged: true,
            ..opts(false)
        },
    );
    assert!(tree["app.py"].contains("    def handle(self):\n        time.sleep(0)"));
    let diags = diagnostics(VENDOR_BASE, &Catalog::builtin().unwrap()).join("\n");
    assert_has(
        &diags,
        &[
            "app.py:11:1: external-base `handle` stays sync and keeps its blocking calls: `Job.handle` is a method of a class whose base `vendor.lib.Base` is outside the project",
            "app.py:17:1: external-base `handle` stays sync",
        ],
    );
    let tree = assert_equivalent(VENDOR_BASE, &["app.py"], opts(true));
    let app = &tree["app.py"];
    assert_has(
        app,
        &[
            "class Job(lib.Base):\n    def name(self):\n        return \"job\"\n\n    def handle(self):\n        time.sleep(0)",
            "class AwareJob(Aware):\n    async def handle(self):\n        await asyncio.sleep(0)",
        ],
    );
}

/// Decorators that are not the project's own: a registry (`app.route` on a module-level
/// object), `functools.singledispatch`, `atexit.register` call the function without await.
/// `staticmethod`, `contextlib.contextmanager` and `functools.wraps` are known to work on
/// an `async def`.
const EXTERNAL_DECORATORS: &str = r#"import atexit
import contextlib
import functools
import time

EVENTS = []


class App:
    def __init__(self):
        self.routes = {}

    def route(self, path):
        def register(fn):
            self.routes[path] = fn
            return fn

        return register


app = App()


@app.route("/page")
def page():
    time.sleep(0)
    return "page"


@functools.singledispatch
def show(x):
    time.sleep(0)
    return f"object {x}"


@show.register
def _(x: int):
    return f"int {x}"


@atexit.register
def goodbye():
    time.sleep(0)
    print("bye")


@contextlib.contextmanager
def step(name):
    time.sleep(0)
    EVENTS.append(f"enter {name}")
    yield name
    EVENTS.append(f"exit {name}")


class Store:
    @staticmethod
    def load():
        time.sleep(0)
        return "loaded"


def main():
    print(app.routes["/page"]())
    print(show("a"), show(1))
    with step("s") as s:
        print(s)
    print(EVENTS, Store.load())


if __name__ == "__main__":
    main()
"#;

#[test]
fn functions_under_decorators_from_outside_stay_sync() {
    let tree = assert_equivalent(EXTERNAL_DECORATORS, &["main.py"], Equiv::default());
    let out = &tree["main.py"];
    assert_has(
        out,
        &[
            "@app.route(\"/page\")\ndef page():\n    time.sleep(0)",
            "@functools.singledispatch\ndef show(x):\n    time.sleep(0)",
            "@atexit.register\ndef goodbye():\n    time.sleep(0)",
            "@contextlib.asynccontextmanager\nasync def step(name):",
            "    @staticmethod\n    async def load():",
            "    async with step(\"s\") as s:",
        ],
    );
    let diags = diagnostics(EXTERNAL_DECORATORS, &Catalog::builtin().unwrap()).join("\n");
    assert_has(
        &diags,
        &[
            "main.py:24:1: external-decorator `page` stays sync and keeps its blocking calls: `page` is decorated with `@app.route`, which is not known to await it",
            "main.py:30:1: external-decorator `show` stays sync and keeps its blocking calls: `show` is decorated with `@functools.singledispatch`",
            "main.py:41:1: external-decorator `goodbye` stays sync",
        ],
    );
}

/// Project decorators: a wrapper serving a function that stays sync cannot await the one
/// that would turn async (the retry would stop retrying), a decorator that registers the
/// function hands it to code awaitify does not follow; a decorator that only marks the
/// function, and a retry decorator whose functions all turn async, convert (its
/// `time.sleep` becomes `await asyncio.sleep`).
const PROJECT_DECORATORS: &str = r#"import functools
import time

HANDLERS = []


def retry(times):
    def decorate(fn):
        @functools.wraps(fn)
        def attempt(*args):
            for i in range(times):
                try:
                    return fn(*args)
                except ValueError:
                    time.sleep(0)
            raise RuntimeError("gave up")

        return attempt

    return decorate


def patient(fn):
    def again(state):
        try:
            return fn(state)
        except ValueError:
            time.sleep(0)
            return fn(state)

    return again


def handler(fn):
    HANDLERS.append(fn)
    return fn


def tagged(fn):
    fn.tag = "t"
    return fn


@retry(3)
def flaky(state):
    state.append(1)
    if len(state) < 2:
        raise ValueError
    return len(state)


@retry(3)
def slow_flaky(state):
    time.sleep(0)
    state.append(1)
    if len(state) < 3:
        raise ValueError
    return len(state)


@patient
def fetch(state):
    time.sleep(0)
    state.append(1)
    if len(state) < 2:
        raise ValueError
    return "fetched"


@handler
def on_event():
    time.sleep(0)
    return "handled"


@tagged
def marked():
    time.sleep(0)
    return "marked"


def main():
    print(flaky([]), slow_flaky([]), fetch([]))
    print([h() for h in HANDLERS])
    print(marked(), marked.tag)


if __name__ == "__main__":
    main()
"#;

#[test]
fn project_decorators_change_colour_with_all_their_functions_or_not_at_all() {
    let tree = assert_equivalent(PROJECT_DECORATORS, &["main.py"], Equiv::default());
    let out = &tree["main.py"];
    assert_has(
        out,
        &[
            // `retry` also wraps `flaky`, which stays sync.
            "        def attempt(*args):",
            "@retry(3)\ndef slow_flaky(state):\n    time.sleep(0)",
            // `patient` wraps only `fetch`: the wrapper awaits it, and sleeps without blocking.
            "    async def again(state):\n        try:\n            return await fn(state)\n        except ValueError:\n            await asyncio.sleep(0)\n            return await fn(state)",
            "@patient\nasync def fetch(state):",
            "@handler\ndef on_event():\n    time.sleep(0)",
            "@tagged\nasync def marked():",
            "print(await marked(), marked.tag)",
        ],
    );
    let diags = diagnostics(PROJECT_DECORATORS, &Catalog::builtin().unwrap()).join("\n");
    assert_has(
        &diags,
        &[
            "main.py:9:1: mixed-decorator `attempt` stays sync and keeps its blocking calls: decorator `retry` (main.py:7) also wraps `flaky`, which stays sync",
            "main.py:52:1: mixed-decorator `slow_flaky` stays sync and keeps its blocking calls: decorator `retry` (main.py:7) also wraps `flaky`, which stays sync",
            "main.py:70:1: opaque-decorator `on_event` stays sync and keeps its blocking calls: awaitify cannot follow its decorator `handler` (main.py:34): it uses `fn` as a value (line 35)",
        ],
    );
}

/// `console_scripts` in `setup.cfg` and `setup.py` keep a sync entry point, as
/// `[project.scripts]` does.
#[test]
fn setup_cfg_and_setup_py_console_scripts_keep_a_sync_entry_point() {
    let cli = r#"#- demo/__init__.py
#- demo/cli.py
import time


def greet(name):
    time.sleep(0)
    return f"hello {name}"


def main():
    print(greet("cli"))
    return 0


def other():
    print(greet("other"))
    return 1
"#;
    let cfg = "#- setup.cfg\n[metadata]\nname = demo\n\n[options.entry_points]\nconsole_scripts =\n    demo = demo.cli:main\n";
    let py = "#- setup.py\nfrom setuptools import setup\n\nsetup(\n    name=\"demo\",\n    entry_points={\"console_scripts\": [\"demo-other = demo.cli:other\"]},\n)\n";
    for (spec, func, script) in [
        (format!("{cfg}{cli}"), "main", "main"),
        (format!("{py}{cli}"), "other", "other"),
    ] {
        let command = format!("from demo.cli import {script}; print({script}())");
        let tree = assert_equivalent(&spec, &["-c", &command], Equiv::default());
        let out = &tree["demo/cli.py"];
        assert_has(
            out,
            &[
                &format!("async def {func}_async():"),
                &format!("def {func}(*args, **kwargs):\n"),
                &format!("    return asyncio.run({func}_async(*args, **kwargs))\n"),
            ],
        );
    }
}

/// A `unittest.TestCase` subclass whose tests turn async through a project base class: the
/// base becomes `IsolatedAsyncioTestCase`, even in a module where nothing else changes, or
/// the runner would drop the coroutines and report the failing test as passed.
#[test]
fn an_indirect_test_case_base_converts() {
    let spec = r#"#- testbase.py
import unittest


class Base(unittest.TestCase):
    def helper(self):
        return 2
#- test_svc.py
import time

from testbase import Base


def slow():
    time.sleep(0)
    return 1


class SvcTest(Base):
    def test_slow(self):
        self.assertEqual(slow(), 1)

    def test_fail(self):
        self.assertEqual(slow() + self.helper(), 4)
"#;
    let tree = assert_equivalent(
        spec,
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        Equiv {
            compare_last_line: true,
            exit_code: 1,
            ..Default::default()
        },
    );
    assert_has(
        &tree["testbase.py"],
        &["class Base(unittest.IsolatedAsyncioTestCase):"],
    );
    assert_has(&tree["test_svc.py"], &["    async def test_fail(self):"]);
}

/// A project decorator also called directly, or also applied to a class, is not followed.
#[test]
fn a_decorator_used_otherwise_is_not_followed() {
    let spec = r#"import time


def logged(fn):
    def wrapper(*args):
        print("call")
        return fn(*args)

    return wrapper


def noted(fn):
    def wrapper(*args):
        return fn(*args)

    return wrapper


@logged
def fetch():
    time.sleep(0)


@noted
def load():
    time.sleep(0)


@noted
class Thing:
    pass


plain = logged(print)
"#;
    let diags = diagnostics(spec, &Catalog::builtin().unwrap()).join("\n");
    assert_has(
        &diags,
        &[
            "main.py:19:1: opaque-decorator `fetch` stays sync and keeps its blocking calls: awaitify cannot follow its decorator `logged` (main.py:4): it is also called or used as a value (main.py:34)",
            "main.py:24:1: opaque-decorator `load` stays sync and keeps its blocking calls: awaitify cannot follow its decorator `noted` (main.py:12): it also decorates something other than a function",
        ],
    );
}

/// Which decorator shapes awaitify follows: the decorated `job` converts only when the
/// decorator returns the function itself or a wrapper that just calls it.
#[test]
fn decorator_shapes_table() {
    let follows = [
        "def deco(fn):\n    return fn\n",
        "def deco(fn):\n    fn.tag = 1\n    return fn\n",
        "def deco(fn):\n    @functools.wraps(fn)\n    def w(*a, **k):\n        return fn(*a, **k)\n\n    return w\n",
        "def deco(fn):\n    def w(*a):\n        return fn(*a)\n\n    return functools.update_wrapper(w, fn)\n",
        "def deco(fn):\n    def w(*a):\n        w.calls += 1\n        return fn(*a)\n\n    w.calls = 0\n    return w\n",
    ];
    let opaque = [
        (
            "def deco(fn):\n    return functools.partial(fn)\n",
            "it returns something other than its wrapper",
        ),
        (
            "def deco(fn):\n    def w(*a):\n        return fn.__call__(*a)\n\n    return w\n",
            "it returns `w`, which does not call `fn`",
        ),
        (
            "def deco(fn):\n    def w(*a):\n        fn.__call__(*a)\n        return fn(*a)\n\n    return w\n",
            "it uses `fn` as a value",
        ),
        (
            "def deco(fn):\n    def w(*a):\n        return later(fn, *a)\n\n    return w\n",
            "it returns `w`, which does not call `fn`",
        ),
        (
            "def deco(fn):\n    def w(*a):\n        return fn(*a)\n\n    REG.append(w)\n    return w\n",
            "it uses `w` as a value",
        ),
        (
            "def deco(fn):\n    def w(*a):\n        yield fn(*a)\n\n    return w\n",
            "its wrapper `w` is a generator",
        ),
        (
            "def deco(fn):\n    def w(*a):\n        return (lambda: fn(*a))()\n\n    return w\n",
            "where it cannot await it",
        ),
        (
            "def deco(fn):\n    fn()\n    return fn\n",
            "it uses `fn` as a value",
        ),
        (
            "def deco(fn):\n    def w(*a):\n        return fn(*a)\n",
            "it returns nothing",
        ),
    ];
    let program = |deco: &str| {
        format!(
            "import functools\nimport time\n\nREG = []\n\n\ndef later(f, *a):\n    return f(*a)\n\n\n{deco}\n\n@deco\ndef job():\n    time.sleep(0)\n\n\nasync def main():\n    job()\n"
        )
    };
    let cat = Catalog::builtin().unwrap();
    for deco in follows {
        let src = program(deco);
        let m = migrate_texts(&[("main.py", &src)], &cat);
        let out = m.files[0].new.clone().unwrap_or_default();
        assert!(out.contains("async def job():"), "{deco}\n---\n{out}");
    }
    let mut wrong = Vec::new();
    for (deco, why) in opaque {
        let src = program(deco);
        let diags = diagnostics(&src, &cat).join("\n");
        if !(diags.contains("opaque-decorator `job` stays sync") && diags.contains(why)) {
            wrong.push(format!("{deco}\n---\n{diags}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n=====\n"));
}

/// `pytest.fixture` is safe only where its pass rewrites it: in a test module (or
/// conftest). `contextlib.contextmanager` is rewritten however it is imported.
#[test]
fn rewritten_decorators_count_only_where_their_pass_rewrites_them() {
    let spec = r#"#- conftest.py
import time

import pytest


@pytest.fixture
def slow_value():
    time.sleep(0)
    return 1
#- helpers.py
import contextlib as cl
import time

import pytest


@pytest.fixture
def other():
    time.sleep(0)
    return 2


@cl.contextmanager
def step():
    time.sleep(0)
    yield
"#;
    let files = support::parse_fixture(spec).unwrap();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let m = migrate_texts(&refs, &Catalog::builtin().unwrap());
    let conftest = m.files[0].new.clone().unwrap_or_default();
    assert_has(
        &conftest,
        &["@pytest_asyncio.fixture\nasync def slow_value():"],
    );
    let helpers = m.files[1].new.clone().unwrap_or_default();
    assert_has(
        &helpers,
        &[
            "@pytest.fixture\ndef other():",
            "@contextlib.asynccontextmanager\nasync def step():",
        ],
    );
    let diags: Vec<String> = m.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_has(
        &diags.join("\n"),
        &[
            "helpers.py:7:1: external-decorator `other` stays sync and keeps its blocking calls: `other` is decorated with `@pytest.fixture`",
        ],
    );
}
