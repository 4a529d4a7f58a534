//! Higher-order colouring: a project function passed to a parameter of another project
//! function that only calls it (a callback). The functions passed at one parameter change
//! colour together; when they become async the parameter's calls are awaited and the
//! function holding them becomes async. A value awaitify cannot follow keeps the group sync,
//! and a parameter used otherwise than called keeps today's pin.
//!
//! Each program runs before and after the migration and must print the same.

mod support;

use support::{has, lacks, reported};

use support::{Equiv, assert_equivalent};

/// Migrates `spec` and runs it before and after: the migrated `main.py`.
#[track_caller]
fn migrated(spec: &str) -> String {
    let tree = assert_equivalent(spec, &["main.py"], Equiv::default());
    lacks(&reported(spec), &["unsound-change-reverted"]);
    tree["main.py"].clone()
}

const RETRY: &str = r#"import time


def slow(i):
    time.sleep(0.01)
    if i < 1:
        raise ValueError(i)
    return f"slow {i}"


def pure(i):
    return f"pure {i}"


def retry(func):
    for i in range(3):
        try:
            return func(i)
        except ValueError:
            print("retrying", i)
    return None


def main():
    print(retry(slow))
    print(retry(pure))


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_retried_callback_and_its_pure_sibling_become_async() {
    let out = migrated(RETRY);
    has(
        &out,
        &[
            "async def slow(i):",
            // No await of its own: it is passed where `slow` is.
            "async def pure(i):",
            "async def retry(func):",
            "            return await func(i)",
            "    print(await retry(slow))",
            "    print(await retry(pure))",
            "    asyncio.run(main())",
        ],
    );
}

const CHAIN: &str = r#"import time


def slow():
    time.sleep(0.01)
    return "slow"


def pure():
    return "pure"


def run_now(k):
    return k()


def schedule(k):
    print("scheduling")
    return run_now(k)


def main():
    print(schedule(slow), schedule(pure), run_now(pure))


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_callback_forwarded_to_another_function_is_awaited_at_the_end_of_the_chain() {
    let out = migrated(CHAIN);
    has(
        &out,
        &[
            "async def slow():",
            "async def pure():",
            "async def run_now(k):\n    return await k()",
            "async def schedule(k):\n    print(\"scheduling\")\n    return await run_now(k)",
            "print(await schedule(slow), await schedule(pure), await run_now(pure))",
        ],
    );
}

const WITH_LAMBDA: &str = r#"import time


def slow():
    time.sleep(0.01)
    return "slow"


def pure():
    return "pure"


def twice(k):
    return [k(), k()]


def main():
    print(twice(slow), twice(pure))
    print(twice(lambda: "lambda"))


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_lambda_passed_to_the_same_parameter_keeps_the_group_sync() {
    let tree = assert_equivalent(
        WITH_LAMBDA,
        &["main.py"],
        Equiv {
            expect_unchanged: true,
            ..Equiv::default()
        },
    );
    assert_eq!(tree["main.py"], WITH_LAMBDA);
    has(
        &reported(WITH_LAMBDA),
        &[
            "`slow` is passed to parameter `k` of `twice`, which must stay sync: it is also passed `lambda: \"lambda\"` at main.py:19, which awaitify cannot follow",
        ],
    );
}

const STORED: &str = r#"import time


def slow():
    time.sleep(0.01)
    return "slow"


class Job:
    def __init__(self):
        self.cb = None

    def set(self, cb):
        self.cb = cb
        return self

    def fire(self):
        return self.cb()


def main():
    print(Job().set(slow).fire())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_stored_callback_is_pinned_as_a_value() {
    let tree = assert_equivalent(
        STORED,
        &["main.py"],
        Equiv {
            expect_unchanged: true,
            ..Equiv::default()
        },
    );
    assert_eq!(tree["main.py"], STORED);
    has(
        &reported(STORED),
        &["`slow` is passed as a value to `Job().set`, which calls it without await"],
    );
}

const KEYWORD_AND_DEFAULT: &str = r#"import time


def handler():
    time.sleep(0.01)
    print("handled")


def finish(data, on_done=None):
    print("finishing", data)
    if on_done is not None:
        on_done()


