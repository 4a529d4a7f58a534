//! Families convert an object together with all of its uses, or keep it as it is: programs
//! run before and after the migration, and the reports that say which objects stay.

mod support;

use support::{Equiv, assert_equivalent};

/// Migrates a one-file project: (new text, diagnostics as `line:col code`).
use support::migrate_main as migrate;

/// Case 1: a session made in `__init__` stays requests, with all of its uses; the methods
/// that use it are not coloured for it, and the module's other requests call still converts.
/// The `except requests.ConnectionError` follows the converted call.
const SESSION_IN_INIT: &str = r#"import os
import time

import requests

BASE = os.environ["TEST_SERVER"]


class Api:
    def __init__(self):
        self.session = requests.Session()
        self.session.headers["X-One"] = "1"

    def fetch(self, path):
        r = self.session.get(BASE + path)
        return r.status_code, r.reason

    def slow_fetch(self, path):
        time.sleep(0.01)
        return self.fetch(path)

    def close(self):
        self.session.close()


def main():
    api = Api()
    print(api.slow_fetch("/text"))
    print(api.fetch("/headers"))
    try:
        requests.get("http://127.0.0.1:1/")
    except requests.ConnectionError:
        print("refused")
    api.close()


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_session_made_in_init_stays_requests_with_its_uses() {
    let tree = assert_equivalent(
        SESSION_IN_INIT,
        &["main.py"],
        Equiv {
            server: true,
            ..Equiv::default()
        },
    );
    let main = &tree["main.py"];
    assert!(main.contains("self.session = requests.Session()"), "{main}");
    assert!(main.contains("    def fetch(self, path):"), "{main}");
    assert!(main.contains("return r.status_code, r.reason\n"), "{main}");
    assert!(main.contains("        self.session.close()"), "{main}");
    assert!(main.contains("except httpx.NetworkError:"), "{main}");
    let (_, diags) = migrate(SESSION_IN_INIT);
    assert!(
        diags.contains(&"11:24 requests-session-outside-coroutine".to_string()),
        "{diags:?}"
    );
}

#[test]
fn exception_names_stay_where_no_requests_call_converts() {
    let src = r#"import requests


class Api:
    def __init__(self):
        self.session = requests.Session()

    def get(self, url):
        try:
            return self.session.get(url).status_code
        except requests.ConnectionError:
            return None
"#;
    let (got, diags) = migrate(src);
    assert_eq!(got, src, "{diags:?}");
}

/// Case 3: a queue and an event shared with a thread that stays a thread keep their
/// `threading`/`queue` types; the coroutine's blocking `get` runs in a worker thread and
/// `except queue.Empty` keeps its name. (It used to count 0 items instead of 1000.)
#[test]
fn primitives_shared_with_a_thread_stay_threading() {
    let tree = assert_equivalent(
        r#"import queue
import threading
import time

done = threading.Event()
q = queue.Queue()


def producer(n):
    for i in range(n):
        q.put(i)
    done.set()


def consume():
    n = 0
    time.sleep(0.001)
    while not (done.is_set() and q.empty()):
        try:
            q.get(timeout=0.1)
            n += 1
        except queue.Empty:
            pass
    return n


def main():
    t = threading.Thread(target=lambda: producer(1000))
    t.start()
    print(consume())
    t.join()


if __name__ == "__main__":
    main()
"#,
        &["main.py"],
        Equiv::default(),
    );
    let main = &tree["main.py"];
    assert!(main.contains("done = threading.Event()"), "{main}");
    assert!(main.contains("q = queue.Queue()"), "{main}");
    assert!(
        main.contains("await asyncio.to_thread(q.get, timeout=0.1)"),
        "{main}"
    );
    assert!(main.contains("except queue.Empty:"), "{main}");
}

