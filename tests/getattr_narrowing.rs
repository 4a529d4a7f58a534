//! `getattr(obj, name)` with an object and a name awaitify cannot know may return any method
//! or module-level function of the project, so each of them stays sync. These are the forms
//! where less is possible, each kept sound: the functions it can still return stay sync, the
//! others convert, and the program does the same before and after.

mod support;

use support::{has, lacks, reported};

use support::fixture_after as after;

fn equivalent(spec: &str) {
    support::assert_equivalent(spec, &["main.py"], support::Equiv::default());
}

/// The value is only tested: no function is called through it.
const TESTED_ONLY: &str = r#"#- main.py
import time


class Options:
    verbose = True


def fetch():
    time.sleep(0.01)
    return "data"


def enabled(options, flag):
    if getattr(options, flag, False) and flag != "quiet":
        return True
    return getattr(options, flag, None) is not None or callable(getattr(options, flag, None))


def main():
    print(enabled(Options(), "verbose"), enabled(Options(), "quiet"), fetch())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_getattr_whose_value_is_only_tested_pins_nothing() {
    has(
        &after(TESTED_ONLY),
        &[
            "async def fetch():",
            "async def main():",
            "asyncio.run(main())",
        ],
    );
    equivalent(TESTED_ONLY);
}

/// The name is one of the loop's literals.
const LOOP_OF_LITERALS: &str = r#"#- main.py
import time


class Store:
    def load(self):
        time.sleep(0.01)
        return "loaded"

    def save(self):
        time.sleep(0.01)
        return "saved"

    def fetch(self):
        time.sleep(0.01)
        return "fetched"


def run_all(obj):
    out = []
    for name in ("load", "save"):
        out.append(getattr(obj, name)())
    return out


def main():
    s = Store()
    print(run_all(s), s.fetch())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_loop_over_string_literals_pins_only_those_names() {
    let out = after(LOOP_OF_LITERALS);
    has(
        &out,
        &[
            "    def load(self):\n        time.sleep(0.01)",
            "    def save(self):\n        time.sleep(0.01)",
            "    async def fetch(self):",
        ],
    );
    has(
        &reported(LOOP_OF_LITERALS),
        &["`getattr` at main.py:21 reads `load`, and may return `Store.load`"],
    );
    equivalent(LOOP_OF_LITERALS);
}

#[test]
fn a_loop_variable_assigned_again_in_the_loop_may_be_any_name() {
    let spec = LOOP_OF_LITERALS.replace(
        "        out.append(getattr(obj, name)())",
        "        name = name.upper().lower()\n        out.append(getattr(obj, name)())",
    );
    has(
        &reported(&spec),
        &["reads a name awaitify cannot know, and may return `Store.fetch`"],
    );
    assert!(!after(&spec).contains("async def fetch"));
}

#[test]
fn a_parametrized_test_pins_only_its_parameter_values() {
    let spec = r#"#- app.py
import time


class Table:
    def insert(self, row):
        time.sleep(0)
        return row

    def upsert(self, row):
        time.sleep(0)
        return row

    def count(self):
        time.sleep(0)
        return 0
#- test_app.py
import pytest

from app import Table


@pytest.mark.parametrize("method_name", ("insert", "upsert"))
def test_methods(method_name):
    method = getattr(Table(), method_name)
    assert method({"id": 1}) == {"id": 1}


@pytest.mark.parametrize("n, other", [(1, "count"), (2, "count")])
def test_count(n, other):
    assert getattr(Table(), other)() == 0
"#;
    let out = after(spec);
    has(
        &out,
        &[
            "    def insert(self, row):\n        time.sleep(0)",
            "    def upsert(self, row):\n        time.sleep(0)",
            "    def count(self):\n        time.sleep(0)",
        ],
    );
    let reported = reported(spec);
    has(
        &reported,
        &[
            "reads `insert`, and may return `Table.insert`",
            "reads `upsert`, and may return `Table.upsert`",
            "reads `count`, and may return `Table.count`",
        ],
    );
    assert!(!reported.contains("cannot know"), "{reported}");
}

/// The object is annotated with a class outside the project.
const ANNOTATED: &str = r#"#- main.py
import argparse
import time


def fetch():
    time.sleep(0.01)
    return "data"


def read(options: argparse.Namespace, name):
    return getattr(options, name)


def main():
    ns = argparse.Namespace(x=1)
    print(read(ns, "x"), fetch())


if __name__ == "__main__":
    main()
"#;

#[test]
fn an_object_annotated_with_an_outside_class_holds_no_project_function() {
    has(&after(ANNOTATED), &["async def fetch():", "await fetch()"]);
    equivalent(ANNOTATED);
}