def notify(cb=None):
    if cb:
        cb()
    else:
        print("nobody to notify")


def main():
    finish(1)
    finish(2, on_done=handler)
    notify()
    notify(cb=handler)


if __name__ == "__main__":
    main()
"#;

#[test]
fn keyword_callbacks_and_none_defaults_are_followed() {
    let out = migrated(KEYWORD_AND_DEFAULT);
    has(
        &out,
        &[
            "async def handler():",
            "async def finish(data, on_done=None):",
            "        await on_done()",
            "async def notify(cb=None):\n    if cb:\n        await cb()",
            "    await finish(1)\n    await finish(2, on_done=handler)\n    await notify()\n    await notify(cb=handler)",
        ],
    );
}

const BOUND_METHOD: &str = r#"import time


def with_logging(action, name):
    print("start", name)
    result = action()
    print("end", name)
    return result


class Worker:
    def __init__(self, n):
        self.n = n

    def _do(self):
        time.sleep(0.01)
        return self.n * 2

    def run(self):
        return with_logging(self._do, "do")


def main():
    print(Worker(21).run())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_bound_method_passed_as_the_callback_becomes_async() {
    let out = migrated(BOUND_METHOD);
    has(
        &out,
        &[
            "async def with_logging(action, name):",
            "    result = await action()",
            "    async def _do(self):",
            "    async def run(self):\n        return await with_logging(self._do, \"do\")",
            "    print(await Worker(21).run())",
        ],
    );
}

/// `_retry_internal` is under a project decorator whose wrapper hands it its arguments as
/// they came (pymongo's `@_csot.apply`): the callback passed at `_retry_internal(func=...)`
/// is what its parameter receives, so the group converts, wrapper and all.
const FORWARDING_DECORATOR: &str = r#"import functools
import time


def apply(func):
    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        if self.timeout is not None:
            print("timeout", self.timeout)
        return func(self, *args, **kwargs)

    return wrapper


class Client:
    timeout = 5

    @apply
    def _retry_internal(self, func, attempts=2):
        for i in range(attempts):
            try:
                return func(i)
            except ValueError:
                print("retrying", i)
        return None

    def _retryable_write(self, func):
        return self._retry_internal(func=func)


def insert(i):
    time.sleep(0.01)
    if i == 0:
        raise ValueError("retry")
    return "inserted %d" % i


def main():
    print(Client()._retryable_write(insert))


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_callback_through_a_decorator_that_forwards_its_arguments_becomes_async() {
    let out = migrated(FORWARDING_DECORATOR);
    has(
        &out,
        &[
            "    async def wrapper(self, *args, **kwargs):",
            "        return await func(self, *args, **kwargs)",
            "    async def _retry_internal(self, func, attempts=2):",
            "                return await func(i)",
            "async def insert(i):",
        ],
    );
}

#[test]
fn a_callback_through_a_decorator_that_changes_the_arguments_stays_sync() {
    // The wrapper may hand `_retry_internal` another `func` than the one passed.
    let changed = FORWARDING_DECORATOR.replace(
        "        return func(self, *args, **kwargs)",
        "        kwargs.setdefault(\"attempts\", 3)\n        return func(self, *args, **kwargs)",
    );
    // Or a decorator outside the project, whose wrapper awaitify does not see.
    let outside = FORWARDING_DECORATOR.replace("    @apply\n", "    @functools.lru_cache\n");
    for spec in [changed, outside] {
        let tree = assert_equivalent(
            &spec,
            &["main.py"],
            Equiv {
                expect_unchanged: true,
                ..Equiv::default()
            },
        );
        lacks(&tree["main.py"], &["async def"]);
        has(
            &reported(&spec),
            &[
                "`insert` is passed to parameter `func` of `_retryable_write`, which must stay sync: `_retry_internal` is decorated, and awaitify cannot tell that the decorator passes the function's arguments through unchanged",
            ],
        );
    }
}

