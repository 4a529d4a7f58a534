//! `@typing.overload` stubs before a method's implementation (pymongo's `Database.command`):
//! the stubs are for type checkers, every call reaches the last definition, so it may change
//! colour; the stubs themselves stay as they are. Definitions that are not overload stubs
//! keep the pin: which one a call reaches is not known.

mod support;

use support::{has, lacks, reported};

fn with_stubs(import: &str, decorator: &str) -> String {
    format!(
        r#"#- main.py
import time
{import}


class Db:
    @{decorator}
    def command(self, name: str) -> str: ...

    @{decorator}
    def command(self, name: int) -> int: ...

    def command(self, name):
        time.sleep(0.01)
        return name


def main():
    db = Db()
    print(db.command("ping"), db.command(2))


if __name__ == "__main__":
    main()
"#
    )
}

#[test]
fn a_method_after_its_overload_stubs_converts() {
    let spec = with_stubs("from typing import overload", "overload");
    let tree = support::assert_equivalent(&spec, &["main.py"], support::Equiv::default());
    has(
        &tree["main.py"],
        &[
            "    async def command(self, name):",
            "    print(await db.command(\"ping\"), await db.command(2))",
            "    def command(self, name: int) -> int: ...",
        ],
    );
    lacks(&reported(&spec), &["defined more than once"]);
}

#[test]
fn typing_overload_written_through_the_module_counts_too() {
    let spec = with_stubs("import typing", "typing.overload");
    has(
        &support::fixture_after(&spec),
        &["    async def command(self, name):"],
    );
}

/// A project decorator that happens to be called `overload` registers real definitions.
#[test]
fn a_project_decorator_named_overload_keeps_the_pin() {
    let spec = with_stubs("\n\ndef overload(f):\n    return f", "overload");
    lacks(&support::fixture_after(&spec), &["async def command"]);
    has(&reported(&spec), &["`command` is defined more than once"]);
}
