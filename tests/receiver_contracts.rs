//! Receivers typed through what a declaration promises, or does not: an attribute declared
//! `Any` is typed by its assignments alone; in-memory buffers (`io.BytesIO`, `io.StringIO`)
//! hold no project object; `obj[key]` on a project object is what its `__getitem__`
//! returns; a module-level type alias (`_Conn = Union["Conn", "Store"]`, `X: TypeAlias =
//! ...`) reads as its right side; `vars(x)` of a parameter annotated as an instance holds
//! only what was assigned to it; the elements of a parameter annotated `list[socket.socket]`
//! are kept sockets, whose methods are no project method (pymongo's `GridOut._chunk_iter` and `GridIn._buffer`,
//! `MongoClient.__getitem__`, `pymongo.typings`; neo4j's `to_auth_dict`).
//!
//! Each fixture has two project classes with a blocking method of the same name, so the
//! name alone says nothing: an untyped receiver pins both sync. The positives run the
//! original and the migrated program and compare what they print; the negatives keep the
//! pin, because the value could be something else.

mod support;

use support::{has, lacks, reported};

// ---- 1. an attribute declared `Any` --------------------------------------------------------

/// `_chunks: Any` promises nothing; the one assignment says what the attribute holds.
const ANY_ATTRIBUTE: &str = r#"#- main.py
import time
from typing import Any


class Chunks:
    def close(self):
        time.sleep(0.01)
        print("chunks closed")


class Reader:
    def close(self):
        time.sleep(0.01)
        print("reader closed")


class Grid:
    _chunks: Any

    def __init__(self):
        self._chunks = None

    def open(self):
        self._chunks = Chunks()

    def shut(self):
        if self._chunks:
            self._chunks.close()
            self._chunks = None


def main():
    g = Grid()
    g.open()
    g.shut()
    Reader().close()


if __name__ == "__main__":
    main()
"#;

#[test]
fn an_attribute_declared_any_is_typed_by_its_assignments() {
    let out = support::equivalent_main(ANY_ATTRIBUTE);
    has(
        &out,
        &[
            "            await self._chunks.close()",
            "    async def shut(self):",
        ],
    );
    assert_eq!(
        out.matches("    async def close(self):").count(),
        2,
        "{out}"
    );
    lacks(&reported(ANY_ATTRIBUTE), &["of unknown type"]);
}

#[test]
fn an_attribute_declared_any_and_also_set_from_an_unknown_value_pins() {
    let spec = ANY_ATTRIBUTE.replace(
        "    def shut(self):",
        "    def attach(self, chunks):\n        self._chunks = chunks\n\n    def shut(self):",
    );
    let out = support::pinned_method(&spec, "close");
    lacks(&out, &["await self._chunks.close()"]);
}

// ---- 2. in-memory buffers ------------------------------------------------------------------

/// A buffer declared and made `io.BytesIO`, closed beside two project classes whose `close`
/// blocks.
const BUFFER: &str = r#"#- main.py
import io
import time


class Chunks:
    def close(self):
        time.sleep(0.01)
        print("chunks closed")


class Reader:
    def close(self):
        time.sleep(0.01)
        print("reader closed")


class Writer:
    _buffer: io.BytesIO

    def __init__(self):
        self._buffer = io.BytesIO()
        self.text = io.StringIO()

    def flush(self):
        data = self._buffer.getvalue()
        self._buffer.close()
        self._buffer = io.BytesIO()
        self.text.write("x")
        self.text.close()
        return data

    def finish(self):
        Chunks().close()
        Reader().close()
        return self.flush()


def main():
    w = Writer()
    w._buffer.write(b"abc")
    print(w.finish())


if __name__ == "__main__":
    main()
"#;

#[test]
fn an_in_memory_buffer_is_not_a_project_object() {
    let out = support::equivalent_main(BUFFER);
    has(
        &out,
        &[
            "        self._buffer.close()\n",
            "        self.text.close()\n",
            "    def flush(self):",
            "    async def finish(self):",
        ],
    );
    assert_eq!(
        out.matches("    async def close(self):").count(),
        2,
        "{out}"
    );
    lacks(&reported(BUFFER), &["of unknown type"]);
}

#[test]
fn a_buffer_declared_with_a_project_subclass_of_bytesio_pins() {
    let spec = BUFFER.replace(
        "class Writer:",
        "class Spool(io.BytesIO):\n    def close(self):\n        time.sleep(0.01)\n        super().close()\n\n\nclass Writer:",
    );
    support::pinned_method(&spec, "close");
}

// ---- 3. subscripts through `__getitem__` ---------------------------------------------------

const GETITEM: &str = r#"#- main.py
import time


class Database:
    def command(self, name):
        time.sleep(0.01)
        return "db " + name


class Admin:
    def command(self, name):
        time.sleep(0.01)
        return "admin " + name