/// pymongo's `@_csot.apply`: `if inspect.iscoroutinefunction(func):` an async wrapper that
/// awaits it, `else:` a sync one. Each decorated function gets the wrapper of its colour, so
/// `_retry_internal` converts on its own and `describe` stays sync under the sync wrapper;
/// the decorator is left as it is.
const DUAL_DECORATOR: &str = r#"import functools
import inspect
import time
from typing import Any, Callable, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])


def apply(func: F) -> F:
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            print("timeout", self.timeout)
            return await func(self, *args, **kwargs)
    else:

        @functools.wraps(func)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            print("timeout", self.timeout)
            return func(self, *args, **kwargs)

    return cast("F", wrapper)


class Client:
    timeout = 5

    @apply
    def _retry_internal(self, func, attempts=2):
        for i in range(attempts):
            try:
                return func(i)
            except ValueError:
                print("retrying", i)
        return None

    @apply
    def describe(self):
        return "client"

    def _retryable_write(self, func):
        return self._retry_internal(func=func)


def insert(i):
    time.sleep(0.01)
    if i == 0:
        raise ValueError("retry")
    return "inserted %d" % i


def main():
    c = Client()
    print(c._retryable_write(insert))
    print(c.describe())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_decorator_with_a_wrapper_of_each_colour_lets_each_function_convert_on_its_own() {
    let out = migrated(DUAL_DECORATOR);
    has(
        &out,
        &[
            "        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:\n            print(\"timeout\", self.timeout)\n            return func(self, *args, **kwargs)",
            "    async def _retry_internal(self, func, attempts=2):",
            "                return await func(i)",
            "    def describe(self):",
            "    print(await c._retryable_write(insert))\n    print(c.describe())",
        ],
    );
    let decorator = DUAL_DECORATOR
        .split("class Client")
        .next()
        .and_then(|h| h.split("F = TypeVar").nth(1))
        .unwrap_or_default();
    has(&out, &[decorator]);
}

#[test]
fn the_sync_wrapper_of_a_dual_decorator_stays_sync() {
    // Its own blocking call would make it async, and `describe`'s callers would get a
    // coroutine. (Each wrapper named for itself, returned from its branch.)
    let spec = DUAL_DECORATOR
        .replace(
            "            print(\"timeout\", self.timeout)\n            return func(",
            "            time.sleep(0.01)\n            print(\"timeout\", self.timeout)\n            return func(",
        )
        .replace(
            "        async def wrapper(",
            "        async def async_wrapper(",
        )
        .replace(
            "            return await func(self, *args, **kwargs)\n",
            "            return await func(self, *args, **kwargs)\n\n        return cast(\"F\", async_wrapper)\n",
        )
        .replace("    return cast(\"F\", wrapper)", "        return cast(\"F\", wrapper)");
    let out = migrated(&spec);
    has(
        &out,
        &[
            "        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:\n            time.sleep(0.01)",
            "    async def _retry_internal(self, func, attempts=2):",
            "    print(c.describe())",
        ],
    );
    has(
        &reported(&spec),
        &["it is the sync wrapper of decorator `apply`"],
    );
}

/// A callback stored on an instance by its constructor and called by a method later
/// (pymongo's `_ClientConnectionRetryable(func=func).run()`): the attribute is one more
/// slot of the group, so the stored call is awaited and `run` turns async.
const STORED_BY_CONSTRUCTOR: &str = r#"import time


class Retryable:
    def __init__(self, func, attempts):
        self._func = func
        self._attempts = attempts

    def run(self):
        for i in range(self._attempts):
            try:
                return self._func(i)
            except ValueError:
                print("retrying", i)
        return None


class Client:
    def _retry(self, func, attempts=3):
        return Retryable(func=func, attempts=attempts).run()

    def fetch(self, key):
        def op(i):
            time.sleep(0.01)
            if i < 1:
                raise ValueError(i)
            return f"{key} at {i}"

        return self._retry(op)

    def count(self):
        return self._retry(self._count, attempts=1)

    def _count(self, i):
        return 42 + i


def main():
    c = Client()
    print(c.fetch("a"))
    print(c.count())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_callback_stored_by_a_constructor_is_awaited_where_a_method_calls_it() {
    let out = migrated(STORED_BY_CONSTRUCTOR);
    has(
        &out,
        &[
            "    async def run(self):",
            "                return await self._func(i)",
            "        return await Retryable(func=func, attempts=attempts).run()",
            "        async def op(i):",
            "    async def _count(self, i):",
            "    print(await c.count())",
        ],
    );
}

