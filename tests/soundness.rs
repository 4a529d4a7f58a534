//! Sound colouring (issue 12): a function turns async only when every reference to it is
//! known and updated. Each class of reference has a program run before and after the
//! migration with the same output, and a test of what is reported where it must stay sync.

mod support;

use support::fixture_after as after;
use support::migrate_fixture as migrate;

fn diagnostics(spec: &str) -> Vec<String> {
    migrate(spec)
        .diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect()
}

#[track_caller]
fn has(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(haystack.contains(n), "missing {n:?} in:\n{haystack}");
    }
}

/// The diagnostics joined, one a line, for `has`.
fn reported(spec: &str) -> String {
    diagnostics(spec).join("\n")
}

fn equivalent(spec: &str) {
    support::assert_equivalent(spec, &["main.py"], support::Equiv::default());
}

// ---- function-local imports -------------------------------------------------------------

const LOCAL_IMPORTS: &str = r#"#- app/__init__.py
#- app/store.py
import time


def read_config():
    time.sleep(0.01)
    return {"k": 1}
#- main.py
def load():
    from app.store import read_config
    return read_config()


def load_module():
    import app.store
    return app.store.read_config()


def load_alias():
    from app import store as s
    return s.read_config()


def main():
    print(load(), load_module(), load_alias())


if __name__ == "__main__":
    main()
"#;

#[test]
fn function_local_imports_resolve_like_module_level_ones() {
    let out = after(LOCAL_IMPORTS);
    has(
        &out,
        &[
            "    return await read_config()",
            "    return await app.store.read_config()",
            "    return await s.read_config()",
            "print(await load(), await load_module(), await load_alias())",
        ],
    );
    equivalent(LOCAL_IMPORTS);
}

#[test]
fn a_local_name_also_assigned_is_not_an_import() {
    // `read_config` is rebound in the function: it is not the import there, so nothing
    // resolves the call and the callee is never coloured behind its back.
    let spec = r#"#- app/__init__.py
#- app/store.py
import time


def read_config():
    time.sleep(0.01)
    return 1
#- main.py
def load(flag):
    from app.store import read_config
    if flag:
        read_config = lambda: 2
    return read_config()
"#;
    let out = after(spec);
    has(&out, &["def load(flag):", "    return read_config()"]);
}

// ---- method calls on receivers of unknown type ------------------------------------------

const UNKNOWN_RECEIVERS: &str = r#"#- main.py
import contextlib
import logging
import time


class Disk:
    def read(self):
        time.sleep(0.01)
        return "disk"

    def __enter__(self):
        time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        return False


class Net:
    def read(self):
        return "net"

    def info(self, msg):
        return msg


class Base:
    def run(self):
        return self.step() + "!"


class Slow(Base):
    def step(self):
        time.sleep(0.01)
        return "slow"


class Box:
    def __init__(self):
        self.log = logging.getLogger("box")

    def use(self, src):
        self.log.info("reading %s", "x".upper())
        return ", ".join([src.read(), "%s" % src.read()])


KINDS = {"d": Disk, "n": Net}


def enter(cm):
    with cm as inside:
        return type(inside).__name__


def tick():
    time.sleep(0.01)
    return "tick"


def main():
    b = Box()
    print(b.use(KINDS["d"]()), b.use(Net()), Disk().read())
    print(enter(Disk()), enter(contextlib.nullcontext()), Slow().run(), tick())


if __name__ == "__main__":
    main()
"#;

