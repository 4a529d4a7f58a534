//! A property the base class only raises in (`raise NotImplementedError`) and every subclass
//! overrides (pymongo's `ChangeStream._aggregation_command_class`): reading it gives what the
//! overrides return, different project classes counting as their common project base. An
//! override of unknown kind leaves it unknown, and what is called through it pinned.

mod support;

use support::{has, lacks, reported};

/// `body` follows a family of commands and an unrelated class with a blocking `run`, so the
/// method name alone says nothing.
fn with_commands(streams: &str) -> String {
    format!(
        r#"#- main.py
import time


class Command:
    def run(self):
        return "base"


class FastCommand(Command):
    def run(self):
        time.sleep(0.01)
        return "fast"


class SlowCommand(Command):
    def run(self):
        time.sleep(0.02)
        return "slow"


class Job:
    def run(self):
        time.sleep(0.01)
        return "job"


class Stream:
    @property
    def command_class(self):
        """The command class to run."""
        raise NotImplementedError

    def execute(self):
        cmd = self.command_class()
        return cmd.run()

{streams}

def main():
    print(FastStream().execute(), SlowStream().execute(), Job().run())


if __name__ == "__main__":
    main()
"#
    )
}

const OVERRIDES: &str = r#"
class FastStream(Stream):
    @property
    def command_class(self):
        return FastCommand


class SlowStream(Stream):
    @property
    def command_class(self) -> "type[SlowCommand]":
        return SlowCommand
"#;

#[test]
fn an_abstract_property_overridden_everywhere_types_the_call() {
    let spec = with_commands(OVERRIDES);
    let tree = support::assert_equivalent(&spec, &["main.py"], support::Equiv::default());
    has(
        &tree["main.py"],
        &[
            "    async def execute(self):",
            "        return await cmd.run()",
            "        await asyncio.sleep(0.02)",
        ],
    );
    lacks(&reported(&spec), &["of unknown type"]);
}

/// One override returns a class picked at run time: the property's value stays unknown.
const ONE_UNKNOWN: &str = r#"
COMMANDS = {"slow": SlowCommand}


class FastStream(Stream):
    @property
    def command_class(self):
        return FastCommand


class SlowStream(Stream):
    @property
    def command_class(self):
        return COMMANDS["slow"]
"#;

#[test]
fn an_override_of_unknown_kind_leaves_the_property_unknown() {
    let spec = with_commands(ONE_UNKNOWN);
    let out = support::fixture_after(&spec);
    lacks(&out, &["async def execute", "async def run"]);
    has(
        &reported(&spec),
        &["`.run()` is called on a value of unknown type"],
    );
}
