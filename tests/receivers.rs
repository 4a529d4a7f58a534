//! Receivers typed the way a type checker types them: stdlib values that hold no project
//! object, annotations (`Optional[X]`, `X | None`, unions, forward references, generics,
//! `TYPE_CHECKING` imports), attributes (class-level annotations, dataclass and NamedTuple
//! fields, `self.x: T = ...`, properties) and expressions (`A() if b is None else b`,
//! `x or Default()`, annotated returns, `with ... as x`, `super(C, self)`).
//!
//! Each fixture has two project classes with a blocking `send` (or `error`), so the method
//! name alone says nothing: a receiver awaitify cannot type pins both sync, a typed one
//! lets both convert. The negatives keep the pin.

mod support;

use support::{has, lacks, reported};

use support::fixture_after as after;

/// Two classes with a blocking `send`, then `body`.
fn with_conns(body: &str) -> String {
    format!(
        r#"#- main.py
import time


class Conn:
    def send(self, x):
        time.sleep(0.01)
        return x


class Store:
    def send(self, x):
        time.sleep(0.01)
        return x

{body}"#
    )
}

/// Both `send`s became async: nothing pinned them.
#[track_caller]
fn both_converted(spec: &str) {
    let out = after(spec);
    assert_eq!(
        out.matches("    async def send(self, x):\n        await asyncio.sleep(0.01)")
            .count(),
        2,
        "{out}"
    );
    lacks(&reported(spec), &["of unknown type"]);
}

/// Some receiver stayed unknown: both `send`s stay sync.
#[track_caller]
fn both_pinned(spec: &str) {
    let out = after(spec);
    lacks(&out, &["async def send"]);
    has(
        &reported(spec),
        &["`.send()` is called on a value of unknown type"],
    );
}

// ---- 1. stdlib and third-party receivers -------------------------------------------------

const LOGGERS: &str = r#"#- main.py
import logging
import re
import time


class Reporter:
    def error(self, msg):
        time.sleep(0.01)
        return "reported " + msg

    def match(self, text):
        time.sleep(0.01)
        return text


class Mailer:
    def error(self, msg):
        time.sleep(0.01)
        return "mailed " + msg

    def match(self, text):
        time.sleep(0.01)
        return text


class Job:
    log: logging.Logger

    def __init__(self, pattern: "re.Pattern[str]"):
        self.adapter = logging.LoggerAdapter(logging.getLogger("job"), {})
        self.pattern = pattern

    def run(self, log: logging.Logger):
        self.log.error("a")
        self.adapter.error("b")
        log.error("c")
        self.pattern.match("aaa")
        return Reporter().error("x") + Mailer().error("y")


def main(job: Job, log):
    return job.run(log)
"#;

#[test]
fn stdlib_receivers_are_not_project_objects() {
    let out = after(LOGGERS);
    has(
        &out,
        &[
            "class Reporter:\n    async def error(self, msg):",
            "class Mailer:\n    async def error(self, msg):",
            "        self.log.error(\"a\")\n        self.adapter.error(\"b\")\n        log.error(\"c\")\n        self.pattern.match(\"aaa\")",
        ],
    );
    let r = reported(LOGGERS);
    lacks(&r, &["of unknown type", "unresolved-call"]);
}

#[test]
fn an_unannotated_logger_parameter_still_pins() {
    let spec = LOGGERS.replace("def run(self, log: logging.Logger):", "def run(self, log):");
    lacks(&after(&spec), &["async def error"]);
    has(
        &reported(&spec),
        &["`.error()` is called on a value of unknown type"],
    );
}

#[test]
fn a_project_subclass_of_the_stdlib_class_keeps_the_annotation_vague() {
    // `log: logging.Logger` may then be a project object.
    let spec = LOGGERS.replace(
        "class Job:",
        "class MyLogger(logging.Logger):\n    pass\n\n\nclass Job:",
    );
    lacks(&after(&spec), &["async def error"]);
}

// ---- 2. annotations ------------------------------------------------------------------------

#[test]
fn optional_union_and_none_unions_type_a_parameter() {
    for ann in [
        "Conn",
        "Optional[Conn]",
        "Conn | None",
        "\"Union[Conn, None]\"",
        "'Conn'",
        "Optional['Conn']",
        "typing.Optional[Conn]",
    ] {
        both_converted(&with_conns(&format!(
            "import typing
from typing import Optional, Union


def use(c: {ann}, s: Store):
    return c.send(1), s.send(2)
"
        )));
    }
}

