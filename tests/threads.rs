//! Threads, thread pools, threading primitives and queues: before/after and no-change
//! tables, snapshots, and programs run before and after the migration.

mod support;

use awaitify::rules::Catalog;
use awaitify::run::{Migration, migrate_texts};
use support::{Equiv, assert_equivalent};

fn migrate(files: &[(&str, &str)]) -> Migration {
    migrate_texts(files, &Catalog::builtin().unwrap())
}

fn after(src: &str) -> String {
    let m = migrate(&[("main.py", src)]);
    let f = &m.files[0];
    f.new.clone().unwrap_or_else(|| f.old.clone())
}

fn codes(m: &Migration) -> Vec<String> {
    m.diagnostics
        .iter()
        .map(|d| format!("{}:{} {}", d.line, d.col, d.code))
        .collect()
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

// ---- before/after ------------------------------------------------------------------------

#[test]
fn before_after_table() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "aliased imports resolve",
            "from threading import Thread as T, Event\nimport time as t\n\n\ndef w(ev):\n    ev.wait()\n    t.sleep(0)\n\n\ndef main():\n    ev = Event()\n    th = T(target=w, args=(ev,))\n    th.start()\n    ev.set()\n    th.join()\n",
            "import asyncio\n\n\nasync def w(ev):\n    await ev.wait()\n    await asyncio.sleep(0)\n\n\nasync def main():\n    ev = asyncio.Event()\n    th = asyncio.create_task(w(ev))\n    ev.set()\n    await th\n",
        ),
        (
            "join with a timeout",
            "import threading, time\n\n\ndef w():\n    time.sleep(1)\n\n\ndef main():\n    t = threading.Thread(target=w, daemon=True)\n    t.start()\n    t.join(0.01)\n    return t.is_alive()\n",
            "import asyncio\n\n\nasync def w():\n    await asyncio.sleep(1)\n\n\nasync def main():\n    t = asyncio.create_task(w())\n    await asyncio.wait({t}, timeout=0.01)\n    return not t.done()\n",
        ),
        (
            "positional target, args as a name, kwargs as a name",
            "import threading\nimport time\n\n\ndef w(*a, **k):\n    time.sleep(0)\n\n\ndef main(a, k):\n    t = threading.Thread(None, w, \"n\", a, k)\n    t.start()\n    t.join()\n",
            "import asyncio\n\n\nasync def w(*a, **k):\n    await asyncio.sleep(0)\n\n\nasync def main(a, k):\n    t = asyncio.create_task(w(*a, **k), name=\"n\")\n    await t\n",
        ),
        (
            "a daemon Thread(...).start() is a task kept in the module task set",
            "import threading\nimport time\n\n\ndef w():\n    time.sleep(0)\n\n\ndef main():\n    threading.Thread(target=w, daemon=True).start()\n",
            "import asyncio\n\n\n_background_tasks = set()\n\n\nasync def w():\n    await asyncio.sleep(0)\n\n\nasync def main():\n    task = asyncio.create_task(w())\n    _background_tasks.add(task)\n    task.add_done_callback(_background_tasks.discard)\n",
        ),
        (
            "queue put with block=False and a timed put",
            "import queue\n\nq = queue.LifoQueue(1)\n\n\ndef fill():\n    try:\n        q.put(1, block=False)\n        q.put(2, True, 0.01)\n    except (queue.Full, KeyError):\n        return q.qsize()\n",
            "import asyncio\n\nq = asyncio.LifoQueue(1)\n\n\nasync def fill():\n    try:\n        q.put_nowait(1)\n        await asyncio.wait_for(q.put(2), 0.01)\n    except ((asyncio.QueueFull, asyncio.TimeoutError), KeyError):\n        return q.qsize()\n",
        ),
        (
            // `wait(timeout)` returns False on timeout; `asyncio.wait_for` would raise: the
            // event stays a `threading.Event` (it used to be converted, and raised).
            "timed event wait",
            "import threading\n\nev = threading.Event()\n\n\ndef main():\n    return ev.wait(timeout=0.01)\n",
            "import threading\n\nev = threading.Event()\n\n\ndef main():\n    return ev.wait(timeout=0.01)\n",
        ),
        (
            "pool without a bound, sync function runs in a thread",
            "import time\nfrom concurrent.futures import ThreadPoolExecutor\n\n\ndef sq(n):\n    return n * n\n\n\ndef main(xs):\n    time.sleep(0)\n    with ThreadPoolExecutor() as ex:\n        fut = ex.submit(sq, 3)\n        return list(ex.map(sq, xs, xs)), fut.result(timeout=1)\n",
            "import asyncio\n\n\ndef sq(n):\n    return n * n\n\n\nasync def main(xs):\n    await asyncio.sleep(0)\n    async with asyncio.TaskGroup() as ex:\n        fut = ex.create_task(asyncio.to_thread(sq, 3))\n        return list(await asyncio.gather(*(asyncio.to_thread(sq, *arg) for arg in zip(xs, xs)))), await asyncio.wait_for(asyncio.shield(fut), 1)\n",
        ),
        (
            "a future's result read in a generator expression",
            "import time\nfrom concurrent.futures import ThreadPoolExecutor, as_completed\n\n\ndef sq(n):\n    time.sleep(0)\n    return n * n\n\n\ndef main(xs):\n    with ThreadPoolExecutor() as ex:\n        fs = [ex.submit(sq, x) for x in xs]\n        return sum(f.result() for f in as_completed(fs))\n",
            "import asyncio\n\n\nasync def sq(n):\n    await asyncio.sleep(0)\n    return n * n\n\n\nasync def main(xs):\n    async with asyncio.TaskGroup() as ex:\n        fs = [ex.create_task(sq(x)) for x in xs]\n        return sum([await f for f in asyncio.as_completed(fs)])\n",
        ),
    ];
    let mut failures = Vec::new();
    for (name, before, expected) in cases {
        let got = after(before);
        if got != *expected {
            failures.push(format!("{name}:\n--- expected\n{expected}\n--- got\n{got}"));
        }
        let again = after(expected);
        if again != *expected {
            failures.push(format!("{name}: not idempotent:\n{again}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn no_change_table() {
    let cases: &[(&str, &str)] = &[
        (
            "current_thread, local and a thread of sync code",
            "import threading\n\ndata = threading.local()\n\n\ndef who():\n    return threading.current_thread().name\n\n\ndef main():\n    t = threading.Thread(target=who)\n    t.start()\n    t.join()\n",
        ),
        (
            "`queue` as a local variable name",
            "def drain(queue):\n    out = []\n    while queue:\n        out.append(queue.get())\n    return out\n",
        ),
        (
            "a user class named Queue",
            "class Queue:\n    def get(self, timeout=None):\n        return 1\n\n    def put(self, x):\n        pass\n\n\ndef use():\n    q = Queue()\n    q.put(1)\n    return q.get(timeout=1)\n",
        ),
        (
            "a user class named Queue imported from a project module",
            "from jobs import Queue\n\n\ndef use():\n    q = Queue()\n    return q.get()\n",
        ),
        (
            "RLock is reported, not rewritten",
            "import threading\n\nlock = threading.RLock()\n\n\ndef f():\n    with lock:\n        return 1\n",
        ),
        (
            "an executor with only sync work",
            "from concurrent.futures import ThreadPoolExecutor\n\n\ndef sq(n):\n    return n * n\n\n\ndef main():\n    with ThreadPoolExecutor(max_workers=2) as ex:\n        return list(ex.map(sq, [1, 2]))\n",
        ),
        (
            // Python waits for a non-daemon thread at exit; `asyncio.run` would cancel its task.
            "a thread nothing joins stays a thread, and its target sync",
            "import threading\nimport time\n\n\ndef w():\n    time.sleep(0)\n\n\ndef main():\n    threading.Thread(target=w).start()\n    t = threading.Thread(target=w)\n    t.start()\n",
        ),
        (
            "a thread with a use a task has no counterpart for stays a thread",
            "import threading\nimport time\n\n\ndef w():\n    time.sleep(0)\n\n\ndef main():\n    t = threading.Thread(target=w)\n    t.start()\n    print(t.name)\n    t.join()\n",
        ),
        (
            "a thread returned to the caller stays a thread",
            "import threading\nimport time\n\n\ndef w():\n    time.sleep(0)\n\n\ndef spawn():\n    t = threading.Thread(target=w)\n    t.start()\n    return t\n\n\ndef main():\n    spawn().join()\n",
        ),
        (
            "threads started at module level stay threads",
            "import threading\nimport time\n\n\ndef w():\n    time.sleep(0)\n\n\nt = threading.Thread(target=w)\nt.start()\nt.join()\n",
        ),
    ];
    let mut failures = Vec::new();
    for (name, src) in cases {
        let got = after(src);
        if got != *src {
            failures.push(format!("{name}: changed:\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn rlock_and_shared_primitives_are_reported() {
    let m = migrate(&[(
        "main.py",
        "import threading\nimport time\n\nlock = threading.Lock()\nr = threading.RLock()\n\n\ndef w():\n    with lock:\n        time.sleep(0)\n\n\nt = threading.Thread(target=w)\nt.start()\n",
    )]);
    let codes = codes(&m);
    assert!(
        codes.contains(&"4:8 primitive-kept".to_string()),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"5:5 unconvertible-call".to_string()),
        "{codes:?}"
    );
    assert!(m.files[0].new.is_none());
}

#[test]
fn non_blocking_acquire_is_reported_and_left() {
    let src = "import threading\n\nlock = threading.Lock()\n\n\ndef f():\n    if lock.acquire(blocking=False):\n        lock.release()\n    with lock:\n        return 1\n";
    let m = migrate(&[("main.py", src)]);
    // FIXME: `lock.acquire(blocking=False)` has no asyncio form; the lock still becomes an
    // `asyncio.Lock`, so the call raises at run time. The diagnostic says so.
    assert_eq!(
        m.files[0].new.as_deref().unwrap(),
        "import asyncio\n\nlock = asyncio.Lock()\n\n\nasync def f():\n    if lock.acquire(blocking=False):\n        lock.release()\n    async with lock:\n        return 1\n"
    );
    assert!(codes(&m).contains(&"7:8 unconvertible-call".to_string()));
}

#[test]
fn thread_target_in_another_module_becomes_a_task() {
    let m = migrate(&[
        (
            "main.py",
            "import threading\nfrom pkg.work import job\n\n\ndef main():\n    ts = [threading.Thread(target=job, args=(i,)) for i in range(2)]\n    for t in ts:\n        t.start()\n    for t in ts:\n        t.join()\n",
        ),
        ("pkg/__init__.py", ""),
        (
            "pkg/work.py",
            "import time\n\n\ndef job(i):\n    time.sleep(0.01)\n    print(i)\n",
        ),
    ]);
    let main = m.files.iter().find(|f| f.display == "main.py").unwrap();
    assert_eq!(
        main.new.as_deref().unwrap(),
        "import asyncio\nfrom pkg.work import job\n\n\nasync def main():\n    ts = [asyncio.create_task(job(i)) for i in range(2)]\n    for t in ts:\n        await t\n"
    );
}

// ---- run them ----------------------------------------------------------------------------

const PRODUCER_CONSUMER: &str = r#"
import queue
import threading
import time

jobs = queue.Queue(maxsize=2)
results = queue.PriorityQueue()
lock = threading.Lock()
start = threading.Event()
seen = {"max": 0}


def producer(n):
    start.wait()
    for i in range(n):
        jobs.put(i)
        seen["max"] = max(seen["max"], jobs.qsize())
        time.sleep(0.002)
    for _ in range(2):
        jobs.put(None)


def consumer(name, scale=1):
    handled = 0
    while True:
        try:
            item = jobs.get(timeout=2)
        except queue.Empty:
            print("starved", name)
            return
        if item is None:
            jobs.task_done()
            break
        with lock:
            results.put((item * scale, name))
        handled += 1
        jobs.task_done()
        time.sleep(0.003)


def drain():
    out = []
    while True:
        try:
            out.append(results.get(block=False))
        except queue.Empty:
            return out


def main():
    workers = [threading.Thread(target=producer, args=(8,))]
    for name in ["a", "b"]:
        workers.append(threading.Thread(target=consumer, args=(name,), kwargs={"scale": 10}))
    for w in workers:
        w.start()
    print("bounded:", jobs.maxsize, jobs.full(), jobs.empty())
    start.set()
    for w in workers:
        w.join()
    jobs.join()
    items = [i for i, _ in drain()]
    print("items:", items)
    print("never above bound:", seen["max"] <= 2, "gate:", start.is_set())
    try:
        jobs.get(timeout=0.01)
    except queue.Empty:
        print("empty after timeout")


if __name__ == "__main__":
    main()
"#;

#[test]
fn producer_consumer_runs_the_same() {
    let tree = assert_equivalent(PRODUCER_CONSUMER, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(!main.contains("threading"), "{main}");
    assert!(main.contains("asyncio.Queue(maxsize=2)"), "{main}");
    snapshot("threads-producer-consumer", main);
}

const POOL: &str = r#"
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

running = {"now": 0, "max": 0}


def fetch(n, delay=0.01):
    running["now"] += 1
    running["max"] = max(running["max"], running["now"])
    time.sleep(delay)
    running["now"] -= 1
    return n * 10


def digest(n):
    return sum(range(n))


def run(values):
    with ThreadPoolExecutor(max_workers=2) as pool:
        mapped = list(pool.map(fetch, values))
        futures = [pool.submit(fetch, v, delay=0.005) for v in values]
        cpu = pool.submit(digest, 100)
        total = 0
        for fut in as_completed(futures):
            total += fut.result()
    return mapped, total, cpu.result()


def main():
    mapped, total, cpu = run([1, 2, 3, 4, 5])
    print("mapped:", mapped)
    print("total:", total, "cpu:", cpu)
    print("bounded by max_workers:", running["max"] <= 2)


if __name__ == "__main__":
    main()
"#;

#[test]
fn pool_map_and_submit_run_the_same() {
    let tree = assert_equivalent(POOL, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(!main.contains("ThreadPoolExecutor"), "{main}");
    assert!(main.contains("asyncio.Semaphore(2)"), "{main}");
    snapshot("threads-pool", main);
}

const THREADS: &str = r#"
import threading
import time


class Counter:
    def __init__(self):
        self.hits = []

    def hit(self, tag, times=1):
        for _ in range(times):
            time.sleep(0.001)
            self.hits.append(tag)


def crunch(n, out):
    out.append(sum(i * i for i in range(n)))


def greet(name, punct="!", delay=0.0):
    time.sleep(delay)
    print("hello", name + punct)


def main():
    c = Counter()
    cpu = []
    threads = []
    for i, name in enumerate(["ann", "bob"]):
        t = threading.Thread(target=greet, args=(name,), kwargs={"punct": "?" * (i + 1), "delay": 0.05 * i})
        t.daemon = True
        threads.append(t)
    threads.append(threading.Thread(target=c.hit, args=("x",), kwargs={"times": 3}))
    threads.append(threading.Thread(target=crunch, args=(1000, cpu), name="cpu"))
    for t in threads:
        t.start()
    alive = [t.is_alive() for t in threads]
    for t in threads:
        t.join()
    print("alive before join:", alive.count(True) > 0)
    print("alive after join:", any(t.is_alive() for t in threads))
    print("hits:", c.hits, "cpu:", cpu)


if __name__ == "__main__":
    main()
"#;

#[test]
fn threads_with_args_and_kwargs_run_the_same() {
    let tree = assert_equivalent(THREADS, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(
        main.contains("asyncio.to_thread(crunch, 1000, cpu)"),
        "{main}"
    );
    assert!(
        main.contains("asyncio.create_task(greet(name, punct="),
        "{main}"
    );
    snapshot("threads-args-kwargs", main);
}

const PRIMITIVES: &str = r#"
import threading
import time

sem = threading.BoundedSemaphore(2)
cond = threading.Condition()
barrier = threading.Barrier(3)
state = {"inside": 0, "max": 0, "ready": []}


def limited(i):
    with sem:
        state["inside"] += 1
        state["max"] = max(state["max"], state["inside"])
        time.sleep(0.005)
        state["inside"] -= 1
    barrier.wait()
    with cond:
        state["ready"].append(i)
        cond.notify_all()


def waiter():
    with cond:
        cond.wait_for(lambda: len(state["ready"]) == 3)
    return sorted(state["ready"])


def main():
    ts = [threading.Thread(target=limited, args=(i,)) for i in range(3)]
    for t in ts:
        t.start()
    print("ready:", waiter())
    for t in ts:
        t.join()
    print("max inside:", state["max"], "parties:", barrier.parties)


if __name__ == "__main__":
    main()
"#;

#[test]
fn semaphore_condition_barrier_run_the_same() {
    let tree = assert_equivalent(PRIMITIVES, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(main.contains("await barrier.wait()"), "{main}");
    assert!(main.contains("await cond.wait_for("), "{main}");
}

#[test]
fn sync_only_threads_are_left_alone_and_still_run() {
    let src = r#"
import threading

out = []
lock = threading.Lock()


def add(i):
    with lock:
        out.append(i * i)


threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(out))
"#;
    assert_equivalent(
        src,
        &["main.py"],
        Equiv {
            expect_unchanged: true,
            ..Default::default()
        },
    );
}

#[test]
fn queue_and_lock_shared_from_another_module_run_the_same() {
    let spec = r#"
#- main.py
import threading
import time
from pkg.shared import jobs, lock
from pkg import shared


def producer():
    for i in range(3):
        jobs.put(i)
        time.sleep(0.001)
    shared.jobs.put(None)


def consumer():
    out = []
    while (item := jobs.get()) is not None:
        with lock:
            out.append(item)
    print(out)


def main():
    ts = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


if __name__ == "__main__":
    main()
#- pkg/__init__.py
#- pkg/shared.py
import queue
import threading

jobs = queue.Queue(maxsize=3)
lock = threading.Lock()
"#;
    let tree = assert_equivalent(spec, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(main.contains("await shared.jobs.put(None)"), "{main}");
    assert!(main.contains("async with lock:"), "{main}");
    assert!(tree["pkg/shared.py"].contains("asyncio.Queue(maxsize=3)"));
}

/// Threads that nothing waits for, and threads a task cannot stand in for, stay threads with
/// their targets sync: Python waits for a non-daemon thread at exit where `asyncio.run`
/// cancels a task; a daemon running sync code in `asyncio.to_thread` would keep
/// `asyncio.run` from returning; a thread started from `**kwargs` used to lose its `start()`
/// and have its `join()` awaited. A list of threads converts or stays together.
const THREADS_NOBODY_WAITS_FOR: &str = r#"import threading
import time

STOP = threading.Event()
DONE = threading.Event()
RESULTS = []


def slow(tag):
    DONE.wait()
    print("slow finished after main", tag)


def spin():
    while not STOP.is_set():
        pass


def quick(x):
    time.sleep(0.01)
    RESULTS.append(x)


def main():
    threading.Thread(target=slow, args=(1,)).start()
    threading.Thread(target=spin, daemon=True).start()
    kw = {"target": quick, "args": (2,)}
    t = threading.Thread(**kw)
    t.start()
    time.sleep(0.01)
    t.join()
    pool = [threading.Thread(target=quick, args=(3,))]
    pool.append(threading.Thread(*(None, quick, None, (4,))))
    for p in pool:
        p.start()
    for p in pool:
        p.join()
    print("quick", sorted(RESULTS))
    print("main done")
    DONE.set()
    STOP.set()


if __name__ == "__main__":
    main()
"#;

#[test]
fn threads_nobody_waits_for_stay_threads_and_run_the_same() {
    let tree = assert_equivalent(THREADS_NOBODY_WAITS_FOR, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(
        main.contains("    threading.Thread(target=slow, args=(1,)).start()\n"),
        "{main}"
    );
    assert!(
        main.contains("    threading.Thread(target=spin, daemon=True).start()\n"),
        "{main}"
    );
    assert!(
        main.contains("    t.start()\n    await asyncio.sleep(0.01)\n    t.join()\n"),
        "{main}"
    );
    assert!(
        main.contains("def quick(x):\n    time.sleep(0.01)"),
        "{main}"
    );
    assert!(main.contains("        p.start()\n"), "{main}");
    let m = migrate(&[("main.py", THREADS_NOBODY_WAITS_FOR)]);
    let kept = codes(&m)
        .iter()
        .filter(|c| c.ends_with("thread-kept"))
        .count();
    assert_eq!(kept, 5, "{:?}", codes(&m));
}
