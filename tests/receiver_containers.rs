//! Receivers typed as elements of builtin containers whose declaration types them: a name
//! declared `dict[K, V]` and bound to a dict made right there gives its keys (iteration,
//! `.keys()`), its values (`.values()`, `d[k]`, `d.get(k)`) and `(K, V)` pairs (`.items()`,
//! unpacked by a tuple target of the same length); a list comprehension's body naming its
//! own `for` variable is an element of what that clause iterates (pymongo's
//! `_kms_connect_shared.py:342`, `finished: dict[socket.socket, set[str]]`).
//!
//! Each fixture has two project classes with a blocking method of the same name, so the
//! name alone says nothing: an untyped receiver pins both sync. The positives run the
//! original and the migrated program and compare what they print; the negatives keep the
//! pin, because the container may hold something else.

mod support;

use support::{has, lacks, reported};

// ---- 1. a dict of project objects ------------------------------------------------------------

/// `handlers: dict[str, Chunks]`, read by key, by `.get`, by `.values()` and by `.items()`.
const DICT_OF_OBJECTS: &str = r#"#- main.py
import time


class Chunks:
    def __init__(self, name):
        self.name = name

    def close(self):
        time.sleep(0.01)
        print("chunks closed", self.name)


class Reader:
    def close(self):
        time.sleep(0.01)
        print("reader closed")


def main():
    handlers: dict[str, Chunks] = {"a": Chunks("a"), "b": Chunks("b")}
    handlers["a"].close()
    handlers.get("b").close()
    for h in handlers.values():
        h.close()
    for name, h in handlers.items():
        print(name)
        h.close()
    Reader().close()


if __name__ == "__main__":
    main()
"#;

#[test]
fn values_of_a_declared_dict_are_its_value_type() {
    let out = support::equivalent_main(DICT_OF_OBJECTS);
    has(
        &out,
        &[
            "    await handlers[\"a\"].close()",
            "    await handlers.get(\"b\").close()",
            "        await h.close()",
            "    await Reader().close()",
        ],
    );
    assert_eq!(
        out.matches("    async def close(self):").count(),
        2,
        "{out}"
    );
    lacks(&reported(DICT_OF_OBJECTS), &["of unknown type"]);
}

#[test]
fn a_declared_dict_stored_into_pins() {
    // A store may put a value of another type in it, whatever the declaration says.
    for store in [
        "    handlers[\"c\"] = Reader()\n",
        "    handlers.update(c=Reader())\n",
        "    handlers |= {\"c\": Reader()}\n",
    ] {
        let spec = DICT_OF_OBJECTS.replace(
            "    handlers[\"a\"].close()\n",
            &format!("{store}    handlers[\"a\"].close()\n"),
        );
        support::pinned_method(&spec, "close");
    }
}

#[test]
fn a_declared_dict_made_with_a_value_of_another_type_pins() {
    let spec = DICT_OF_OBJECTS.replace("\"b\": Chunks(\"b\")", "\"b\": Reader()");
    support::pinned_method(&spec, "close");
}

#[test]
fn a_starred_target_over_items_pins() {
    // `name, *hs` takes a list of the rest: not the value type.
    let spec = DICT_OF_OBJECTS.replace(
        "    for name, h in handlers.items():\n        print(name)\n        h.close()\n",
        "    for name, *hs in handlers.items():\n        print(name)\n        hs[0].close()\n",
    );
    support::pinned_method(&spec, "close");
}

// ---- 2. a dict keyed by sockets (pymongo's relay) -------------------------------------------

/// pymongo's `_bridge`: the sockets whose two directions ended are taken from a dict's items
/// in a comprehension and closed; the comprehension's `s` is also a loop variable of the
/// function, spelt the same.
const SOCKET_KEYS: &str = r#"#- main.py
import socket
import time


class Chunks:
    def close(self):
        time.sleep(0.01)
        print("chunks closed")


class Reader:
    def close(self):
        time.sleep(0.01)
        print("reader closed")