#[test]
fn a_union_of_two_project_classes_pins() {
    both_pinned(&with_conns(
        "from typing import Union


def use(c: Union[Conn, Store]):
    return c.send(1)
",
    ));
    both_pinned(&with_conns(
        "def use(c: Conn | int, s: Store):
    return c.send(1), s.send(2)
",
    ));
}

/// `A | B` where both derive from one project class (pymongo's `bwc: _BulkWriteContext |
/// _EncryptedBulkWriteContext`): an instance of that base, whose `send` resolves with its
/// overrides; `Store.send` is not reached.
const UNION_OF_A_FAMILY: &str = r#"#- main.py
import time


class Conn:
    def send(self, x):
        time.sleep(0.01)
        return x


class Secure(Conn):
    def send(self, x):
        time.sleep(0.01)
        return "secure " + x


class Pooled(Conn):
    pass


class Store:
    def send(self, x):
        return "stored " + x


def use(c: Secure | Pooled, x):
    return c.send(x)


def main():
    print(use(Secure(), "a"), use(Pooled(), "b"), Store().send("c"))


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_union_of_subclasses_of_one_project_class_types_a_parameter() {
    let tree = support::assert_equivalent(UNION_OF_A_FAMILY, &["main.py"], Default::default());
    has(
        &tree["main.py"],
        &[
            "async def use(c: Secure | Pooled, x):\n    return await c.send(x)",
            "    def send(self, x):\n        return \"stored \" + x",
        ],
    );
    lacks(&reported(UNION_OF_A_FAMILY), &["of unknown type"]);
}

#[test]
fn generics_type_their_elements() {
    for (ann, body) in [
        ("list[Conn]", "for c in cs:\n        c.send(1)"),
        ("typing.List[Conn]", "return [c.send(1) for c in cs]"),
        ("set[Conn]", "for c in cs:\n        c.send(1)"),
        ("tuple[Conn, ...]", "return cs[0].send(1)"),
    ] {
        both_converted(&with_conns(&format!(
            "import typing


def use(cs: {ann}, s: Store):
    {body}
    return s.send(2)
"
        )));
    }
}

/// `Iterator[X]` may be a project iterator: its `__next__` decides the loop, not `X`.
const PROJECT_ITERATOR: &str = r#"#- main.py
import time
from typing import Iterator


class Conn:
    def send(self, x):
        return "sent " + x


class Feed:
    def __init__(self):
        self.left = 2

    def __iter__(self):
        return self

    def __next__(self):
        time.sleep(0.01)
        if not self.left:
            raise StopIteration
        self.left -= 1
        return Conn()


def each(it: Iterator[Conn]):
    for c in it:
        print(c.send(str(it.left)))


def main():
    each(Feed())


if __name__ == "__main__":
    main()
"#;

#[test]
fn an_abstract_iterator_annotation_does_not_hide_a_project_iterator() {
    support::assert_equivalent(PROJECT_ITERATOR, &["main.py"], Default::default());
    let spec = PROJECT_ITERATOR.replace("each(Feed())", "each(iter({\"Feed\": Feed}[\"Feed\"]()))");
    lacks(&after(&spec), &["async def __anext__"]);
}