/// An error hook stored with a `None` default, tested before it is called, and reached
/// through a subclass that forwards it to `super().__init__` (neo4j's `Outbox(on_error=)`).
const STORED_HOOK: &str = r#"import time


class Box:
    def __init__(self, name, on_error=None):
        self.name = name
        self.on_error = on_error

    def send(self, data):
        if data < 0:
            if self.on_error is not None:
                self.on_error(self.name, data)
            return False
        print(self.name, "sent", data)
        return True


class Outbox(Box):
    def __init__(self, on_error):
        super().__init__("out", on_error=on_error)


class Conn:
    def __init__(self):
        self.outbox = Outbox(self._defunct)
        self.plain = Box("plain")

    def _defunct(self, name, data):
        time.sleep(0.01)
        print("defunct", name, data)

    def write(self, data):
        return self.outbox.send(data)


def main():
    c = Conn()
    print(c.write(1), c.write(-1))
    print(c.plain.send(-2))


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_stored_hook_tested_for_none_and_forwarded_by_a_subclass_is_awaited() {
    let out = migrated(STORED_HOOK);
    has(
        &out,
        &[
            "    async def send(self, data):",
            "                await self.on_error(self.name, data)",
            "    async def _defunct(self, name, data):",
            "        return await self.outbox.send(data)",
            "    print(await c.plain.send(-2))",
        ],
    );
}

/// Each way a stored callback may be reached unseen keeps the group sync, with a reason
/// naming the place: `(what is added to STORED_BY_CONSTRUCTOR, the reason)`.
const STORED_UNSOUND: &[(&str, &str, &str)] = &[
    (
        "    print(c.count())\n",
        "    print(c.count())\n    r = Retryable(c._count, 1)\n    print(r._func(1))\n",
        "`Retryable._func` may be read at main.py:43, on a value awaitify cannot tell is not one of its instances",
    ),
    (
        "    print(c.count())\n",
        "    print(c.count())\n    factory = Retryable\n    print(factory(c._count, 1).run())\n",
        "`Retryable` is used as a value at main.py:42, so not every construction is known",
    ),
    (
        "    def run(self):",
        "    @classmethod\n    def once(cls, func):\n        return cls(func, 1)\n\n    def run(self):",
        "a method at main.py:10 builds an instance of its own class by another name",
    ),
    (
        "                return self._func(i)",
        "                return (lambda: self._func(i))()",
        "`Retryable._func` is read in a nested function or comprehension at main.py:12",
    ),
    (
        "        self._attempts = attempts\n",
        "        self._attempts = attempts\n\n    def reset(self):\n        self._func = lambda i: i\n",
        "it is also passed `lambda i: i` at main.py:10, which awaitify cannot follow",
    ),
    (
        "        return None\n",
        "        return None\n\n    def get(self, name):\n        return getattr(self, name)\n",
        "`getattr` at main.py:18 may read `Retryable._func` by a name awaitify cannot tell",
    ),
    (
        "class Retryable:",
        "import dataclasses\n\n\n@dataclasses.dataclass\nclass Retryable:",
        "`Retryable` has a decorator or a metaclass, which may construct it otherwise",
    ),
];

#[test]
fn a_stored_callback_reachable_unseen_keeps_its_group_sync() {
    for (from, to, why) in STORED_UNSOUND {
        assert!(STORED_BY_CONSTRUCTOR.contains(from), "{from:?}");
        let spec = STORED_BY_CONSTRUCTOR.replacen(from, to, 1);
        let tree = assert_equivalent(&spec, &["main.py"], Equiv::unchanged());
        assert_eq!(tree["main.py"], spec);
        has(&reported(&spec), &[why]);
    }
}

/// A module-level dispatch table of functions (pymongo's `_AUTH_MAP`), looked up and
/// called: its functions change colour together, `functools.partial` entries included, and
/// each call of a looked-up value is awaited.
const DISPATCH_TABLE: &str = r#"import functools
import time