def bridge(proxy: socket.socket, other: socket.socket) -> int:
    finished: dict[socket.socket, set[str]] = {proxy: set(), other: set()}

    def relay(src: socket.socket, dst: socket.socket) -> int:
        finished[src].add("read")
        finished[dst].add("write")
        done = [s for s, marks in finished.items() if len(marks) == 2]
        for s in done:
            del finished[s]
        for sock in done:
            sock.close()
        return len(done)

    return relay(proxy, other) + relay(other, proxy)


def main():
    a, b = socket.socketpair()
    print(bridge(a, b))
    Chunks().close()
    Reader().close()


if __name__ == "__main__":
    main()
"#;

#[test]
fn keys_of_a_dict_of_sockets_taken_in_a_comprehension_are_kept_sockets() {
    let out = support::equivalent_main(SOCKET_KEYS);
    has(
        &out,
        &["            sock.close()\n", "    await Chunks().close()"],
    );
    lacks(&out, &["async def bridge", "async def relay"]);
    assert_eq!(
        out.matches("    async def close(self):").count(),
        2,
        "{out}"
    );
    lacks(&reported(SOCKET_KEYS), &["of unknown type"]);
}

#[test]
fn a_dict_of_sockets_declared_but_given_a_project_key_pins() {
    // The display holds a project object where the declaration says sockets.
    let spec = SOCKET_KEYS.replace(
        "{proxy: set(), other: set()}",
        "{proxy: set(), Reader(): set()}",
    );
    support::pinned_method(&spec, "close");
}

#[test]
fn a_dict_of_sockets_with_a_starred_comprehension_target_pins() {
    let spec = SOCKET_KEYS.replace(
        "[s for s, marks in finished.items() if len(marks) == 2]",
        "[s for s, *marks in finished.items() if len(marks[0]) == 2]",
    );
    support::pinned_method(&spec, "close");
}

// ---- 3. tuples of known elements (pymongo's socketpair teardown) ----------------------------

/// pymongo's `_bridge` teardown: a loop over a tuple display of a socket parameter and the
/// two ends of `socket.socketpair()`; and a tuple display unpacked into two names.
const SOCKET_TUPLE: &str = r#"#- main.py
import socket
import time


class Chunks:
    def close(self):
        time.sleep(0.01)
        print("chunks closed")


class Reader:
    def close(self):
        time.sleep(0.01)
        print("reader closed")


def teardown(proxy: socket.socket) -> int:
    driver, relay = socket.socketpair()
    n = 0
    for sock in (proxy, relay, driver):
        sock.close()
        n += 1
    return n


def main():
    a, b = socket.socketpair()
    print(teardown(a))
    b.close()
    chunks, reader = Chunks(), Reader()
    chunks.close()
    reader.close()


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_loop_over_a_tuple_of_sockets_binds_kept_sockets() {
    let out = support::equivalent_main(SOCKET_TUPLE);
    has(
        &out,
        &[
            "        sock.close()\n",
            "    await chunks.close()",
            "    await reader.close()",
        ],
    );
    lacks(&out, &["async def teardown"]);
    assert_eq!(
        out.matches("    async def close(self):").count(),
        2,
        "{out}"
    );
    lacks(&reported(SOCKET_TUPLE), &["of unknown type"]);
}

#[test]
fn a_loop_over_a_tuple_with_a_project_object_pins() {
    // A socket and a `Reader` have no common kind: the loop variable may be either.
    let spec = SOCKET_TUPLE.replace("(proxy, relay, driver)", "(proxy, relay, Reader())");
    support::pinned_method(&spec, "close");
}

#[test]
fn a_loop_over_a_tuple_with_a_starred_element_pins() {
    let spec = SOCKET_TUPLE.replace(
        "    for sock in (proxy, relay, driver):\n",
        "    rest = [Reader()]\n    for sock in (proxy, *rest, driver):\n",
    );
    support::pinned_method(&spec, "close");
}

#[test]
fn a_tuple_unpacked_by_a_starred_target_pins() {
    let spec = SOCKET_TUPLE.replace(
        "    chunks, reader = Chunks(), Reader()\n",
        "    chunks, *readers = Chunks(), Reader()\n    reader = readers[0]\n",
    );
    support::pinned_method(&spec, "close");
}
