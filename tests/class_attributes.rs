//! Class attributes assigned in the class body (`_lock = threading.Lock()`) are typed like
//! `self.x = ...` in a method: `Cls._lock`, `cls._lock` and `self._lock` read them. Untyped,
//! a `with Cls._lock:` enters a value of unknown type that may reach any project
//! `__enter__`, which then had to stay sync; and the lock itself was converted while its
//! uses were not (pymongo's `ObjectId._inc_lock`).

mod support;

use support::{has, lacks, reported};

fn equivalent(spec: &str) -> String {
    let tree = support::assert_equivalent(spec, &["main.py"], support::Equiv::default());
    tree["main.py"].clone()
}

/// A class-level lock entered through the class and through `self`, beside a project
/// context manager whose `__enter__` blocks.
const CLASS_LOCK: &str = r#"#- main.py
import threading
import time


class Counter:
    _lock = threading.Lock()
    _n = 0

    def bump(self):
        with Counter._lock:
            Counter._n += 1
            return Counter._n

    def peek(self):
        with self._lock:
            return Counter._n


class Conn:
    def __enter__(self):
        time.sleep(0.01)
        return self

    def __exit__(self, *a):
        return False


def work():
    with Conn():
        c = Counter()
        return c.bump(), c.bump(), c.peek()


def main():
    print(work())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_class_level_lock_is_typed_and_the_project_enter_converts() {
    let out = equivalent(CLASS_LOCK);
    has(
        &out,
        &[
            "    _lock = asyncio.Lock()",
            "        async with Counter._lock:",
            "        async with self._lock:",
            "    async def __aenter__(self):",
        ],
    );
    lacks(&reported(CLASS_LOCK), &["of unknown type"]);
}

/// The lock is also entered in `__init__`, which cannot be a coroutine: it stays a
/// `threading.Lock` with every use of it (converting it made the sync `with` fail).
const LOCK_IN_INIT: &str = r#"#- main.py
import threading
import time


class Ticket:
    _lock = threading.Lock()
    _next = 0

    def __init__(self):
        with Ticket._lock:
            self.number = Ticket._next
            Ticket._next += 1


def issue():
    time.sleep(0.01)
    with Ticket._lock:
        pass
    return Ticket().number


def main():
    print(issue(), issue())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_class_level_lock_also_used_by_sync_code_stays_a_threading_lock() {
    let out = equivalent(LOCK_IN_INIT);
    has(
        &out,
        &[
            "    _lock = threading.Lock()",
            "async def issue():",
            "    with Ticket._lock:",
        ],
    );
    lacks(&out, &["asyncio.Lock", "async with"]);
    has(&reported(LOCK_IN_INIT), &["`threading.Lock` stays"]);
}

/// `Cls.x = other` elsewhere rebinds the attribute: two kinds, so it stays unknown and the
/// project `__enter__` stays sync.
const REBOUND: &str = r#"#- main.py
import threading
import time


class Conn:
    def __enter__(self):
        time.sleep(0.01)
        return self

    def __exit__(self, *a):
        return False


class Guard:
    _lock = threading.Lock()


def swap():
    Guard._lock = Conn()


def work():
    with Guard._lock:
        return 1


def main():
    with Conn():
        print(work())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_class_attribute_rebound_to_another_kind_stays_unknown() {
    // Nothing changes: the lock is kept, and the project `__enter__` with it.
    let equiv = support::Equiv {
        expect_unchanged: true,
        ..Default::default()
    };
    let out = support::assert_equivalent(REBOUND, &["main.py"], equiv)["main.py"].clone();
    lacks(&out, &["async def __aenter__", "async def work"]);
    has(
        &reported(REBOUND),
        &["a `with` enters a value of unknown type"],
    );
    // The lock is kept with its uses: `with Guard._lock:` stays a plain `with`.
    has(&out, &["    _lock = threading.Lock()"]);
    lacks(&out, &["asyncio.Lock"]);
    has(
        &reported(REBOUND),
        &["is stored at line 15 in an attribute that is also given another type"],
    );
}

/// The same with an instance attribute: `self._lock` is rebound by another method, so
/// `with self._lock:` is of unknown type and stays sync; an `asyncio.Lock` there would fail
/// when entered.
const INSTANCE_REBOUND: &str = r#"#- main.py
import threading
import time


class Conn:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


class Guard:
    def __init__(self):
        self._lock = threading.Lock()

    def swap(self):
        self._lock = Conn()

    def work(self):
        with self._lock:
            return 1


def main():
    g = Guard()
    print(g.work())
    time.sleep(0.01)
    print("done")


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_lock_stored_in_an_instance_attribute_of_two_kinds_is_kept() {
    let out = equivalent(INSTANCE_REBOUND);
    has(
        &out,
        &[
            "        self._lock = threading.Lock()",
            "async def main():",
            "    asyncio.run(main())",
        ],
    );
    lacks(&out, &["asyncio.Lock"]);
}