class Client:
    def __getitem__(self, name) -> "Database":
        return Database()


def run(client: Client):
    return client["test"].command("ping") + ", " + Admin().command("ping")


def main():
    print(run(Client()))


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_subscript_of_a_project_object_is_what_its_getitem_returns() {
    let out = support::equivalent_main(GETITEM);
    has(&out, &["await client[\"test\"].command(\"ping\")"]);
    assert_eq!(
        out.matches("    async def command(self, name):").count(),
        2,
        "{out}"
    );
    lacks(&out, &["async def __getitem__"]);
    lacks(&reported(GETITEM), &["of unknown type"]);
}

#[test]
fn a_subscript_whose_getitem_returns_an_unknown_value_pins() {
    let spec = GETITEM.replace(
        "    def __getitem__(self, name) -> \"Database\":\n        return Database()",
        "    def __getitem__(self, name):\n        return self.__dict__.get(name)",
    );
    support::pinned_method(&spec, "command");
}

// ---- 4. type aliases -----------------------------------------------------------------------

/// Aliases in another module, imported under `TYPE_CHECKING`: a union of two subclasses of
/// one project class (their common base types the value), and a `TypeAlias` of one class.
const ALIASES: &str = r#"#- typings.py
from typing import TYPE_CHECKING, Optional, TypeAlias, Union

if TYPE_CHECKING:
    from main import Primary, Secondary, Store

_AnyConn = Union["Primary", "Secondary"]
_MaybeStore: TypeAlias = Optional["Store"]
#- main.py
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typings import _AnyConn, _MaybeStore


class Conn:
    def send(self, x):
        time.sleep(0.01)
        return "conn " + x


class Primary(Conn):
    pass


class Secondary(Conn):
    pass


class Store:
    def send(self, x):
        time.sleep(0.01)
        return "store " + x


class Bulk:
    def __init__(self, conn: "_AnyConn", store: "_MaybeStore"):
        self.conn = conn
        self.store = store

    def run(self):
        return self.conn.send("a") + ", " + self.store.send("b")


def main():
    # Through a dict: the calls do not type the parameters, the annotations must.
    made = {"conn": Secondary(), "store": Store()}
    print(Bulk(made["conn"], made["store"]).run())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_type_alias_types_what_its_name_annotates() {
    let out = support::equivalent_main(ALIASES);
    has(
        &out,
        &[
            "await self.conn.send(\"a\")",
            "await self.store.send(\"b\")",
            "    async def run(self):",
        ],
    );
    assert_eq!(
        out.matches("    async def send(self, x):").count(),
        2,
        "{out}"
    );
    lacks(&reported(ALIASES), &["of unknown type"]);
}

#[test]
fn an_alias_of_unrelated_classes_or_bound_twice_pins() {
    // `Conn | Store` has no common project base: either `send` may be called.
    let unrelated = ALIASES.replace(
        "_AnyConn = Union[\"Primary\", \"Secondary\"]",
        "_AnyConn = Union[\"Primary\", \"Store\"]",
    );
    // An alias assigned twice may be either.
    let twice = ALIASES.replace(
        "_AnyConn = Union[\"Primary\", \"Secondary\"]",
        "_AnyConn = Union[\"Primary\", \"Secondary\"]\nif not TYPE_CHECKING:\n    _AnyConn = object",
    );
    for spec in [unrelated, twice] {
        support::pinned_method(&spec, "send");
    }
}

// ---- 5. `vars()` of an instance ------------------------------------------------------------

/// `vars(auth)` where `auth` is annotated (through an alias) as a tuple, a project instance
/// or `None`: it holds the instance's attributes, not the project's functions; the function
/// `fetch` returned from elsewhere can convert.
const VARS: &str = r#"#- main.py
import time
from typing import Optional, Tuple, Union


class Auth:
    def __init__(self, scheme, user):
        self.scheme = scheme
        self.user = user


_TAuth = Union[Tuple[str, str], Auth, None]


def to_dict(auth: _TAuth) -> dict:
    if not auth:
        return {}
    if isinstance(auth, tuple):
        return vars(Auth("basic", auth[0]))
    return vars(auth)


def fetch(n):
    time.sleep(0.01)
    return n * 2


def main():
    made = {"auth": Auth("bearer", "u"), "pair": ("a", "b")}
    print(sorted(to_dict(made["auth"]).items()), to_dict(made["pair"])["scheme"])
    print(fetch(21))


if __name__ == "__main__":
    main()
"#;

#[test]
fn vars_of_a_parameter_annotated_as_an_instance_reads_no_project_function() {
    let out = support::equivalent_main(VARS);
    has(&out, &["async def fetch(n):", "    print(await fetch(21))"]);
    lacks(&reported(VARS), &["cannot know"]);
}

