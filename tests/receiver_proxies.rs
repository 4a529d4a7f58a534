//! Receivers reached through a proxy: a class whose `__getattr__` forwards every name it
//! lacks to one attribute (`return getattr(self._conn, name)`) makes `proxy.send(...)` a
//! call of `send` on that attribute, typed as other attributes are (neo4j's
//! `ConnectionErrorHandler`, which wraps what it forwards and so still pins, with a reason
//! that says so).
//!
//! Each fixture has two project classes with a blocking method of the same name, so the
//! name alone says nothing: an untyped receiver pins both sync. The positive runs the
//! original and the migrated program and compares what they print; the negatives keep the
//! pin, because the read may reach something else or the proxy changes the call.

mod support;

use support::{has, lacks, reported};

/// `Guarded` forwards what it lacks to `_conn`, a `Conn`.
const PROXY: &str = r#"#- main.py
import time


class Conn:
    def send(self, x):
        time.sleep(0.01)
        return "conn " + x


class Store:
    def send(self, x):
        time.sleep(0.01)
        return "store " + x


class Guarded:
    """Forwards every attribute it lacks to the connection."""

    def __init__(self, conn: Conn):
        self._conn = conn

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def label(self):
        return "guarded"


def run(g: Guarded):
    return g.label() + ": " + g.send("ping") + ", " + Store().send("pong")


def main():
    print(run(Guarded(Conn())))


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_call_through_a_forwarding_getattr_is_a_call_on_its_attribute() {
    let out = support::equivalent_main(PROXY);
    has(
        &out,
        &[
            "await g.send(\"ping\")",
            "async def run(g: Guarded):",
            "    def __getattr__(self, name):",
            "    def label(self):",
        ],
    );
    assert_eq!(
        out.matches("    async def send(self, x):").count(),
        2,
        "{out}"
    );
    lacks(&reported(PROXY), &["of unknown type", "reads a name"]);
}

#[test]
fn a_getattr_forwarding_to_different_attributes_by_name_pins() {
    let spec = PROXY.replace(
        "        return getattr(self._conn, name)",
        "        if name.startswith(\"s\"):\n            return getattr(self._conn, name)\n        return getattr(self._other, name)",
    );
    let out = support::fixture_after(&spec);
    lacks(&out, &["async def send", "await g.send"]);
    has(
        &reported(&spec),
        &[
            "`Guarded.__getattr__` at main.py:24 reads any name of `self._conn` and returns it wrapped",
        ],
    );
}

/// neo4j's `ConnectionErrorHandler`: the forwarded method is called by a wrapper that drops
/// its result, so a coroutine function behind it would never be awaited.
#[test]
fn a_getattr_wrapping_what_it_forwards_pins_and_says_so() {
    let spec = PROXY.replace(
        "        return getattr(self._conn, name)",
        "        attr = getattr(self._conn, name)\n\n        def inner(*args, **kwargs):\n            attr(*args, **kwargs)\n\n        return inner",
    );
    let out = support::fixture_after(&spec);
    // `Store.send` is reached by name only through `Store()`: it converts alone.
    has(
        &out,
        &[
            "class Conn:\n    def send(self, x):",
            " + g.send(\"ping\") + ",
        ],
    );
    has(
        &reported(&spec),
        &[
            "reads any name of `self._conn` and returns it wrapped (not a plain `return getattr(self._conn, name)`), so a call through the proxy may not await `Conn.send`",
        ],
    );
}

#[test]
fn a_proxy_whose_subclass_defines_the_method_pins_by_name() {
    let spec = PROXY.replace(
        "def run(g: Guarded):",
        "class Loud(Guarded):\n    def send(self, x):\n        return \"loud \" + x\n\n\ndef run(g: Guarded):",
    );
    let out = support::pinned_method(&spec, "send");
    lacks(&out, &["await g.send"]);
}

#[test]
fn a_proxy_whose_getattr_is_also_called_by_name_pins() {
    let spec = PROXY.replace(
        "    print(run(Guarded(Conn())))",
        "    print(run(Guarded(Conn())))\n    print(Guarded(Conn()).__getattr__(\"send\")(\"x\"))",
    );
    let out = support::fixture_after(&spec);
    // `Store.send` is reached by name only through `Store()`: it converts alone.
    has(
        &out,
        &[
            "class Conn:\n    def send(self, x):",
            " + g.send(\"ping\") + ",
        ],
    );
    has(
        &reported(&spec),
        &["`getattr` at main.py:23 reads a name awaitify cannot know, and may return `Conn.send`"],
    );
}
