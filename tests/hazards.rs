//! Before/after and no-change tables for the asyncio hazard passes (issue 5): dangling tasks,
//! swallowed cancellation, coroutines never awaited, deprecated loop APIs, coroutine
//! callbacks, unbounded queues, and `--target-version`.

use awaitify::rules::Catalog;
use awaitify::run::{Migration, migrate_texts, migrate_texts_for};
use awaitify::target::PyVersion;

fn catalog() -> Catalog {
    Catalog::builtin().expect("the built-in catalog is valid")
}

fn output(m: &Migration) -> String {
    let f = &m.files[0];
    f.new.clone().unwrap_or_else(|| f.old.clone())
}

/// The migrated text and `line:code` of each diagnostic.
fn migrate(src: &str) -> (String, Vec<String>) {
    migrate_with(&catalog(), src, PyVersion::default())
}

fn migrate_with(cat: &Catalog, src: &str, target: PyVersion) -> (String, Vec<String>) {
    let m = migrate_texts_for(&[("main.py", src)], cat, target);
    for d in &m.diagnostics {
        assert_ne!(d.code, "internal-error", "{d}");
    }
    let diags = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}", d.line, d.code))
        .collect();
    let out = output(&m);
    // Idempotence: the output is a fixed point.
    let again = output(&migrate_texts_for(&[("main.py", &out)], cat, target));
    assert_eq!(again, out, "second run changed the output");
    (out, diags)
}

fn check(before: &str, after: &str) {
    let (got, _) = migrate(before);
    assert_eq!(got, after, "\n--- before\n{before}");
}

fn no_change(src: &str) {
    let (got, diags) = migrate(src);
    assert_eq!(got, src);
    let hazards: Vec<&String> = diags
        .iter()
        .filter(|d| {
            [
                "dangling-task",
                "never-awaited",
                "coroutine-callback",
                "unbounded-queue",
            ]
            .iter()
            .any(|c| d.ends_with(c))
        })
        .collect();
    assert!(
        hazards.is_empty(),
        "unexpected diagnostics {hazards:?} for\n{src}"
    );
}

// ---- dangling tasks ------------------------------------------------------------------------

#[test]
fn dangling_task_statement_gets_a_reference() {
    check(
        r#"import asyncio

BASE = 1


async def audit(e):
    await asyncio.sleep(0)


async def handle(n):
    if n:
        asyncio.create_task(audit(n))
    return n
"#,
        r#"import asyncio

_background_tasks = set()
BASE = 1


async def audit(e):
    await asyncio.sleep(0)


async def handle(n):
    if n:
        task = asyncio.create_task(audit(n))
        _background_tasks.add(task)
        task.add_done_callback(_background_tasks.discard)
    return n
"#,
    );
}

#[test]
fn dangling_task_keeps_tabs_crlf_and_comments() {
    check(
        "import asyncio\r\n\r\n\r\nasync def main(w):\r\n\tasyncio.ensure_future(\r\n\t\tw(1),\r\n\t)  # go\r\n\tawait asyncio.sleep(0)\r\n",
        "import asyncio\r\n\r\n\r\n_background_tasks = set()\r\n\r\n\r\nasync def main(w):\r\n\ttask = asyncio.ensure_future(\r\n\t\tw(1),\r\n\t)  # go\r\n\t_background_tasks.add(task)\r\n\ttask.add_done_callback(_background_tasks.discard)\r\n\tawait asyncio.sleep(0)\r\n",
    );
}

#[test]
fn dangling_task_name_avoids_existing_names_and_reuses_the_set() {
    check(
        r#"import asyncio
from asyncio import create_task as spawn

_background_tasks = set()


async def main(tasks):
    for task in tasks:
        spawn(task)
    t = asyncio.create_task(tasks[0])
"#,
        r#"import asyncio
from asyncio import create_task as spawn

_background_tasks = set()


async def main(tasks):
    for task in tasks:
        background_task = spawn(task)
        _background_tasks.add(background_task)
        background_task.add_done_callback(_background_tasks.discard)
    t = asyncio.create_task(tasks[0])
    _background_tasks.add(t)
    t.add_done_callback(_background_tasks.discard)
"#,
    );
}

#[test]
fn dangling_task_in_sync_helper_and_on_a_loop() {
    // A sync function that schedules work from inside the loop drops the task just the same.
    check(
        r#"import asyncio


def schedule(coro):
    loop = asyncio.get_running_loop()
    loop.create_task(coro)
"#,
        r#"import asyncio


_background_tasks = set()


def schedule(coro):
    loop = asyncio.get_running_loop()
    task = loop.create_task(coro)
    _background_tasks.add(task)
    task.add_done_callback(_background_tasks.discard)
"#,
    );
}

