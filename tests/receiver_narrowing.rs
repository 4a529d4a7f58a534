//! Receivers narrowed by `isinstance`: past `if not isinstance(x, T): raise ...` a local
//! `x` is a `T`, however it was bound (pymongo's `_kms_connect.py:140`, a socket returned
//! by a user callback declared `Any`). The narrowing holds only where nothing in between
//! may rebind the name, and the guard's body always leaves.
//!
//! Each fixture has two project classes with a blocking method of the same name, so the
//! name alone says nothing: an untyped receiver pins both sync. The positive runs the
//! original and the migrated program and compares what they print; the negatives keep the
//! pin.

mod support;

use support::{has, lacks, reported};

/// A project object and a socket, each read from a dict of unknown elements and narrowed
/// by a guard that raises (one of them `not isinstance(...) or ...`).
const NARROWED: &str = r#"#- main.py
import socket
import time


class Conn:
    def close(self):
        time.sleep(0.01)
        print("conn closed")


class Reader:
    def close(self):
        time.sleep(0.01)
        print("reader closed")


def close_one(handlers, key):
    h = handlers[key]
    if not isinstance(h, Conn) or key == "skip":
        raise TypeError(key)
    print("closing", key)
    try:
        h.close()
    except OSError:
        pass


def close_socket(made):
    sock = made["s"]
    if not isinstance(sock, socket.socket):
        raise TypeError("not a socket")
    sock.close()
    return "socket closed"


def main():
    close_one({"a": Conn()}, "a")
    a, b = socket.socketpair()
    print(close_socket({"s": a}))
    b.close()
    Reader().close()


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_name_past_an_isinstance_guard_that_raises_is_of_its_type() {
    let out = support::equivalent_main(NARROWED);
    has(
        &out,
        &[
            "        await h.close()",
            "    sock.close()\n",
            "    await Reader().close()",
        ],
    );
    lacks(&out, &["async def close_socket"]);
    assert_eq!(
        out.matches("    async def close(self):").count(),
        2,
        "{out}"
    );
    lacks(&reported(NARROWED), &["of unknown type"]);
}

#[test]
fn a_name_rebound_past_the_guard_pins() {
    let spec = NARROWED.replace(
        "    print(\"closing\", key)\n",
        "    print(\"closing\", key)\n    h = handlers.get(\"other\", h)\n",
    );
    support::pinned_method(&spec, "close");
}

#[test]
fn a_guard_that_does_not_leave_pins() {
    let spec = NARROWED.replace(
        "        raise TypeError(key)\n",
        "        print(\"odd\", key)\n",
    );
    support::pinned_method(&spec, "close");
}

#[test]
fn a_guard_with_an_else_pins() {
    // Only the `if` leaves; the narrowing past it would be the `else`'s business.
    let spec = NARROWED.replace(
        "        raise TypeError(key)\n    print(\"closing\", key)\n",
        "        raise TypeError(key)\n    else:\n        h = Reader()\n    print(\"closing\", key)\n",
    );
    support::pinned_method(&spec, "close");
}

#[test]
fn a_name_rebound_later_in_a_loop_pins() {
    // The loop's next round reads what the end of this one bound.
    let spec = NARROWED.replace(
        "    try:\n        h.close()\n    except OSError:\n        pass\n",
        "    for k in [key, key]:\n        h.close()\n        h = handlers[k]\n",
    );
    support::pinned_method(&spec, "close");
}

#[test]
fn a_global_narrowed_in_a_function_pins() {
    // `swap()`, called between the guard and the read, rebinds the global.
    let spec = NARROWED
        .replace(
            "def close_one(handlers, key):\n    h = handlers[key]\n",
            "h = {}.get(\"h\")\n\n\ndef swap():\n    global h\n    h = Reader()\n\n\n\
         def close_one(handlers, key):\n    swap()\n",
        )
        .replace(
            "    print(\"closing\", key)\n",
            "    print(\"closing\", key)\n    swap()\n",
        );
    support::pinned_method(&spec, "close");
}