#[test]
fn a_generic_project_class_is_that_class() {
    both_converted(&with_conns(
        "from typing import Any, Generic, TypeVar

T = TypeVar(\"T\")


class Box(Generic[T]):
    def __init__(self, c: Conn):
        self.c = c

    def get(self) -> Conn:
        return self.c


def use(b: \"Box[Any]\", s: Store):
    return b.get().send(1), s.send(2)
",
    ));
}

#[test]
fn a_name_imported_under_type_checking_types_a_parameter() {
    let spec = r#"#- app/__init__.py
#- app/conn.py
import time


class Conn:
    def send(self, x):
        time.sleep(0.01)
        return x
#- app/store.py
from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.conn import Conn


class Store:
    def send(self, x):
        time.sleep(0.01)
        return x


def use(c: Conn, s: "Store"):
    return c.send(1), s.send(2)
"#;
    let out = after(spec);
    assert_eq!(
        out.matches("    async def send(self, x):").count(),
        2,
        "{out}"
    );
    has(&out, &["async def use(c: Conn, s: \"Store\"):"]);
    lacks(&reported(spec), &["of unknown type"]);
}

/// An annotated program, run before and after.
const ANNOTATED_RUN: &str = r#"#- main.py
import time
from typing import Iterator, Optional, Union


class Conn:
    def send(self, x):
        time.sleep(0.01)
        return "conn " + x


class Store:
    def send(self, x):
        time.sleep(0.01)
        return "store " + x


def first(c: Optional[Conn], s: "Union[Store, None]"):
    return c.send("a") + ", " + s.send("b")


def each(cs: "list[Conn]") -> Iterator[str]:
    return iter([c.send("e") for c in cs])


def main(objs):
    print(first(objs[0], objs[1]))
    print(list(each([objs[0], objs[0]])))


if __name__ == "__main__":
    main([Conn(), Store()])
"#;

#[test]
fn an_annotated_program_runs_the_same_after_migration() {
    let tree = support::assert_equivalent(ANNOTATED_RUN, &["main.py"], Default::default());
    has(
        &tree["main.py"],
        &[
            "async def first(",
            "return await c.send(\"a\") + \", \" + await s.send(\"b\")",
        ],
    );
}

// ---- 3. attributes -------------------------------------------------------------------------

#[test]
fn class_level_annotations_and_fields_type_attributes() {
    both_converted(&with_conns(
        "import dataclasses
from typing import NamedTuple, Optional


class Client:
    backup: Optional[Conn] = None


@dataclasses.dataclass
class Pair:
    conn: Conn
    store: \"Store\"


class Row(NamedTuple):
    conn: Conn


def use(client: Client, pair: Pair, row: Row):
    return client.backup.send(1), pair.conn.send(2), pair.store.send(3), row.conn.send(4)
",
    ));
}

#[test]
fn an_annotated_attribute_assignment_types_the_attribute() {
    both_converted(&with_conns(
        "class Client:
    def __init__(self, conn, store):
        self.conn: Conn = conn
        self.store: \"Store | None\" = store

    def use(self):
        return self.conn.send(1), self.store.send(2)
",
    ));
}

#[test]
fn a_property_is_typed_by_its_annotation_or_its_return() {
    both_converted(&with_conns(
        "import functools


class Client:
    def __init__(self):
        self._store = Store()

    @property
    def conn(self) -> Conn:
        return self._conn()

    def _conn(self):
        return {\"Conn\": Conn}[\"Conn\"]()

    @functools.cached_property
    def store(self):
        return self._store

    def use(self):
        return self.conn.send(1), self.store.send(2)
",
    ));
}

#[test]
fn a_property_of_unknown_type_pins() {
    both_pinned(&with_conns(
        "class Client:
    def __init__(self, conn):
        self._conn = conn

    @property
    def conn(self):
        return self._conn

    def use(self):
        return self.conn.send(1)
",
    ));
}

// ---- 4. expressions ------------------------------------------------------------------------

#[test]
fn a_conditional_or_an_or_with_a_default_has_the_kind_of_both_sides() {
    both_converted(&with_conns(
        "class Client:
    def __init__(self, conn: \"Conn | None\" = None, store: \"Store | None\" = None):
        self.conn = Conn() if conn is None else conn
        self.store = store or Store()

    def use(self):
        return self.conn.send(1), self.store.send(2)
",
    ));
}

#[test]
fn a_conditional_of_two_classes_pins() {
    both_pinned(&with_conns(
        "def use(flag):
    c = Conn() if flag else Store()
    return c.send(1)
",
    ));
    both_pinned(&with_conns(
        "def use(c):
    c = c or Conn()
    return c.send(1)
",
    ));
}

#[test]
fn annotated_returns_and_enter_type_their_results() {
    both_converted(&with_conns(
        "def make() -> Conn:
    return {\"Conn\": Conn}[\"Conn\"]()


class Opened:
    def __enter__(self) -> \"Store\":
        return {\"Store\": Store}[\"Store\"]()

    def __exit__(self, *exc):
        return False


def use():
    with Opened() as s:
        return make().send(1), s.send(2)
",
    ));
}

#[test]
fn super_with_a_class_argument_skips_past_that_class() {
    let spec = r#"#- main.py
import time


class Base:
    def send(self, x):
        time.sleep(0.01)
        return "base " + x


class Mid(Base):
    def send(self, x):
        return "mid " + x


class Leaf(Mid):
    def send(self, x):
        return super(Mid, self).send(x)


def main():
    print(Leaf().send("a"), Mid().send("b"))


if __name__ == "__main__":
    main()
"#;
    let tree = support::assert_equivalent(spec, &["main.py"], Default::default());
    has(
        &tree["main.py"],
        &[
            "class Base:\n    async def send(self, x):",
            "return await super(Mid, self).send(x)",
        ],
    );
}

/// The expression forms, run before and after.
const EXPRESSIONS_RUN: &str = r#"#- main.py
import time


class Conn:
    def send(self, x):
        time.sleep(0.01)
        return "conn " + x


class Store:
    def send(self, x):
        time.sleep(0.01)
        return "store " + x


class Client:
    def __init__(self, conn: "Conn | None" = None, store: "Store | None" = None):
        self.conn = Conn() if conn is None else conn
        self.store = store or Store()

    @property
    def main_store(self) -> Store:
        return self.store


def make() -> Conn:
    return Client().conn


def main():
    c = Client()
    print(c.conn.send("a"), c.main_store.send("b"), make().send("c"))


if __name__ == "__main__":
    main()
"#;

#[test]
fn the_expression_forms_run_the_same_after_migration() {
    let tree = support::assert_equivalent(EXPRESSIONS_RUN, &["main.py"], Default::default());
    has(
        &tree["main.py"],
        &["await c.conn.send(\"a\"), await c.main_store.send(\"b\"), await make().send(\"c\")"],
    );
}

#[test]
fn a_chained_assignment_and_a_called_class_object_type_their_values() {
    both_converted(&with_conns(
        "from typing import Type


class Client:
    def __init__(self, factory: Type[Store]):
        self.conn = conn = Conn()
        self.store = factory()
        self.first = conn

    @classmethod
    def make(cls):
        return cls(Store)

    def use(self):
        c = self.first
        return self.conn.send(1), self.store.send(2), Client.make().conn.send(3), c.send(4)
",
    ));
}

// ---- 4. attributes a subclass assigns -------------------------------------------------------

/// `Base.read` calls `self.src.get()`, and the object may be a `Child`, whose `src` is a
/// `Slow`: typed from `Base`'s own assignment alone, `Slow.get` became async and `read`
/// called it without `await`. The subclass's assignment makes the receiver unknown, which
/// pins `get` sync; `pause` still converts.
const SUBCLASS_ATTR_RUN: &str = r#"#- main.py
import time


class Fast:
    def get(self):
        return 1


class Slow:
    def get(self):
        time.sleep(0.01)
        return 2


class Base:
    def __init__(self):
        self.src = Fast()

    def read(self):
        return self.src.get()


class Child(Base):
    def __init__(self):
        self.src = Slow()


def pause():
    time.sleep(0.01)


def main():
    pause()
    print(Child().read())
    print(Base().read())


if __name__ == "__main__":
    main()
"#;

#[test]
fn an_attribute_a_subclass_assigns_another_class_runs_the_same_after_migration() {
    let tree = support::assert_equivalent(SUBCLASS_ATTR_RUN, &["main.py"], Default::default());
    has(
        &tree["main.py"],
        &["async def pause():", "        return self.src.get()\n"],
    );
    lacks(&tree["main.py"], &["async def get", "async def read"]);
}

#[test]
fn an_attribute_a_subclass_assigns_the_same_class_keeps_its_type() {
    let spec = SUBCLASS_ATTR_RUN.replace(
        "class Base:\n    def __init__(self):\n        self.src = Fast()",
        "class Base:\n    def __init__(self):\n        self.src = Slow()",
    );
    let tree = support::assert_equivalent(&spec, &["main.py"], Default::default());
    has(
        &tree["main.py"],
        &[
            "    async def get(self):\n        await asyncio.sleep(0.01)",
            "    async def read(self):\n        return await self.src.get()",
            "print(await Child().read())",
        ],
    );
}

#[test]
fn a_subclass_field_or_assignment_of_another_kind_pins() {
    // A field a dataclass subclass declares, an assignment of unknown kind in a subclass, and
    // one in a sibling's mixin base (an object typed `Base` may be a `Both`).
    both_pinned(&with_conns(
        "import dataclasses


@dataclasses.dataclass
class Holder:
    conn: Conn

    def use(self):
        return self.conn.send(1)


@dataclasses.dataclass
class StoreHolder(Holder):
    conn: Store
",
    ));
    both_pinned(&with_conns(
        "class Base:
    def __init__(self):
        self.conn = Conn()

    def use(self):
        return self.conn.send(1) + Store().send(2)


class Child(Base):
    def __init__(self, conn):
        self.conn = conn
",
    ));
    both_pinned(&with_conns(
        "class Base:
    def __init__(self):
        self.conn = Conn()

    def use(self):
        return self.conn.send(1) + Store().send(2)


class Mixin:
    def setup(self):
        self.conn = Store()


class Both(Base, Mixin):
    pass
",
    ));
}

#[test]
fn an_attribute_only_a_subclass_assigns_and_its_declared_kind_elsewhere() {
    // Only the subclass assigns it: a plain `Base`'s `conn` comes from somewhere unseen.
    both_pinned(&with_conns(
        "class Base:
    def use(self):
        return self.conn.send(1) + Store().send(2)


class Child(Base):
    def __init__(self):
        self.conn = Conn()
",
    ));
    // A declaration in the base and an assignment of unknown kind in a subclass: the
    // declaration holds, as a type checker has it.
    both_converted(&with_conns(
        "class Base:
    conn: Conn

    def use(self):
        return self.conn.send(1) + Store().send(2)


class Child(Base):
    def __init__(self, conn):
        self.conn = conn
",
    ));
}

// ---- 5. a declared attribute type is the contract ------------------------------------------

/// `effective` is declared `Mode` in a method (`self.effective: Mode = ...`) and assigned a
/// `Primary` (a subclass) and a `Mode` elsewhere: every value conforms to the declaration, so
/// `self.effective.select()` reaches the `Mode.select` family (which holds `Primary.select`),
/// not any `select` of the project. The `__getattr__` proxy reads only that family too, so
/// `Other.fetch` converts.
const DECLARED_ATTR_RUN: &str = r#"#- main.py
import time


class Mode:
    def __init__(self, name):
        self.name = name

    def select(self, x):
        time.sleep(0.01)
        return self.name + ":" + x


class Primary(Mode):
    def select(self, x):
        time.sleep(0.01)
        return "primary:" + x


class Other:
    def select(self, x):
        time.sleep(0.01)
        return "other:" + x

    def fetch(self):
        time.sleep(0.01)
        return "fetched"


class Agg:
    def __init__(self, pref: Mode):
        self.pref = pref
        self.effective: Mode = Primary("p")

    def hook(self, flag):
        if flag:
            self.effective = Primary("q")
        else:
            self.effective = self.pref

    def pick(self, x):
        return self.effective.select(x)


class Proxy(Agg):
    def __getattr__(self, name):
        return getattr(self.effective, name)


def main():
    a = Agg(Mode("m"))
    print(a.pick("x"))
    a.hook(False)
    print(a.pick("y"))
    print(Other().select("z"), Other().fetch())
    print(Proxy(Mode("n")).name)


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_declared_attribute_holds_subclass_instances_of_its_type() {
    let spec = DECLARED_ATTR_RUN.replace(
        "class Proxy(Agg):\n    def __getattr__(self, name):\n        return getattr(self.effective, name)\n",
        "class Proxy(Agg):\n    pass\n",
    )
    .replace(".name)\n", ".pick(\"w\"))\n");
    let tree = support::assert_equivalent(&spec, &["main.py"], Default::default());
    has(
        &tree["main.py"],
        &[
            "    async def pick(self, x):\n        return await self.effective.select(x)",
            "class Primary(Mode):\n    async def select(self, x):",
            "print(await a.pick(\"x\"))",
        ],
    );
    lacks(&reported(&spec), &["of unknown type"]);
}

/// A `__getattr__` that reads another name than the one asked for (`name.lower()`) is no
/// exact proxy (`tests/receiver_proxies.rs`): its `getattr` may return any `Mode` method.
#[test]
fn a_getattr_proxy_on_a_declared_attribute_reads_only_its_family() {
    let spec = DECLARED_ATTR_RUN.replace(
        "getattr(self.effective, name)",
        "getattr(self.effective, name.lower())",
    );
    let tree = support::assert_equivalent(&spec, &["main.py"], Default::default());
    let out = &tree["main.py"];
    has(
        out,
        &["    async def fetch(self):", "    def pick(self, x):"],
    );
    lacks(
        out,
        &[
            "async def select(self, x):\n        await asyncio.sleep(0.01)\n        return self.name",
        ],
    );
    has(
        &reported(&spec),
        &[
            "`getattr` at main.py:46 reads a name awaitify cannot know, and may return `Mode.select`",
        ],
    );
    lacks(&reported(&spec), &["may return `Other.fetch`"]);
}

/// The exact proxy (`return getattr(self.effective, name)`) pins nothing: every read through
/// it resolves on `Mode`, and none calls a method.
#[test]
fn an_exact_getattr_proxy_on_a_declared_attribute_pins_nothing() {
    let tree = support::assert_equivalent(DECLARED_ATTR_RUN, &["main.py"], Default::default());
    has(
        &tree["main.py"],
        &[
            "    async def pick(self, x):\n        return await self.effective.select(x)",
            "    def __getattr__(self, name):",
        ],
    );
    lacks(
        &reported(DECLARED_ATTR_RUN),
        &["reads a name awaitify cannot know"],
    );
}

#[test]
fn an_assignment_that_breaks_the_declaration_leaves_the_attribute_unknown() {
    // `Other` is no `Mode`: whatever the declaration says, `effective` may hold one, so the
    // receiver is unknown and every `select` stays sync. Two more assignments of known kinds
    // make sure the breaking one is not lost among them.
    let spec = DECLARED_ATTR_RUN.replace(
        "            self.effective = Primary(\"q\")",
        "            self.effective = Other()",
    );
    let out = after(&spec);
    lacks(&out, &["async def select", "async def pick"]);
    has(
        &reported(&spec),
        &["`.select()` is called on a value of unknown type"],
    );
    // The same in the class body.
    let spec = spec
        .replace(
            "        self.effective: Mode = Primary(\"p\")",
            "        self.effective = Primary(\"p\")",
        )
        .replace("class Agg:\n", "class Agg:\n    effective: Mode\n\n");
    lacks(&after(&spec), &["async def select", "async def pick"]);
}

#[test]
fn a_declaration_in_a_method_makes_an_assignment_of_unknown_kind_conform() {
    both_converted(&with_conns(
        "def make():
    return {\"c\": Conn}[\"c\"]()


class Client:
    def __init__(self):
        self.conn: Conn = Conn()

    def reset(self):
        self.conn = make()

    def use(self):
        return self.conn.send(1) + Store().send(2)
",
    ));
}

// ---- 6. calls into standard-library modules of plain values --------------------------------

/// `decimal.localcontext(...)` and `textwrap.TextWrapper(...)` return objects of their own
/// modules: the `with` enters no project `__enter__`, and `.wrap()` is the stdlib's, not
/// `Pipeline.wrap` (which the name alone would have picked, and awaited).
const VALUE_MODULES_RUN: &str = r#"#- main.py
import decimal
import textwrap
import time

CTX = decimal.Context(prec=4)


class Session:
    def __enter__(self):
        time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        time.sleep(0.01)
        return False

    def fetch(self):
        time.sleep(0.01)
        return "fetched"


class Pipeline:
    def wrap(self, x):
        time.sleep(0.01)
        return "[" + x + "]"


def rounded(x):
    with decimal.localcontext(CTX) as ctx:
        return str(ctx.create_decimal(x))


def lines(text):
    return textwrap.TextWrapper(width=8).wrap(text)


def main():
    print(rounded("1.234567"), lines("hello big world"))
    with Session() as s:
        print(s.fetch(), Pipeline().wrap("p"))


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_value_module_call_returns_no_project_object() {
    let tree = support::assert_equivalent(VALUE_MODULES_RUN, &["main.py"], Default::default());
    let out = &tree["main.py"];
    has(
        out,
        &[
            "    async def __aenter__(self):",
            "    async with Session() as s:",
            "def rounded(x):\n    with decimal.localcontext(CTX) as ctx:",
            "def lines(text):\n    return textwrap.TextWrapper(width=8).wrap(text)",
            "await Pipeline().wrap(\"p\")",
        ],
    );
    lacks(&reported(VALUE_MODULES_RUN), &["of unknown type"]);
}

#[test]
fn a_value_module_a_project_class_derives_from_or_another_module_says_nothing() {
    // A project `decimal.Context` may be what `localcontext` copies and enters.
    let derived = VALUE_MODULES_RUN.replace(
        "class Pipeline:",
        "class Precise(decimal.Context):\n    pass\n\n\nclass Pipeline:",
    );
    // `ExitStack.__exit__` calls whatever was pushed on it.
    let stack = VALUE_MODULES_RUN
        .replace("import decimal\n", "import contextlib\nimport decimal\n")
        .replace(
            "    with decimal.localcontext(CTX) as ctx:",
            "    with contextlib.ExitStack():\n        ctx = decimal.Context(prec=4)",
        );
    for spec in [derived, stack] {
        lacks(&after(&spec), &["__aenter__", "async with"]);
        has(
            &reported(&spec),
            &[
                "a `with` enters a value of unknown type at main.py:",
                "which may reach `Session.__enter__`",
            ],
        );
    }
}