#[test]
fn an_outside_class_that_a_project_class_derives_from_says_nothing() {
    let spec = ANNOTATED.replace(
        "def fetch():",
        "class Options(argparse.Namespace):\n    pass\n\n\ndef fetch():",
    );
    has(
        &reported(&spec),
        &["reads a name awaitify cannot know, and may return `fetch`"],
    );
    assert!(!after(&spec).contains("async def fetch"));
}

#[test]
fn a_getattr_value_that_is_kept_may_be_any_function() {
    let spec = r#"#- main.py
import time


def fetch():
    time.sleep(0.01)
    return "data"


def handler_for(options, flag):
    handler = getattr(options, flag, None)
    if handler is not None:
        return handler
    return fetch()
"#;
    has(
        &reported(spec),
        &["reads a name awaitify cannot know, and may return `fetch`"],
    );
    assert!(!after(spec).contains("async def fetch"));
}

/// A module-level helper bound as a method in class bodies (`__getstate__ = _state`): its
/// first parameter is an instance of those classes, so `getattr(self, name)` there can only
/// return their methods. `Client.fetch` converts; `Point`'s methods stay sync.
const CLASS_BOUND_HELPER: &str = r#"#- main.py
import copy
import time


def _state(self):
    return {name: getattr(self, name) for name in self.__slots__}


def _restore(self, state):
    for name, value in state.items():
        setattr(self, name, value)


class Point:
    __slots__ = ("x", "y")
    __getstate__ = _state
    __setstate__ = _restore

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm(self):
        return abs(self.x) + abs(self.y)


class Client:
    def fetch(self):
        time.sleep(0.01)
        return "data"


def main():
    p = copy.deepcopy(Point(3, -4))
    print(p.norm(), Client().fetch())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_helper_bound_in_class_bodies_reads_only_those_classes() {
    let out = after(CLASS_BOUND_HELPER);
    has(
        &out,
        &[
            "    async def fetch(self):",
            "    def norm(self):",
            "    print(p.norm(), await Client().fetch())",
        ],
    );
    equivalent(CLASS_BOUND_HELPER);
}

#[test]
fn a_class_bound_helper_that_is_also_called_reads_any_object() {
    let spec = CLASS_BOUND_HELPER.replace(
        "    p = copy.deepcopy(Point(3, -4))",
        "    p = copy.deepcopy(Point(3, -4))\n    _state(p)",
    );
    has(
        &reported(&spec),
        &["reads a name awaitify cannot know, and may return `Client.fetch`"],
    );
    assert!(!after(&spec).contains("async def fetch"));
}

/// `getattr(importlib.import_module(path), name)` (a lazy loader) can return a module-level
/// function or class, never a method: `Client.fetch` and `App.run` convert, `helper` stays
/// sync.
const LAZY_LOADER: &str = r#"#- pkg/__init__.py
import importlib


def load(module, name):
    mod = importlib.import_module("pkg." + module)
    return getattr(mod, name)
#- pkg/tools.py
import time


def helper():
    time.sleep(0.01)
    return "helped"
#- main.py
import time

from pkg import load


class Client:
    def fetch(self):
        time.sleep(0.01)
        return "data"


class App:
    def run(self):
        print(load("tools", "helper")(), Client().fetch())


if __name__ == "__main__":
    App().run()
"#;

#[test]
fn a_module_imported_at_run_time_returns_no_method() {
    let out = after(LAZY_LOADER);
    has(
        &out,
        &[
            "    async def fetch(self):",
            "\ndef helper():\n    time.sleep(0.01)",
        ],
    );
    has(
        &reported(LAZY_LOADER),
        &["reads a name awaitify cannot know, and may return `helper`"],
    );
    equivalent(LAZY_LOADER);
}

/// A private helper whose every call passes a string literal for the name:
/// `self._option("timeout")`. Only the functions so named stay sync.
const PARAM_LITERALS: &str = r#"#- main.py
import time


class Defaults:
    def timeout(self):
        return 5

    def retries(self):
        return 2

    def load(self):
        time.sleep(0.01)
        return "loaded"


class Client:
    def __init__(self):
        self.defaults = Defaults()

    def _option(self, name, value=None):
        if value:
            return value
        return getattr(self.defaults, name)()

    def fetch(self):
        time.sleep(0.01)
        return "data", self._option("timeout"), self._option(name="retries", value=3)


class App:
    def run(self):
        print(Client().fetch(), Defaults().load())


if __name__ == "__main__":
    App().run()
"#;

#[test]
fn a_private_helpers_name_parameter_is_what_its_calls_pass() {
    let out = after(PARAM_LITERALS);
    has(
        &out,
        &[
            "    async def fetch(self):",
            "    async def load(self):",
            "    def timeout(self):",
        ],
    );
    equivalent(PARAM_LITERALS);
}