def _plain(user, conn):
    time.sleep(0.01)
    conn.append(f"plain {user}")


def _scram(user, conn, mechanism):
    conn.append(f"{mechanism} {user}")


def _x509(user, conn):
    conn.append(f"x509 {user}")


_AUTH_MAP = {
    "PLAIN": _plain,
    "SCRAM-1": functools.partial(_scram, mechanism="SCRAM-SHA-1"),
    # the default
    "X509": _x509,
}


def authenticate(mech, user, conn):
    if mech not in _AUTH_MAP:
        raise ValueError(mech)
    auth = _AUTH_MAP[mech]
    auth(user, conn)


def quick(mech, user, conn):
    fn = _AUTH_MAP.get(mech)
    if fn is None:
        return False
    fn(user, conn)
    return True


def main():
    conn = []
    for mech in sorted(_AUTH_MAP):
        authenticate(mech, "ann", conn)
    print(quick("X509", "bob", conn), quick("NONE", "bob", conn))
    _AUTH_MAP["PLAIN"]("cy", conn)
    print(conn, len(_AUTH_MAP))


if __name__ == "__main__":
    main()
"#;

#[test]
fn the_functions_of_a_dispatch_table_become_async_together_and_lookups_are_awaited() {
    let out = migrated(DISPATCH_TABLE);
    has(
        &out,
        &[
            "async def _plain(user, conn):",
            "async def _scram(user, conn, mechanism):",
            "async def _x509(user, conn):",
            "    \"SCRAM-1\": functools.partial(_scram, mechanism=\"SCRAM-SHA-1\"),",
            "    await auth(user, conn)",
            "    await fn(user, conn)",
            "    await _AUTH_MAP[\"PLAIN\"](\"cy\", conn)",
        ],
    );
}

/// Each way a table or a looked-up value may be used unseen keeps the table's functions
/// sync: `(what is replaced in DISPATCH_TABLE, by what, the reason)`.
const TABLE_UNSOUND: &[(&str, &str, &str)] = &[
    (
        "    print(conn, len(_AUTH_MAP))\n",
        "    _AUTH_MAP[\"LATE\"] = _x509\n    print(conn, len(_AUTH_MAP))\n",
        "the table `_AUTH_MAP` has a value looked up and used at main.py:47",
    ),
    (
        "    print(conn, len(_AUTH_MAP))\n",
        "    print(conn, [k for k, f in _AUTH_MAP.items()])\n",
        "the table `_AUTH_MAP` is read in a nested function or comprehension at main.py:47",
    ),
    (
        "    print(conn, len(_AUTH_MAP))\n",
        "    print(conn, len(_AUTH_MAP), len(list(_AUTH_MAP.values())))\n",
        "the table `_AUTH_MAP` is read as `_AUTH_MAP.values` at main.py:47",
    ),
    (
        "    # the default\n",
        "    \"LAMBDA\": lambda user, conn: None,\n",
        "the table `_AUTH_MAP` holds `lambda user, conn: None` at main.py:21, which awaitify cannot follow",
    ),
    (
        "    auth(user, conn)\n",
        "    auth(user, conn)\n    print(auth.__name__ if not isinstance(auth, functools.partial) else auth.func.__name__)\n",
        "the table `_AUTH_MAP` has a value looked up at main.py:29 and used otherwise than called, as `auth` at main.py:31",
    ),
    (
        "def main():\n",
        "def register(table):\n    return len(table)\n\n\ndef main():\n    print(register(_AUTH_MAP))\n",
        "the table `_AUTH_MAP` is used as a value at main.py:46",
    ),
];

#[test]
fn a_dispatch_table_used_unseen_keeps_its_functions_sync() {
    for (from, to, why) in TABLE_UNSOUND {
        assert!(DISPATCH_TABLE.contains(from), "{from:?}");
        let spec = DISPATCH_TABLE.replacen(from, to, 1);
        let tree = assert_equivalent(&spec, &["main.py"], Equiv::unchanged());
        assert_eq!(tree["main.py"], spec);
        has(&reported(&spec), &[why]);
    }
}