#[test]
fn dangling_task_sharing_a_line_is_reported() {
    let src = r#"import asyncio


async def main(w):
    if w: asyncio.create_task(w())
    asyncio.create_task(w()); print("x")
"#;
    let (got, diags) = migrate(src);
    assert_eq!(got, src);
    assert_eq!(diags, ["5:dangling-task", "6:dangling-task"]);
}

#[test]
fn dangling_task_no_change_table() {
    for src in [
        // Awaited later.
        "import asyncio\n\n\nasync def f(w):\n    t = asyncio.create_task(w())\n    await t\n",
        // Stored in a list, in a dict, on self.
        "import asyncio\n\n\nasync def f(w, xs):\n    xs.append(asyncio.create_task(w()))\n    d = {1: asyncio.create_task(w())}\n    return d\n",
        "import asyncio\n\n\nclass C:\n    async def f(self, w):\n        self.t = asyncio.create_task(w())\n",
        // Returned, passed to gather, awaited directly.
        "import asyncio\n\n\nasync def f(w):\n    return asyncio.create_task(w())\n",
        "import asyncio\n\n\nasync def f(w):\n    await asyncio.gather(asyncio.create_task(w()), asyncio.ensure_future(w()))\n",
        "import asyncio\n\n\nasync def f(w):\n    await asyncio.create_task(w())\n",
        // Used by a nested function.
        "import asyncio\n\n\nasync def f(w):\n    t = asyncio.create_task(w())\n\n    def g():\n        return t\n\n    return g\n",
        // Not asyncio's create_task.
        "def create_task(x):\n    return x\n\n\nasync def f(w):\n    create_task(w)\n",
        "import asyncio\n\n\nasync def f(tg, w):\n    tg.create_task(w())\n",
        // Module level: no loop is running there.
        "import asyncio\n\nasyncio.ensure_future\n",
    ] {
        no_change(src);
    }
}

// ---- cancellation --------------------------------------------------------------------------

#[test]
fn bare_except_in_coroutine_reraises_cancellation() {
    check(
        r#"import asyncio


async def fetch(n):
    await asyncio.sleep(0)
    return n


async def main():
    try:
        r = await fetch(1)
    except ValueError:
        r = 0
    except:
        r = None
    return r
"#,
        r#"import asyncio


async def fetch(n):
    await asyncio.sleep(0)
    return n


async def main():
    try:
        r = await fetch(1)
    except ValueError:
        r = 0
    except asyncio.CancelledError:
        raise
    except:
        r = None
    return r
"#,
    );
}

#[test]
fn base_exception_handler_in_file_indentation_and_import_added() {
    // Two-space indentation, and a function that becomes async because it sleeps.
    check(
        "import time\n\n\ndef work():\n  while True:\n    try:\n      time.sleep(1)\n    except (KeyError, BaseException) as e:\n      print(e)\n",
        "import asyncio\n\n\nasync def work():\n  while True:\n    try:\n      await asyncio.sleep(1)\n    except asyncio.CancelledError:\n      raise\n    except (KeyError, BaseException) as e:\n      print(e)\n",
    );
}

#[test]
fn cancellation_no_change_table() {
    for src in [
        // Sync code cannot be cancelled by asyncio.
        "def f(g):\n    try:\n        g()\n    except:\n        pass\n",
        // No await in the try body: cancellation is delivered only at an await.
        "async def f(g):\n    try:\n        g()\n    except:\n        pass\n",
        // Re-raises.
        "async def f(g):\n    try:\n        await g()\n    except BaseException:\n        print('x')\n        raise\n",
        // Handles CancelledError first (also the output of this pass: idempotence).
        "import asyncio\n\n\nasync def f(g):\n    try:\n        await g()\n    except asyncio.CancelledError:\n        return\n    except:\n        pass\n",
        // except Exception cannot catch CancelledError on any supported version, loop or not.
        "async def f(g):\n    while True:\n        try:\n            await g()\n        except Exception:\n            continue\n",
        // The await is in a nested function, not in the try body.
        "async def f(g):\n    try:\n        async def h():\n            await g()\n    except:\n        pass\n    return h\n",
        // except* groups are left alone.
        "async def f(g):\n    try:\n        await g()\n    except* BaseException:\n        pass\n",
    ] {
        no_change(src);
    }
    assert!(!awaitify::passes::cancellation::exception_catches_cancelled(PyVersion::Py39));
}

// ---- coroutines never awaited ---------------------------------------------------------------

#[test]
fn project_coroutine_called_without_await_in_async_code() {
    // `call_is_awaited` treats a statement call of an async function as awaited.
    check(
        "async def notify(x):\n    print(x)\n\n\nasync def main():\n    notify(1)\n    y = notify(2)\n    await y\n",
        "async def notify(x):\n    print(x)\n\n\nasync def main():\n    await notify(1)\n    y = notify(2)\n    await y\n",
    );
}