#[test]
fn methods_reachable_from_an_unknown_receiver_stay_sync() {
    let out = after(UNKNOWN_RECEIVERS);
    has(
        &out,
        &[
            "    def read(self):\n        time.sleep(0.01)",
            "    def __enter__(self):\n        time.sleep(0.01)",
            "    def step(self):\n        time.sleep(0.01)",
            "async def tick():",
        ],
    );
    let diags = reported(UNKNOWN_RECEIVERS);
    has(
        &diags,
        &[
            "main.py:44:1: sync-boundary `read` stays sync and keeps its blocking calls: `.read()` is called on a value of unknown type at main.py:44, which may reach `Disk.read` without await",
            "main.py:51:1: sync-boundary `__enter__` stays sync and keeps its blocking calls: a `with` enters a value of unknown type at main.py:51, which may reach `Disk.__enter__` without await",
            "main.py:29:1: sync-boundary `step` stays sync and keeps its blocking calls: `.step()` is called on a value of a subclass of `Base` at main.py:29, which may reach `Slow.step` without await",
        ],
    );
    // A logger, a string: not project methods, whatever their names.
    assert!(!diags.contains("Net.info"), "{diags}");
    assert!(!diags.contains("unresolved-call"), "{diags}");
    equivalent(UNKNOWN_RECEIVERS);
}

#[test]
fn a_name_no_project_method_has_needs_nothing() {
    let spec = r#"import time


def load(src):
    time.sleep(0)
    return src.fetch_all()
"#;
    let out = after(spec);
    has(&out, &["async def load(src):"]);
    assert_eq!(reported(spec), "");
}

// ---- small soundness bugs -------------------------------------------------------------

const FSTRING_IMPORT: &str = r#"#- main.py
import shlex
import subprocess


def listing(d):
    out = subprocess.run(f"echo {shlex.quote(d)}", shell=True, capture_output=True, text=True)
    return out.stdout.strip()


def main():
    print(listing("a b; echo c"))


if __name__ == "__main__":
    main()
"#;

#[test]
fn an_import_used_only_in_an_f_string_field_is_kept() {
    has(
        &after(FSTRING_IMPORT),
        &["import shlex\n", "cmd = f\"echo {shlex.quote(d)}\""],
    );
    equivalent(FSTRING_IMPORT);
}

const RETRY_WRAPPER: &str = r#"#- main.py
import functools
import time


