//! Every method a rule keeps or renames on a converted object, and every attribute it keeps,
//! exists on the object it becomes, and one it leaves un-awaited is no coroutine function there (nor an async
//! generator, unless its result is iterated with `async for`). Found when
//! `sqlite3.Connection.create_collation` was awaited on an aiosqlite connection, which has
//! none: the migrated program failed with `AttributeError`. Checked against the real
//! classes in the test venv, so a new family's entries are checked as soon as its types are
//! listed here (a type with entries and no line here fails the test).

mod support;

use awaitify::rules::{Action, Catalog};

/// Each converted type tag, with the pairs of (sync class, async class) it stands for.
const COUNTERPARTS: &[(&str, &[(&str, &str)])] = &[
    (
        "io.IOBase",
        &[
            (
                "io.TextIOWrapper",
                "aiofiles.threadpool.text.AsyncTextIOWrapper",
            ),
            (
                "io.BufferedReader",
                "aiofiles.threadpool.binary.AsyncBufferedReader",
            ),
            (
                "io.BufferedWriter",
                "aiofiles.threadpool.binary.AsyncBufferedIOBase",
            ),
            ("io.FileIO", "aiofiles.threadpool.binary.AsyncFileIO"),
        ],
    ),
    (
        "sqlite3.Connection",
        &[("sqlite3.Connection", "aiosqlite.Connection")],
    ),
    ("sqlite3.Cursor", &[("sqlite3.Cursor", "aiosqlite.Cursor")]),
    ("httpx.Client", &[("httpx.Client", "httpx.AsyncClient")]),
    (
        "httpx.StreamingResponse",
        &[("httpx.Response", "httpx.Response")],
    ),
    (
        "requests.Session",
        &[("requests.Session", "httpx.AsyncClient")],
    ),
    ("redis.Redis", &[("redis.Redis", "redis.asyncio.Redis")]),
    (
        "redis.Pipeline",
        &[("redis.client.Pipeline", "redis.asyncio.client.Pipeline")],
    ),
    ("queue.Queue", &[("queue.Queue", "asyncio.Queue")]),
    (
        "socket.SocketFile",
        &[("io.BufferedReader", "asyncio.StreamReader")],
    ),
    (
        "concurrent.futures.Future",
        &[("concurrent.futures.Future", "asyncio.Task")],
    ),
    ("threading.Lock", &[("_thread.LockType", "asyncio.Lock")]),
    (
        "threading.Semaphore",
        &[("threading.Semaphore", "asyncio.Semaphore")],
    ),
    ("threading.Event", &[("threading.Event", "asyncio.Event")]),
    (
        "threading.Condition",
        &[("threading.Condition", "asyncio.Condition")],
    ),
    (
        "threading.Barrier",
        &[("threading.Barrier", "asyncio.Barrier")],
    ),
];

/// Type tags whose object stays what it was (only some of its methods move to a thread).
const UNCHANGED: &[&str] = &["pathlib.Path"];

const CHECK: &str = r#"
import importlib, inspect, json, re, sys

def load(path):
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        # `redis.client.Pipeline`: a class inside a module imported through its package.
        parent, _, attr = module.rpartition(".")
        return getattr(getattr(importlib.import_module(parent), attr), name)

def has(cls, name):
    """On the class, or set on the instance by an `__init__` written in Python."""
    if hasattr(cls, name):
        return True
    for k in getattr(cls, "__mro__", ()):
        init = vars(k).get("__init__")
        if inspect.isfunction(init) and re.search(rf"self\.{name}\s*[:=]", inspect.getsource(init)):
            return True
    return False

bad = []
seen = {}
for ty, sync, new, name, renamed, awaited, iterated in json.load(sys.stdin):
    s, a = load(sync), load(new)
    seen.setdefault((ty, name), False)
    if not has(s, name):
        continue
    seen[(ty, name)] = True
    if not has(a, renamed):
        bad.append(f"{new} has no `{renamed}` (for {sync}.{name})")
    elif not awaited and hasattr(a, renamed):
        f = getattr(a, renamed)
        if inspect.iscoroutinefunction(f):
            bad.append(f"{new}.{renamed} is a coroutine function, but the rule does not await it")
        elif inspect.isasyncgenfunction(f) and not iterated:
            bad.append(f"{new}.{renamed} is an async generator, but its result is not iterated with `async for`")
bad += [f"no sync class of `{ty}` has `{name}` (a misspelt entry?)" for (ty, name), found in seen.items() if not found]
print("\n".join(bad))
"#;

#[test]
fn every_kept_or_renamed_method_exists_on_the_async_object() {
    let cat = Catalog::builtin().unwrap();
    let mut checks = Vec::new();
    let mut unlisted = Vec::new();
    for id in cat.rule_ids() {
        for m in &cat.rule(id).methods {
            let ty = m.ty.as_deref().unwrap();
            let action = m.action.unwrap_or(Action::Keep);
            if !matches!(action, Action::Keep | Action::Replace) || UNCHANGED.contains(&ty) {
                continue;
            }
            let Some((_, pairs)) = COUNTERPARTS.iter().find(|(t, _)| *t == ty) else {
                unlisted.push(ty.to_string());
                continue;
            };
            // An async generator's result must be iterated with `async for`.
            let iterated = m
                .returns
                .as_deref()
                .and_then(|r| cat.iterate_use(r))
                .is_some_and(|(_, u)| u.make_async);
            for name in &m.names {
                let renamed = m.replace.as_deref().unwrap_or(name);
                for (sync, new) in *pairs {
                    checks.push(serde_json::json!([
                        ty, sync, new, name, renamed, m.awaited, iterated
                    ]));
                }
            }
        }
        // Attributes kept as they are (`[[attribute]]` without `replace`).
        for a in cat
            .rule(id)
            .attributes
            .iter()
            .filter(|a| a.replace.is_none())
        {
            let Some((_, pairs)) = COUNTERPARTS.iter().find(|(t, _)| *t == a.ty) else {
                unlisted.push(a.ty.clone());
                continue;
            };
            for name in &a.names {
                for (sync, new) in *pairs {
                    checks.push(serde_json::json!([
                        a.ty, sync, new, name, name, false, false
                    ]));
                }
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "types with kept or renamed methods and no counterpart listed: {unlisted:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("check.py"), CHECK).unwrap();
    std::fs::write(
        dir.path().join("checks.json"),
        serde_json::to_string(&checks).unwrap(),
    )
    .unwrap();
    let run = support::run_python(
        dir.path(),
        &[
            "-c",
            "import runpy, sys; sys.stdin = open('checks.json'); runpy.run_path('check.py')",
        ],
        &[],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.trim().is_empty(),
        "{} checks; mismatches:\n{}",
        checks.len(),
        run.stdout
    );
}