#[test]
fn asyncio_coroutine_without_await() {
    check(
        "import asyncio as aio\nfrom asyncio import sleep\n\n\nasync def main(p):\n    aio.sleep(0.1)\n    sleep(0)\n    aio.wait_for(p, 1)\n",
        "import asyncio as aio\nfrom asyncio import sleep\n\n\nasync def main(p):\n    await aio.sleep(0.1)\n    await sleep(0)\n    await aio.wait_for(p, 1)\n",
    );
}

#[test]
fn never_awaited_in_sync_code_is_reported() {
    let src = r#"import asyncio


async def notify(x):
    print(x)


def tick():
    asyncio.sleep(1)
    notify(2)


if __name__ == "__main__":
    notify(3)
"#;
    let (got, diags) = migrate(src);
    assert_eq!(got, src);
    assert_eq!(
        diags,
        ["9:never-awaited", "10:never-awaited", "14:never-awaited"]
    );
}

#[test]
fn never_awaited_no_change_table() {
    for src in [
        "import asyncio\n\n\nasync def f():\n    await asyncio.sleep(0)\n    c = asyncio.sleep(0)\n    await c\n",
        "import asyncio\n\n\ndef main():\n    asyncio.run(asyncio.sleep(0))\n",
        "import asyncio\n\n\nasync def go():\n    pass\n\n\nif __name__ == '__main__':\n    asyncio.run(go())\n",
        "def sleep(x):\n    return x\n\n\nasync def f():\n    sleep(1)\n",
    ] {
        no_change(src);
    }
}

// ---- deprecated loop API -------------------------------------------------------------------

#[test]
fn get_event_loop_in_coroutines_only() {
    check(
        "import asyncio\nimport time\n\n\ndef setup():\n    return asyncio.get_event_loop()\n\n\ndef step():\n    loop = asyncio.get_event_loop()\n    time.sleep(0)\n    return loop.time()\n",
        "import asyncio\n\n\ndef setup():\n    return asyncio.get_event_loop()\n\n\nasync def step():\n    loop = asyncio.get_running_loop()\n    await asyncio.sleep(0)\n    return loop.time()\n",
    );
}

// ---- coroutine callbacks -------------------------------------------------------------------

#[test]
fn coroutine_callbacks_are_reported() {
    let src = r#"import asyncio
import atexit
import signal


async def refresh():
    print("refresh")


def done(fut):
    print("done")


async def main(fut):
    loop = asyncio.get_running_loop()
    loop.call_soon(refresh)
    loop.call_later(1, refresh)
    fut.add_done_callback(refresh)
    fut.add_done_callback(done)
    signal.signal(signal.SIGTERM, refresh)
    atexit.register(refresh)
    await asyncio.gather(refresh(), asyncio.to_thread(done, fut))
"#;
    let (got, diags) = migrate(src);
    assert_eq!(got, src);
    assert_eq!(
        diags,
        [
            "16:coroutine-callback",
            "17:coroutine-callback",
            "18:coroutine-callback",
            "20:coroutine-callback",
            "21:coroutine-callback",
        ]
    );
}

// ---- unbounded queues ----------------------------------------------------------------------

#[test]
fn unbounded_queue_is_reported_with_a_bound() {
    // The built-in `queue-asyncio` rule produces the asyncio twins.
    let cat = catalog();
    let src = "import queue\n\n\ndef make():\n    a = queue.Queue()\n    b = queue.Queue(maxsize=0)\n    c = queue.Queue(10)\n    d = queue.Queue(maxsize=5)\n    e = queue.LifoQueue()\n    return a, b, c, d, e\n";
    let m = migrate_texts(&[("main.py", src)], &cat);
    let diags: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}", d.line, d.code))
        .collect();
    assert_eq!(
        diags,
        [
            "5:unbounded-queue",
            "6:unbounded-queue",
            "9:unbounded-queue"
        ]
    );
    assert!(
        m.diagnostics[0].message.contains("maxsize=100"),
        "{}",
        m.diagnostics[0]
    );
}

#[test]
fn unbounded_queue_with_builtin_catalog() {
    let (_, diags) =
        migrate("import queue\n\n\ndef make():\n    q = queue.Queue()\n    return q\n");
    assert_eq!(
        diags
            .iter()
            .filter(|d| d.ends_with("unbounded-queue"))
            .collect::<Vec<_>>(),
        ["5:unbounded-queue"],
        "{diags:?}"
    );
}

// ---- --target-version ----------------------------------------------------------------------

const NEXT_OF_GENERATOR: &str = "import time\n\n\ndef ticks():\n    time.sleep(0)\n    yield 1\n\n\ndef first():\n    return next(ticks())\n";