#[test]
fn a_private_helper_called_with_a_variable_name_reads_any_name() {
    let spec = PARAM_LITERALS.replace(
        "        print(Client().fetch(), Defaults().load())",
        "        key = \"timeout\"\n        print(Client().fetch(), Defaults().load(), Client()._option(key))",
    );
    has(
        &reported(&spec),
        &["reads a name awaitify cannot know, and may return `Defaults.load`"],
    );
    assert!(!after(&spec).contains("async def load"));
}

/// The value is kept in a local whose every use is inert: an `isinstance` test, a
/// non-dunder attribute read (`value.to_dict()`), formatting. No function read by the
/// `getattr` is called through it (huggingface_hub's `cli/_output.py`).
const INERT_LOCAL: &str = r#"#- main.py
import dataclasses
import time


class Card:
    def to_dict(self):
        return {"card": True}


@dataclasses.dataclass
class Info:
    name: str
    card: Card


@dataclasses.dataclass
class Tag:
    label: str


def fetch():
    time.sleep(0.01)
    return "data"


def describe(info):
    out = {}
    for field in dataclasses.fields(info):
        value = getattr(info, field.name)
        if isinstance(value, Card):
            out[field.name] = value.to_dict()
        elif value is not None and len(str(value)) < 20:
            out[field.name] = f"{value!r}"
    return out


def main():
    print(describe(Info("x", Card())), describe(Tag("t")), fetch())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_getattr_value_kept_in_a_local_used_only_inertly_pins_nothing() {
    has(
        &after(INERT_LOCAL),
        &["async def fetch():", "async def main():"],
    );
    equivalent(INERT_LOCAL);
}

#[test]
fn a_getattr_local_that_is_called_or_handed_on_may_be_any_function() {
    for (old, new) in [
        (
            "out[field.name] = value.to_dict()",
            "out[field.name] = value()",
        ),
        (
            "out[field.name] = value.to_dict()",
            "out[field.name] = value.__call__()",
        ),
        (
            "out[field.name] = value.to_dict()",
            "out[field.name] = [value]",
        ),
        (
            "out[field.name] = value.to_dict()",
            "alias = value\n            alias()",
        ),
        ("    out = {}\n", "    global value\n    out = {}\n"),
        ("    out = {}\n", "    str = lambda v: v()\n    out = {}\n"),
    ] {
        let spec = INERT_LOCAL.replace(old, new);
        assert_ne!(spec, INERT_LOCAL);
        has(
            &reported(&spec),
            &["reads a name awaitify cannot know, and may return `fetch`"],
        );
        lacks(&after(&spec), &["async def fetch"]);
    }
}

/// A function nested in another is called only where it is visible: the literals those
/// calls pass are its names (huggingface_hub's `cli/jobs.py`, `def pick(key, cli_value)`).
const NESTED_PARAM_LITERALS: &str = r#"#- main.py
import time


class Header:
    image = "python:3.12"
    timeout = None


class Client:
    def fetch(self):
        time.sleep(0.01)
        return "data"


def options(header, image, timeout):
    def pick(key, cli_value):
        if cli_value is not None:
            return cli_value
        return getattr(header, key)

    return pick("image", image), pick("timeout", timeout)


def main():
    print(options(Header(), None, 5), options(object(), 1, 2), Client().fetch())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_nested_helpers_name_parameter_is_what_its_calls_pass() {
    has(
        &after(NESTED_PARAM_LITERALS),
        &["    async def fetch(self):", "async def main():"],
    );
    equivalent(NESTED_PARAM_LITERALS);
}

#[test]
fn a_nested_helper_used_as_a_value_reads_any_name() {
    let spec = NESTED_PARAM_LITERALS.replace(
        "    return pick(\"image\", image), pick(\"timeout\", timeout)",
        "    return pick(\"image\", image), pick",
    );
    has(
        &reported(&spec),
        &["reads a name awaitify cannot know, and may return `Client.fetch`"],
    );
    lacks(&after(&spec), &["async def fetch"]);
}

/// A namespace iterated for its names and formatted values: `self.__dict__.items()` in a
/// comprehension whose value is only formatted, `vars(obj).keys()` (huggingface_hub's
/// `dataclasses.py` `__repr__`). No function read from it is called.
const NAMESPACE_FORMATTED: &str = r#"#- main.py
import time


class Client:
    def fetch(self):
        time.sleep(0.01)
        return "data"