def retry(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        for attempt in range(3):
            try:
                return fn(*args)
            except BaseException as exc:
                print("retry", attempt, type(exc).__name__)
        return None
    return wrapper


state = {"n": 0}


@retry
def flaky():
    time.sleep(0.01)
    state["n"] += 1
    if state["n"] < 2:
        raise ValueError("once")
    return state["n"]


def main():
    print(flaky())


if __name__ == "__main__":
    main()
"#;

#[test]
fn the_cancellation_guard_covers_an_awaited_call_of_a_parameter_in_one_run() {
    let out = after(RETRY_WRAPPER);
    has(
        &out,
        &[
            "                return await fn(*args)\n            except asyncio.CancelledError:\n                raise\n            except BaseException as exc:",
        ],
    );
    assert_eq!(after(&out), out, "a second run changed the output");
    equivalent(RETRY_WRAPPER);
}

const PINNED_CHAIN: &str = r#"#- main.py
import time


def fetch():
    time.sleep(0.01)
    return 1


def middle():
    return fetch() + 1


KEY = sorted([3, 1], key=lambda x: middle())
"#;

#[test]
fn a_function_kept_sync_by_its_caller_names_the_call_and_explain_shows_it() {
    has(
        &reported(PINNED_CHAIN),
        &[
            "main.py:5:5: blocking-call-kept blocking call `time.sleep` left in place: `fetch` must stay sync because `middle` calls it at main.py:10 and must stay sync",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    support::write_fixture(dir.path(), PINNED_CHAIN);
    let run = support::run_awaitify(dir.path(), &["--explain", "fetch", "."]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    has(
        &run.stdout,
        &[
            "main.fetch stays sync: main.middle (./main.py:9) calls it at ./main.py:10 and must stay sync\n  main.middle stays sync: `middle` is called from a lambda (./main.py:13)",
        ],
    );
}

// ---- tests: xunit hooks and indirect TestCase bases --------------------------------------

const TEST_BASES: &str = r#"#- store.py
import time


def fetch(n):
    time.sleep(0.01)
    return n * 2


def prepare():
    time.sleep(0.01)
    return 2
#- conftest.py
import time


def pytest_configure(config):
    time.sleep(0.01)
#- base.py
import unittest


class MyBase(unittest.TestCase):
    def setUp(self):
        self.seen = []
#- test_store.py
from base import MyBase
from store import fetch, prepare


class StoreTest(MyBase):
    def test_fetch(self):
        self.assertEqual(fetch(2), 4)
        self.seen.append(1)
        raise AssertionError("the body must run")


class TestHooks:
    def setup_method(self):
        self.v = prepare()

    def test_v(self):
        assert self.v == 2
        assert fetch(3) == 6


def setup_module():
    assert prepare() == 2
"#;

#[test]
fn an_indirect_test_case_base_converts_and_xunit_hooks_stay_sync() {
    let out = after(TEST_BASES);
    has(
        &out,
        &[
            "class MyBase(unittest.IsolatedAsyncioTestCase):",
            "    async def test_fetch(self):",
            "    def setup_method(self):\n        self.v = prepare()",
            "def setup_module():",
        ],
    );
    has(
        &reported(TEST_BASES),
        &[
            "test_store.py:13:1: sync-boundary `setup_method` stays sync and keeps its blocking calls: `setup_method` is a pytest xunit hook, which pytest calls without await",
            "conftest.py:4:1: sync-boundary `pytest_configure` stays sync and keeps its blocking calls: `pytest_configure` is a pytest hook, which pytest calls without await",
        ],
    );
    // The failing test must still run (and fail) after the migration.
    support::assert_equivalent(
        TEST_BASES,
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        support::Equiv {
            compare_last_line: true,
            exit_code: 1,
            ..Default::default()
        },
    );
}

// ---- functions used as values -----------------------------------------------------------

const VALUES: &str = r#"#- main.py
import functools
import time


class Runner:
    def run(self):
        time.sleep(0.01)
        return "ran"

    alias = run

    def _load_a(self):
        time.sleep(0.01)
        return "a"

    def _load_b(self):
        return "b"

    def load(self, kind):
        return getattr(self, "_load_" + kind)()

    def go(self):
        return self.alias()


class Greeter:
    def __call__(self, name):
        time.sleep(0.01)
        return "hi " + name


def later():
    time.sleep(0.01)
    return 1


async def pause():
    nap = functools.partial(time.sleep, 0.01)
    nap()
    return "paused"


def main():
    r = Runner()
    g = Greeter()
    print(r.go(), r.load("a"), r.load("b"), r.run(), g("x"), later())


if __name__ == "__main__":
    main()
"#;

#[test]
fn functions_reached_through_aliases_getattr_and_calls_of_instances() {
    let out = after(VALUES);
    has(
        &out,
        &[
            "    def run(self):\n        time.sleep(0.01)",
            "    def _load_a(self):\n        time.sleep(0.01)",
            // `getattr(...)()` and `nap()` call values of unknown type: any `__call__`.
            "    def __call__(self, name):\n        time.sleep(0.01)",
            "await later()",
        ],
    );
    has(
        &reported(VALUES),
        &[
            "main.py:10:1: sync-boundary `run` stays sync and keeps its blocking calls: `run` is bound to another name in a class body, where awaitify cannot follow its calls",
            "main.py:20:1: sync-boundary `_load_a` stays sync and keeps its blocking calls: `getattr` at main.py:20 reads a name starting with `_load_`, and may return `Runner._load_a` to code that calls it without await",
            "main.py:20:1: sync-boundary `__call__` stays sync and keeps its blocking calls: a call calls a value of unknown type at main.py:20, which may reach `Greeter.__call__` without await",
            "main.py:38:29: blocking-callable-passed the blocking `time.sleep` is passed as a value to `functools.partial` inside a coroutine",
        ],
    );
    equivalent(VALUES);
}

#[test]
fn getattr_with_a_constant_name_pins_only_that_method() {
    let spec = r#"import time


class Store:
    def fetch(self):
        time.sleep(0)
        return 1

    def other(self):
        time.sleep(0)
        return 2


def use(s: Store):
    return getattr(s, "fetch")() + s.other()
"#;
    let out = after(spec);
    has(
        &out,
        &[
            "    def fetch(self):\n        time.sleep(0)",
            "    async def other(self):",
        ],
    );
}

#[test]
fn calling_an_instance_awaits_its_call_method() {
    let spec = r#"#- main.py
import time


class Greeter:
    def __call__(self, name):
        time.sleep(0.01)
        return "hi " + name


def main():
    g = Greeter()
    print(g("x"))


if __name__ == "__main__":
    main()
"#;
    has(
        &after(spec),
        &[
            "    async def __call__(self, name):",
            "    print(await g(\"x\"))",
        ],
    );
    equivalent(spec);
}

#[test]
fn containers_are_not_project_objects_but_draining_an_iterator_calls_it() {
    let spec = r#"#- main.py
import time


class Cache:
    def get(self, key):
        time.sleep(0.01)
        return key


class Countdown:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return self

    def __next__(self):
        if self.n <= 0:
            raise StopIteration
        time.sleep(0.01)
        self.n -= 1
        return self.n


def lookup(c: Cache):
    seen = {}
    names = ["a", 1]
    seen.get("a")
    names.count("a")
    return c.get("k"), list(Countdown(2))


def main():
    print(lookup(Cache()))


if __name__ == "__main__":
    main()
"#;
    let out = after(spec);
    has(
        &out,
        &[
            "    async def get(self, key):",
            "    def __next__(self):\n        if self.n <= 0:",
            "    return await c.get(\"k\"), list(Countdown(2))",
        ],
    );
    has(
        &reported(spec),
        &[
            "main.py:30:1: sync-boundary `__next__` stays sync and keeps its blocking calls: a loop or a consumer (`list`, `sum`...) iterates a value of a subclass of `Countdown` at main.py:30, which may reach `Countdown.__next__` without await",
        ],
    );
    equivalent(spec);
}

#[test]
fn bound_methods_stored_or_passed_on_stay_sync() {
    let spec = r#"#- main.py
import time


def load_a():
    time.sleep(0)
    return "a"


HANDLERS = {"a": load_a}


class Conn:
    def __init__(self, bus):
        self.handler = self.on_data
        bus.subscribe(self.on_close)

    def on_data(self, data):
        time.sleep(0)
        return data

    def on_close(self):
        time.sleep(0)
"#;
    assert_eq!(after(spec), spec);
    has(
        &reported(spec),
        &[
            "main.py:9:1: sync-boundary `load_a` stays sync and keeps its blocking calls: `load_a` is used as a value",
            "main.py:14:1: sync-boundary `on_data` stays sync and keeps its blocking calls: `on_data` is used as a value",
            "main.py:15:1: sync-boundary `on_close` stays sync and keeps its blocking calls: `on_close` is passed as a value to `bus.subscribe`",
        ],
    );
}

#[test]
fn a_function_defined_twice_in_one_scope_stays_sync() {
    let spec = r#"#- main.py
import sys
import time

if sys.platform == "never":
    def wait():
        return "fast"
else:
    def wait():
        time.sleep(0.01)
        return "slow"


def make(slow):
    if slow:
        def step():
            time.sleep(0.01)
            return "slow step"
    else:
        def step():
            return "step"
    return step


def main():
    print(wait(), make(True)(), make(False)())


if __name__ == "__main__":
    main()
"#;
    assert_eq!(after(spec), spec);
    has(
        &reported(spec),
        &[
            "main.py:8:1: sync-boundary `wait` stays sync and keeps its blocking calls: `wait` is defined more than once in its scope (or also bound otherwise), so awaitify cannot tell which definition a call reaches",
            "main.py:15:1: sync-boundary `step` stays sync and keeps its blocking calls: `step` is defined more than once in its scope",
        ],
    );
}
