//! A user rule that replaces a creation (`[[call]] replace` with `returns`) and converts its
//! type's uses (`[[with]] async = true`) makes an object as the catalog's locks and
//! connections are: it converts with all of its uses or is kept. Found on pymongo, whose
//! `_create_lock()` became `_async_create_lock()` while a `with self._lock:` in a function
//! that stays sync, or over `lock if c else nullcontext()`, stayed a plain `with`.

mod support;

const LOCKS: &str = r#"#- pyproject.toml
[project]
name = "demo"

[tool.awaitify]
rules = ["rules.toml"]
exclude = ["locks.py"]
KEEP_SYNC
#- rules.toml
id = "locks-twin"
summary = "locks.make_lock has an async twin"
example = [{ before = "", after = "" }]

[[call]]
name = "locks.make_lock"
action = "replace"
replace = "locks.make_async_lock"
returns = "locks.Lock"

[[with]]
type = "locks.Lock"
async = true
#- locks.py
import asyncio


class SyncLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def make_lock():
    return SyncLock()


def make_async_lock():
    return asyncio.Lock()
"#;

const PEEK: &str = r#"#- main.py
import time

from locks import make_lock


class Box:
    def __init__(self):
        self._lock = make_lock()
        self.n = 0

    def bump(self):
        with self._lock:
            time.sleep(0)
            self.n += 1

    def peek(self):
        with self._lock:
            return self.n


def main():
    b = Box()
    b.bump()
    print(b.peek())


if __name__ == "__main__":
    main()
"#;

fn project(keep_sync: &str, main: &str) -> String {
    LOCKS.replace("KEEP_SYNC", keep_sync) + main
}

#[test]
fn a_replaced_lock_converts_with_all_of_its_withs() {
    let spec = project("", PEEK);
    let tree = support::assert_equivalent(&spec, &["main.py"], support::Equiv::default());
    support::has(
        &tree["main.py"],
        &[
            "self._lock = locks.make_async_lock()",
            "async def peek(self):\n        async with self._lock:",
        ],
    );
}

#[test]
fn a_replaced_lock_entered_in_a_pinned_function_is_kept() {
    let spec = project("keep-sync = [\"main.Box.peek\"]", PEEK);
    let tree = support::assert_equivalent(&spec, &["main.py"], support::Equiv::default());
    support::has(
        &tree["main.py"],
        &[
            "self._lock = make_lock()",
            "async def bump(self):\n        with self._lock:",
        ],
    );
    support::lacks(&tree["main.py"], &["make_async_lock", "async with"]);
}

/// `PEEK` with a `peek` that enters the lock or a `nullcontext()`, chosen by its argument.
fn guard() -> String {
    let replaced = [
        ("import time\n", "import contextlib\nimport time\n"),
        (
            "    def peek(self):\n        with self._lock:\n            return self.n\n",
            "    def peek(self, locked):\n        guard = self._lock if locked else contextlib.nullcontext()\n        with guard:\n            time.sleep(0)\n            return self.n\n",
        ),
        (
            "    print(b.peek())",
            "    print(b.peek(True), b.peek(False))",
        ),
    ];
    replaced.iter().fold(PEEK.to_string(), |spec, (from, to)| {
        assert!(spec.contains(from), "{from:?}");
        spec.replacen(from, to, 1)
    })
}

#[test]
fn a_replaced_lock_read_into_a_conditional_expression_is_kept() {
    let spec = project("", &guard());
    let tree = support::assert_equivalent(&spec, &["main.py"], support::Equiv::default());
    support::has(&tree["main.py"], &["self._lock = make_lock()"]);
    support::lacks(&tree["main.py"], &["make_async_lock", "async with"]);
}

#[test]
fn a_threading_lock_read_into_a_conditional_expression_is_kept() {
    let spec = guard()
        .replace("from locks import make_lock", "import threading")
        .replace("make_lock()", "threading.Lock()");
    let out = support::fixture_after(&spec);
    support::has(&out, &["self._lock = threading.Lock()", "async def peek"]);
    support::lacks(&out, &["asyncio.Lock", "async with"]);
    support::has(
        &support::reported(&spec),
        &["into a value that may also be another object"],
    );
    support::assert_equivalent(&spec, &["main.py"], support::Equiv::default());
}

#[test]
fn a_lock_chosen_between_two_locks_still_converts() {
    let spec = r#"#- main.py
import threading
import time

A = threading.Lock()
B = threading.Lock()


def work(first):
    lock = A if first else B
    with lock:
        time.sleep(0)
        return first


def main():
    print(work(True), work(False))


if __name__ == "__main__":
    main()
"#;
    let out = support::fixture_after(spec);
    support::has(&out, &["A = asyncio.Lock()", "    async with lock:"]);
    support::assert_equivalent(spec, &["main.py"], support::Equiv::default());
}