#[test]
fn vars_of_a_parameter_that_may_be_a_class_pins() {
    for ann in ["type", "object", "Optional[type[Auth]]"] {
        let spec = VARS.replace(
            "_TAuth = Union[Tuple[str, str], Auth, None]",
            &format!("_TAuth = Union[Tuple[str, str], {ann}]"),
        );
        let out = support::fixture_after(&spec);
        lacks(&out, &["async def fetch"]);
        has(&reported(&spec), &["`vars()`", "cannot know"]);
    }
}

// ---- 6. elements of a sequence of catalog objects --------------------------------------------

/// Sockets in a list are never converted (the sockets family converts only a socket it
/// traces from its creation to its uses in one function): closing them calls no project
/// `close`.
const SOCKETS: &str = r#"#- main.py
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


def close_all(socks: list[socket.socket]) -> int:
    n = 0
    for sock in socks:
        sock.close()
        n += 1
    return n


def main():
    a, b = socket.socketpair()
    made = {"socks": [a, b]}
    print(close_all(made["socks"]))
    Chunks().close()
    Reader().close()


if __name__ == "__main__":
    main()
"#;

#[test]
fn elements_of_a_list_of_sockets_are_kept_sockets() {
    let out = support::equivalent_main(SOCKETS);
    has(
        &out,
        &[
            "def close_all(socks: list[socket.socket]) -> int:",
            "        sock.close()\n",
            "    await Chunks().close()",
        ],
    );
    lacks(&out, &["async def close_all"]);
    assert_eq!(
        out.matches("    async def close(self):").count(),
        2,
        "{out}"
    );
    lacks(&reported(SOCKETS), &["of unknown type"]);
}

#[test]
fn elements_of_a_list_of_objects_that_convert_with_their_uses_pin() {
    // A lock converts with all its uses, decided where it is made: a list of them says
    // nothing of the one at hand. `Any` says nothing at all.
    for ann in ["list[threading.Lock]", "list[Any]"] {
        let spec = SOCKETS.replace("list[socket.socket]", ann).replace(
            "import socket\n",
            "import socket\nimport threading\nfrom typing import Any\n",
        );
        support::pinned_method(&spec, "close");
    }
}

// ---- 7. outside classes that call no project method ------------------------------------------

/// A `ContextVar` reset with its token, a socket made by `socket.socket(...)` and one wrapped
/// by an `ssl.SSLContext` (pymongo's `_csot.py` and `_kms_connect_shared.py`): no project
/// `reset` or `close` is reached through them.
const OUTSIDE_OBJECTS: &str = r#"#- main.py
import contextvars
import socket
import ssl
import time


class Conn:
    def reset(self):
        time.sleep(0.01)
        print("conn reset")

    def close(self):
        time.sleep(0.01)
        print("conn closed")


class Reader:
    def reset(self):
        time.sleep(0.01)
        print("reader reset")

    def close(self):
        time.sleep(0.01)
        print("reader closed")


DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("DEPTH", default=0)


def nested():
    token = DEPTH.set(DEPTH.get() + 1)
    try:
        return DEPTH.get()
    finally:
        DEPTH.reset(token)


def tls_socket(context: ssl.SSLContext | None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if context is not None:
        sock = context.wrap_socket(
            sock, server_hostname="localhost", do_handshake_on_connect=False
        )
    sock.close()
    return "socket closed"


def main():
    print(nested())
    print(tls_socket(None))
    print(tls_socket(ssl.create_default_context()))
    Conn().reset()
    Conn().close()
    Reader().reset()
    Reader().close()


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_context_var_and_sockets_made_outside_reach_no_project_method() {
    let out = support::equivalent_main(OUTSIDE_OBJECTS);
    has(
        &out,
        &[
            "        DEPTH.reset(token)\n",
            "    sock.close()\n",
            "    await Conn().reset()",
            "    await Reader().close()",
        ],
    );
    lacks(&out, &["async def tls_socket", "async def nested"]);
    assert_eq!(out.matches("    async def ").count(), 4, "{out}");
    lacks(&reported(OUTSIDE_OBJECTS), &["of unknown type"]);
}

#[test]
fn an_outside_class_a_project_class_derives_from_pins() {
    // `context` may be a project subclass, whose `wrap_socket` returns what it likes.
    let spec = OUTSIDE_OBJECTS.replace(
        "DEPTH: contextvars",
        "class Wrapping(ssl.SSLContext):\n    pass\n\n\nDEPTH: contextvars",
    );
    support::pinned_method(&spec, "close");
}

#[test]
fn an_outside_class_that_calls_back_pins() {
    // `ExitStack.close()` calls the exits it was given: not one of the known classes.
    let spec = OUTSIDE_OBJECTS.replace(
        "def main():\n",
        "def stacked():\n    import contextlib\n    stack = contextlib.ExitStack()\n    stack.close()\n\n\ndef main():\n    stacked()\n",
    );
    support::pinned_method(&spec, "close");
}