/// `Event.wait(timeout)` returns False on timeout where `asyncio.wait_for` raises: the event
/// stays a `threading.Event` (it used to be written with a `timeout-raises` warning), and the
/// coroutine waits for it in a worker thread, so the task that sets it can run.
#[test]
fn a_timed_event_wait_keeps_the_event_and_waits_in_a_thread() {
    let src = r#"import threading
import time

ready = threading.Event()
lock = threading.Lock()


def worker():
    with lock:
        time.sleep(0.01)
    ready.set()


def main():
    ready.clear()
    t = threading.Thread(target=worker)
    t.start()
    print("ready", ready.wait(timeout=5))
    print("late", ready.wait(timeout=0.01) and not ready.is_set())
    t.join()


if __name__ == "__main__":
    main()
"#;
    let tree = assert_equivalent(src, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(main.contains("ready = threading.Event()"), "{main}");
    assert!(
        main.contains("await asyncio.to_thread(ready.wait, timeout=5)"),
        "{main}"
    );
    let (_, diags) = migrate(src);
    assert!(
        diags.contains(&"4:9 timeout-raises".to_string()),
        "{diags:?}"
    );
}

/// Case 4: a connection made in a sync `__init__` stays sqlite3 and its uses stay sync (they
/// used to be awaited: `TypeError`); the coroutine's calls on it are reported.
#[test]
fn a_connection_made_in_init_stays_sqlite3_with_its_uses() {
    let src = r#"import sqlite3
import time


class Store:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        self.conn.execute("create table t (x)")

    def add(self, x):
        time.sleep(0.001)
        self.conn.execute("insert into t values (?)", (x,))
        self.conn.commit()

    def total(self):
        return self.conn.execute("select sum(x) from t").fetchone()[0]


def main():
    s = Store(":memory:")
    for i in range(5):
        s.add(i)
    print(s.total())


if __name__ == "__main__":
    main()
"#;
    let tree = assert_equivalent(src, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(main.contains("        self.conn.commit()\n"), "{main}");
    assert!(main.contains("    def total(self):"), "{main}");
    let (_, diags) = migrate(src);
    assert_eq!(
        diags,
        [
            "7:21 object-kept",
            "12:9 blocking-call-in-coroutine",
            "13:9 blocking-call-in-coroutine"
        ]
    );
}

/// Case 5: a file that meets sync code stays a sync file: a variable with another, sync
/// branch (it used to read a coroutine), and a file handed to a function awaitify does not
/// follow (`async-value-passed-to-sync-code`, which used to be written anyway). `json.load`
/// of a file that converts becomes `json.loads(await fp.read())`.
#[test]
fn a_file_that_meets_sync_code_stays_sync() {
    let src = r#"import csv
import json
import sys
import time


def load(path):
    time.sleep(0.001)
    with open(path) as fp:
        return json.load(fp)


def load_any(path):
    time.sleep(0.001)
    fp = sys.stdin if path == "-" else open(path)
    data = fp.read()
    fp.close()
    return data


def rows(path):
    time.sleep(0.001)
    with open(path, newline="") as f:
        return list(csv.reader(f))


def main():
    with open("d.json", "w") as f:
        f.write('{"a": 1}')
    with open("d.csv", "w") as f:
        f.write("x,y\n1,2\n")
    print(load("d.json"))
    print(load_any("d.json"))
    print(rows("d.csv"))


if __name__ == "__main__":
    main()
"#;
    let tree = assert_equivalent(src, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(main.contains("json.loads(await fp.read())"), "{main}");
    assert!(
        main.contains("else open(path)\n    data = fp.read()"),
        "{main}"
    );
    assert!(
        main.contains("    with open(path, newline=\"\") as f:"),
        "{main}"
    );
    let (_, diags) = migrate(src);
    assert!(
        diags.contains(&"15:40 object-kept".to_string()),
        "{diags:?}"
    );
    assert!(
        diags.contains(&"23:10 async-value-passed-to-sync-code".to_string()),
        "{diags:?}"
    );
}

/// Case 6: `with helper() as f:` where `helper` returns `open(...)`: the file stays sync (it
/// used to become `async with helper()`, entering a coroutine).
#[test]
fn a_file_returned_by_a_helper_and_entered_stays_sync() {
    let src = r#"import time


def opener(path):
    time.sleep(0.001)
    return open(path)


def main():
    with open("d.txt", "w") as f:
        f.write("hello\n")
    with opener("d.txt") as f:
        print(f.read().strip())


if __name__ == "__main__":
    main()
"#;
    let tree = assert_equivalent(src, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(main.contains("    return open(path)"), "{main}");
    assert!(
        main.contains("    with await opener(\"d.txt\") as f:"),
        "{main}"
    );
}

/// Session features httpx's client would not honour (`mount` of an adapter, `trust_env` set
/// after construction) keep the session requests with all of its uses; nothing else in the
/// program converts, so it stays byte-identical and runs the same.
#[test]
fn session_features_without_an_httpx_form_keep_the_session() {
    let src = r#"import os

import requests
from requests.adapters import HTTPAdapter

BASE = os.environ["TEST_SERVER"]


def fetch_all(paths):
    with requests.Session() as s:
        s.mount("http://", HTTPAdapter(max_retries=2))
        return [s.get(BASE + p).status_code for p in paths]


def fetch_plain(paths):
    s = requests.Session()
    s.trust_env = False
    out = [s.get(BASE + p).status_code for p in paths]
    s.close()
    return out


def main():
    print(fetch_all(["/text", "/json"]))
    print(fetch_plain(["/text"]))


if __name__ == "__main__":
    main()
"#;
    assert_equivalent(
        src,
        &["main.py"],
        Equiv {
            server: true,
            expect_unchanged: true,
            ..Equiv::default()
        },
    );
    let (_, diags) = migrate(src);
    assert_eq!(diags, ["10:10 object-kept", "16:9 object-kept"]);
}

/// Case 2: a requests call that stays sync (its function is pinned by `lru_cache`) keeps its
/// response's names (`reason`, `iter_content`), its auth class and the module's exception
/// names; a constructed exception without its message keeps requests' class. They used to be
/// renamed to httpx's while the call stayed requests'.
#[test]
fn names_follow_only_converted_calls() {
    let src = r#"import functools
import os
import time

import requests
from requests.auth import HTTPBasicAuth

BASE = os.environ["TEST_SERVER"]


@functools.lru_cache
def status(path):
    r = requests.get(BASE + path, auth=HTTPBasicAuth("u", "p"))
    size = sum(len(c) for c in r.iter_content(4))
    return r.status_code, r.reason, size


def fail():
    raise requests.TooManyRedirects()


def main():
    time.sleep(0.001)
    print(status("/text"))
    try:
        fail()
    except requests.TooManyRedirects:
        print("too many")
    try:
        status("/status/500")
        requests.get("http://127.0.0.1:1/")
    except requests.ConnectionError:
        print("refused")


if __name__ == "__main__":
    main()
"#;
    let tree = assert_equivalent(
        src,
        &["main.py"],
        Equiv {
            server: true,
            ..Equiv::default()
        },
    );
    let main = &tree["main.py"];
    assert!(main.contains("auth=HTTPBasicAuth(\"u\", \"p\")"), "{main}");
    assert!(main.contains("r.iter_content(4)"), "{main}");
    assert!(main.contains("r.status_code, r.reason, size"), "{main}");
    assert!(main.contains("raise requests.TooManyRedirects()"), "{main}");
}

/// Case 8: code a thread runs that depends on thread identity (a `threading.local()`, a
/// set keyed by `get_ident()`) stays in a thread: as tasks on the loop's one thread, the four
/// workers wrote one value and counted one thread (the old output printed `[3]` and `1`).
/// The threads stay threads (a pool thread of `asyncio.to_thread` may be reused).
#[test]
fn thread_identity_keeps_the_threads_code_in_threads() {
    let src = r#"import threading
import time

state = threading.local()
seen = set()
idents = set()
lock = threading.Lock()


def remember(n):
    state.n = n
    time.sleep(0.01)
    with lock:
        # Thread names, not idents: an ident may be reused once a thread has ended.
        seen.add((threading.current_thread().name, state.n))
        idents.add(threading.get_ident())


def worker(n):
    time.sleep(0.001)
    remember(n)
    return state.n


def main():
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("values kept apart:", sorted(n for _, n in seen))
    print("threads:", len({name for name, _ in seen}))
    time.sleep(0.01)


if __name__ == "__main__":
    main()
"#;
    let tree = assert_equivalent(src, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(
        main.contains("def worker(n):\n    time.sleep(0.001)\n"),
        "{main}"
    );
    // Real threads: a pool thread of `asyncio.to_thread` may run two workers in turn.
    assert!(
        main.contains("threading.Thread(target=worker, args=(i,)) for i in range(4)"),
        "{main}"
    );
    let (_, diags) = migrate(src);
    assert!(
        !diags.iter().any(|d| d.ends_with("blocking-sync-call")),
        "the workers run in threads, off the loop: {diags:?}"
    );
}

/// A kept object whose type reaches another module through a method's return: that module
/// is matched again in a later round of the fixed point (after the syntax of the first
/// analysis was dropped), and its uses stay sync.
#[test]
fn a_kept_object_is_followed_across_modules() {
    let spec = r#"#- store.py
import sqlite3


class Store:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        self.conn.execute("create table t (x)")

    def connection(self):
        return self.conn
#- main.py
import time

from store import Store


def add(s, x):
    time.sleep(0.001)
    conn = s.connection()
    conn.execute("insert into t values (?)", (x,))
    conn.commit()


def main():
    s = Store(":memory:")
    add(s, 2)
    add(s, 3)
    print(s.connection().execute("select sum(x) from t").fetchone()[0])


if __name__ == "__main__":
    main()
"#;
    let tree = assert_equivalent(spec, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(main.contains("    conn.commit()\n"), "{main}");
}

/// A file used by a function that stays sync (here by `--keep-sync`) through a parameter
/// keeps the files passed there, and only those: another file of the project still converts.
#[test]
fn a_file_reaching_a_sync_parameter_keeps_only_the_files_passed_there() {
    let spec = r#"#- util.py
def first_line(fp):
    return fp.readline().strip()
#- main.py
import time

from util import first_line


def head(path):
    time.sleep(0.001)
    with open(path) as f:
        return first_line(f)


def log(path, text):
    time.sleep(0.001)
    with open(path, "w") as out:
        out.write(text)


def main():
    log("a.txt", "one\ntwo\n")
    print(head("a.txt"))


if __name__ == "__main__":
    main()
"#;
    let tree = assert_equivalent(
        spec,
        &["main.py"],
        Equiv {
            args: vec!["--keep-sync".into(), "first_line".into()],
            ..Equiv::default()
        },
    );
    let main = &tree["main.py"];
    assert!(main.contains("    with open(path) as f:"), "{main}");
    assert!(
        main.contains("async with aiofiles.open(path, \"w\") as out:"),
        "{main}"
    );
}
