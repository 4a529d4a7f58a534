//! A project module used as a value, or a namespace read as a dict, hands out functions
//! under names awaitify cannot follow: `importlib.import_module(name).run()`,
//! `handler(tasks)` calling `m.run()`, `sys.modules[...]`, `globals()[name]()`,
//! `vars(module)`, `module.__dict__`. The functions they may reach stay sync, and each
//! program prints the same before and after the migration (before this, `run` became
//! async and these calls returned an un-awaited coroutine).

mod support;

use support::reported;

use support::fixture_after as after;

fn equivalent(spec: &str) {
    support::assert_equivalent(spec, &["main.py"], support::Equiv::default());
}

/// `pkg/tasks.py` with a blocking `run`, and a `main.py` calling it as `{call}`.
fn program(main: &str) -> String {
    format!(
        r#"#- pkg/__init__.py
#- pkg/tasks.py
import time


def run():
    time.sleep(0.01)
    return "ran"
#- main.py
{main}"#
    )
}

#[track_caller]
fn stays_sync(spec: &str, why: &str) {
    let out = after(spec);
    assert!(out.contains("\ndef run():"), "run became async:\n{out}");
    let reported = reported(spec);
    assert!(reported.contains(why), "missing {why:?} in:\n{reported}");
    equivalent(spec);
}

#[test]
fn a_dynamically_imported_module_may_reach_any_module_function() {
    stays_sync(
        &program(
            r#"import importlib
import time


def go(name):
    mod = importlib.import_module("pkg." + name)
    return mod.run()


def main():
    time.sleep(0.01)
    print(go("tasks"))


if __name__ == "__main__":
    main()
"#,
        ),
        "`.run()` is called on a value of unknown type at main.py:7, which may be a project module (one is used as a value at main.py:6)",
    );
}

#[test]
fn a_module_passed_as_a_value_may_be_called_through() {
    stays_sync(
        &program(
            r#"import time

from pkg import tasks


def call(m):
    return m.run()


def main():
    time.sleep(0.01)
    print(call(tasks))


if __name__ == "__main__":
    main()
"#,
        ),
        "may be a project module (one is used as a value at main.py:12)",
    );
}

#[test]
fn sys_modules_may_hold_any_project_module() {
    stays_sync(
        &program(
            r#"import sys
import time

import pkg.tasks


def go(name):
    return sys.modules[name].run()


def main():
    time.sleep(0.01)
    print(go("pkg.tasks"))


if __name__ == "__main__":
    main()
"#,
        ),
        "may be a project module (one is used as a value at main.py:8)",
    );
}

#[test]
fn module_namespaces_read_as_dicts_may_return_any_of_their_functions() {
    for (main, via) in [
        (
            "import time\nimport pkg.tasks\n\n\ndef go(name):\n    return vars(pkg.tasks)[name]()\n\n\ndef main():\n    time.sleep(0.01)\n    print(go(\"run\"))\n\n\nif __name__ == \"__main__\":\n    main()\n",
            "`vars()` at main.py:6 reads a name awaitify cannot know, and may return `run`",
        ),
        (
            "import time\nimport pkg.tasks\n\n\ndef go(name):\n    return pkg.tasks.__dict__[name]()\n\n\ndef main():\n    time.sleep(0.01)\n    print(go(\"run\"))\n\n\nif __name__ == \"__main__\":\n    main()\n",
            "`__dict__` at main.py:6 reads a name awaitify cannot know, and may return `run`",
        ),
    ] {
        stays_sync(&program(main), via);
    }
}

#[test]
fn globals_may_return_any_function_of_the_module() {
    let spec = r#"#- pkg/__init__.py
#- pkg/tasks.py
import time


def run():
    time.sleep(0.01)
    return "ran"


def dispatch(name):
    return globals()[name]()
#- main.py
import time

from pkg import tasks


def main():
    time.sleep(0.01)
    print(tasks.dispatch("run"))


if __name__ == "__main__":
    main()
"#;
    stays_sync(
        spec,
        "`globals()` at pkg/tasks.py:10 reads a name awaitify cannot know, and may return `run`",
    );
}

/// Modules read only through their attributes, tested, or given to `setattr` are not values
/// that flow anywhere: `run` converts.
#[test]
fn a_module_only_read_from_lets_its_functions_convert() {
    let spec = program(
        r#"import time

import pkg.tasks
from pkg import tasks


def go():
    if tasks is not None and hasattr(pkg.tasks, "run"):
        setattr(tasks, "flag", True)
        return tasks.run() + pkg.tasks.run()


def main():
    time.sleep(0.01)
    print(go(), tasks.flag)


if __name__ == "__main__":
    main()
"#,
    );
    let out = after(&spec);
    assert!(out.contains("async def run():"), "{out}");
    assert!(
        out.contains("return await tasks.run() + await pkg.tasks.run()"),
        "{out}"
    );
    equivalent(&spec);
}

/// Writing into a namespace reads nothing out of it (`obj.__dict__[k] = v`,
/// `self.__dict__.update(...)`), and `type(self).__dict__` holds only that class's
/// functions: `fetch` in another class converts.
#[test]
fn written_namespaces_and_the_class_of_self_read_only_what_they_can() {
    let spec = r#"#- main.py
import time


class Env:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def label(self):
        return "env"

    def __str__(self):
        names = sorted(k for k in dict(type(self).__dict__) if not k.startswith("_"))
        return ",".join(names)


def cache(obj, key, value):
    obj.__dict__[key] = value
    return value


class Client:
    def fetch(self):
        time.sleep(0.01)
        return "data"


def main():
    env = Env(a=1)
    print(str(env), cache(env, "b", 2), env.b, Client().fetch())


if __name__ == "__main__":
    main()
"#;
    let out = after(spec);
    assert!(out.contains("    async def fetch(self):"), "{out}");
    equivalent(spec);
}