def described(cls):
    def __repr__(self):
        extra = [f"{k}={v!r}" for k, v in self.__dict__.items() if not k.startswith("_")]
        return f"{cls.__name__}({', '.join(extra)}, {sorted(vars(self).keys())})"

    cls.__repr__ = __repr__
    return cls


@described
class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def main():
    print(repr(Point(1, 2)), Client().fetch())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_namespace_read_for_names_and_formatted_values_pins_nothing() {
    has(
        &after(NAMESPACE_FORMATTED),
        &["    async def fetch(self):", "async def main():"],
    );
    equivalent(NAMESPACE_FORMATTED);
}

#[test]
fn a_namespace_value_that_is_called_may_be_any_function() {
    for (old, new) in [
        ("f\"{k}={v!r}\" for k, v", "f\"{k}={v()!r}\" for k, v"),
        (
            "f\"{k}={v!r}\" for k, v",
            "f\"{k}={v.__call__!r}\" for k, v",
        ),
        ("vars(self).keys()", "vars(self).values()"),
    ] {
        let spec = NAMESPACE_FORMATTED.replace(old, new);
        assert_ne!(spec, NAMESPACE_FORMATTED);
        lacks(&after(&spec), &["async def fetch"]);
    }
}

/// `if not name.startswith("validate_"): continue` opens the loop: the `getattr` after it
/// reads only names with that prefix (huggingface_hub's `dataclasses.py` class validators).
const PREFIX_GUARD: &str = r#"#- main.py
import time


class Client:
    def fetch(self):
        time.sleep(0.01)
        return "data"


class Form:
    def validate_name(self):
        return "name ok"

    def validate_size(self):
        return "size ok"


def run_validators(obj):
    out = []
    for name in dir(type(obj)):
        if not name.startswith("validate_"):
            continue
        out.append(getattr(obj, name)())
    return out


def main():
    print(run_validators(Form()), run_validators(Client()), Client().fetch())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_loop_skipping_names_without_a_prefix_reads_only_that_prefix() {
    has(
        &after(PREFIX_GUARD),
        &["    async def fetch(self):", "async def main():"],
    );
    equivalent(PREFIX_GUARD);
}

#[test]
fn a_prefix_guard_after_the_read_or_a_rebound_name_says_nothing() {
    for (old, new) in [
        (
            "        if not name.startswith(\"validate_\"):\n            continue\n        out.append(getattr(obj, name)())",
            "        out.append(getattr(obj, name)())\n        if not name.startswith(\"validate_\"):\n            continue",
        ),
        (
            "            continue\n        out.append(",
            "            continue\n        name = name.upper()\n        out.append(",
        ),
        (
            "            continue\n        out.append(getattr(obj, name)())",
            "            continue\n        out.append(lambda: getattr(obj, name)())",
        ),
    ] {
        let spec = PREFIX_GUARD.replace(old, new);
        assert_ne!(spec, PREFIX_GUARD);
        has(
            &reported(&spec),
            &["reads a name awaitify cannot know, and may return `Client.fetch`"],
        );
        lacks(&after(&spec), &["async def fetch"]);
    }
}

/// A namespace read at a literal key, iterated for its names, or indexed for a value that
/// is only formatted (huggingface_hub's `schema.__dict__.get("__annotations__", {})` and
/// `_repr_with_extra`).
const NAMESPACE_KEYS: &str = r#"#- main.py
import time


class Client:
    def fetch(self):
        time.sleep(0.01)
        return "data"


def _describe(self):
    names = [k for k in self.__dict__ if not k.startswith("_")]
    hints = type(self).__dict__.get("__annotations__", {})
    return ", ".join(f"{k}={self.__dict__[k]!r}" for k in names) + f" {sorted(hints)}"


class Point:
    x: int

    def __init__(self, x):
        self.x = x


def main():
    Point.__repr__ = _describe
    print(repr(Point(1)), Client().fetch())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_namespace_read_at_a_literal_key_or_for_formatted_values_pins_nothing() {
    has(
        &after(NAMESPACE_KEYS),
        &["    async def fetch(self):", "async def main():"],
    );
    equivalent(NAMESPACE_KEYS);
}

#[test]
fn a_namespace_value_read_at_any_key_and_kept_may_be_any_function() {
    for (old, new) in [
        ("{self.__dict__[k]!r}", "{self.__dict__[k]()!r}"),
        (
            "__dict__.get(\"__annotations__\", {})",
            "__dict__.get(names[0], {})",
        ),
        (
            "__dict__.get(\"__annotations__\", {})",
            "__dict__.get(\"fetch\", {})",
        ),
    ] {
        let spec = NAMESPACE_KEYS.replace(old, new);
        assert_ne!(spec, NAMESPACE_KEYS);
        lacks(&after(&spec), &["async def fetch"]);
    }
}