#[test]
fn anext_only_from_310() {
    let cat = catalog();
    let (new, _) = migrate_with(&cat, NEXT_OF_GENERATOR, PyVersion::Py310);
    assert!(new.contains("return await anext(ticks())"), "{new}");
    let (old, _) = migrate_with(&cat, NEXT_OF_GENERATOR, PyVersion::Py39);
    assert!(old.contains("return await ticks().__anext__()"), "{old}");
    assert!(!old.contains("anext("), "{old}");
}

// ---- interplay with families that are not merged yet ---------------------------------------

#[test]
fn half_async_program_with_a_blocking_family() {
    // The requests family is the blocking family here, as in acceptance case 15.
    let cat = catalog();
    let src = r#"import asyncio
import time

import requests


async def audit(event):
    await asyncio.sleep(0)


def lookup(n):
    return requests.get(f"/items/{n}").json()


async def handle(n):
    time.sleep(0.01)
    name = lookup(n)
    asyncio.create_task(audit(n))
    try:
        r = requests.get("/echo")
    except:
        r = None
    return name, r
"#;
    let (got, diags) = migrate_with(&cat, src, PyVersion::Py311);
    assert_eq!(
        got,
        r#"import asyncio

import httpx


_background_tasks = set()


async def audit(event):
    await asyncio.sleep(0)


async def lookup(n):
    async with httpx.AsyncClient(follow_redirects=True, timeout=None) as client:
        return (await client.get(f"/items/{n}")).json()


async def handle(n):
    await asyncio.sleep(0.01)
    name = await lookup(n)
    task = asyncio.create_task(audit(n))
    _background_tasks.add(task)
    task.add_done_callback(_background_tasks.discard)
    async with httpx.AsyncClient(follow_redirects=True, timeout=None) as client:
        try:
            r = await client.get("/echo")
        except asyncio.CancelledError:
            raise
        except:
            r = None
    return name, r
"#
    );
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn function_that_would_become_async_passed_as_callback_stays_sync() {
    let src = r#"import asyncio
import time


def tick():
    time.sleep(0.01)


async def main():
    asyncio.get_running_loop().call_soon(tick)
"#;
    let (got, diags) = migrate(src);
    assert_eq!(got, src);
    // `call_soon` runs `tick` on the loop's thread: its sleep blocks the loop.
    assert_eq!(
        diags,
        [
            "6:blocking-call-kept",
            "10:blocking-sync-call",
            "10:sync-boundary"
        ]
    );
}

/// A stand-in for a family whose output is a task (`threading.Thread(...).start()` becomes
/// `asyncio.create_task(...)`): the dropped task it produces is kept in the same run.
const STAND_IN_SPAWN_RULE: &str = r#"
id = "stand-in-spawn"
summary = "test stand-in for a family that produces tasks"
[[call]]
name = "gevent.spawn"
action = "replace"
replace = "asyncio.create_task"
[[example]]
before = ""
after = ""
"#;

#[test]
fn dangling_task_produced_by_another_pass() {
    let mut cat = catalog();
    cat.add_toml("stand-in.toml", STAND_IN_SPAWN_RULE).unwrap();
    let src = "import gevent\n\n\nasync def main(work):\n    gevent.spawn(work())\n    g = gevent.spawn(work())\n    h = gevent.spawn(work())\n    await h\n";
    let (got, diags) = migrate_with(&cat, src, PyVersion::Py311);
    assert_eq!(
        got,
        "import asyncio\n\n\n_background_tasks = set()\n\n\nasync def main(work):\n    task = asyncio.create_task(work())\n    _background_tasks.add(task)\n    task.add_done_callback(_background_tasks.discard)\n    g = asyncio.create_task(work())\n    _background_tasks.add(g)\n    g.add_done_callback(_background_tasks.discard)\n    h = asyncio.create_task(work())\n    await h\n"
    );
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn started_thread_that_is_never_joined_becomes_an_owned_task() {
    // The threads family turns a thread into `asyncio.create_task(...)`; a daemon that was
    // never joined is a dropped task, kept alive in the same run (and a second run is a
    // no-op). A non-daemon one stays a thread (tests/threads.rs).
    let (got, _) = migrate(
        "import threading\nimport time\n\n\ndef work(n):\n    time.sleep(0.01)\n\n\ndef main():\n    threading.Thread(target=work, args=(1,), daemon=True).start()\n    t = threading.Thread(target=work, args=(2,), daemon=True)\n    t.start()\n    u = threading.Thread(target=work, args=(3,))\n    u.start()\n    u.join()\n",
    );
    assert!(
        got.contains(
            "    task = asyncio.create_task(work(1))\n    _background_tasks.add(task)\n    task.add_done_callback(_background_tasks.discard)\n    t = asyncio.create_task(work(2))\n    _background_tasks.add(t)\n    t.add_done_callback(_background_tasks.discard)\n    u = asyncio.create_task(work(3))\n    await u\n"
        ),
        "{got}"
    );
}
