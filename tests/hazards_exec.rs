//! Execution tests for the hazard passes: the migrated program prints what the original
//! printed, and the fixes do what they claim (a dropped task survives garbage collection).

mod support;

use support::{Equiv, assert_equivalent, read_tree, run_awaitify, run_python, write_fixture};

#[test]
fn dropped_task_still_runs() {
    let after = assert_equivalent(
        r#"
import asyncio

log = []


async def job(n):
    await asyncio.sleep(0.01)
    log.append(n)
    print("job", n)


def schedule(n):
    asyncio.get_running_loop().create_task(job(n))


async def main():
    asyncio.create_task(job(1))
    for n in (2, 3):
        t = asyncio.ensure_future(job(n))
    schedule(4)
    await asyncio.sleep(0.05)
    print("main", sorted(log))


asyncio.run(main())
"#,
        &["main.py"],
        Equiv::default(),
    );
    let main = &after["main.py"];
    assert_eq!(main.matches("_background_tasks.add(").count(), 3, "{main}");
    assert!(main.contains("_background_tasks = set()"), "{main}");
}

/// The hazard itself: the loop holds tasks weakly, so a dropped task whose only reference
/// is a cycle with the future it waits on is collected mid-run. The migrated program keeps it.
#[test]
fn dropped_task_survives_garbage_collection() {
    let spec = r#"
import asyncio
import gc


async def wait_forever():
    await asyncio.get_running_loop().create_future()


async def main():
    asyncio.create_task(wait_forever())
    await asyncio.sleep(0)
    gc.collect()
    print("tasks alive:", len(asyncio.all_tasks()))


asyncio.run(main())
"#;
    let tmp = tempfile::tempdir().unwrap();
    let (before, after) = (tmp.path().join("before"), tmp.path().join("after"));
    write_fixture(&before, spec);
    write_fixture(&after, spec);
    let w = run_awaitify(tmp.path(), &["--write", "after"]);
    assert!(w.status == 0 || w.status == 1, "{}", w.stderr);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("hazards-dropped-task-gc", read_tree(&after)["main.py"]);
    });
    let old = run_python(&before, &["main.py"], &[]);
    let new = run_python(&after, &["main.py"], &[]);
    assert_eq!(old.stdout, "tasks alive: 1\n", "{}", old.stderr);
    assert!(old.stderr.contains("Task was destroyed but it is pending"));
    assert_eq!(
        new.stdout,
        "tasks alive: 2\n",
        "{}\n{}",
        new.stderr,
        read_tree(&after)["main.py"]
    );
}

#[test]
fn half_async_program_keeps_its_output() {
    // Existing coroutines that block, drop a task, swallow everything and forget an await.
    let after = assert_equivalent(
        r#"
import asyncio
import time

audit_log = []


async def audit(event):
    await asyncio.sleep(0)
    audit_log.append(event)


def parse(n):
    if n == 3:
        raise ValueError(n)
    return n * 10


async def handle(n):
    time.sleep(0.01)
    asyncio.create_task(audit(f"handled {n}"))
    try:
        await asyncio.sleep(0)
        value = parse(n)
    except:
        value = None
    asyncio.sleep(0)
    return value


async def main():
    loop = asyncio.get_event_loop()
    results = await asyncio.gather(*(handle(i) for i in (1, 2, 3)))
    print(results, loop is asyncio.get_running_loop())
    await asyncio.sleep(0.05)
    print(sorted(audit_log))


if __name__ == "__main__":
    asyncio.run(main())
"#,
        &["main.py"],
        Equiv::default(),
    );
    let main = &after["main.py"];
    for want in [
        "await asyncio.sleep(0.01)",
        "except asyncio.CancelledError:\n        raise\n    except:",
        "    await asyncio.sleep(0)\n    return value",
        "loop = asyncio.get_running_loop()",
        "task = asyncio.create_task(audit(",
    ] {
        assert!(main.contains(want), "missing {want:?} in\n{main}");
    }
    assert!(!main.contains("time.sleep"), "{main}");
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("hazards-half-async", main);
    });
}

#[test]
fn cancellation_now_reaches_a_coroutine_with_a_bare_except() {
    // Migrated, the bare except no longer eats the CancelledError of `wait_for`'s timeout.
    let spec = r#"
import asyncio

ticks = 0


async def worker():
    global ticks
    for _ in range(20):
        try:
            await asyncio.sleep(0.01)
        except:
            pass
        ticks += 1
    return "finished"


async def main():
    try:
        print(await asyncio.wait_for(worker(), 0.03))
    except asyncio.TimeoutError:
        print("timed out")
    print("stopped early:", ticks < 20)


asyncio.run(main())
"#;
    let tmp = tempfile::tempdir().unwrap();
    let (before, after) = (tmp.path().join("before"), tmp.path().join("after"));
    write_fixture(&before, spec);
    write_fixture(&after, spec);
    let w = run_awaitify(tmp.path(), &["--write", "after"]);
    assert!(w.status == 0 || w.status == 1, "{}", w.stderr);
    let new = run_python(&after, &["main.py"], &[]);
    assert_eq!(
        new.stdout, "timed out\nstopped early: True\n",
        "{}",
        new.stderr
    );
    let old = run_python(&before, &["main.py"], &[]);
    assert!(
        old.stdout.ends_with("stopped early: False\n"),
        "{}",
        old.stdout
    );
}

#[test]
fn target_version_comes_from_pyproject_or_the_flag() {
    let spec = r#"
#- pyproject.toml
[project]
name = "demo"
requires-python = ">=3.9"
#- main.py
import asyncio
import time


def ticks():
    time.sleep(0)
    yield 1


def first():
    return next(ticks())


if __name__ == "__main__":
    print(first())
"#;
    let tmp = tempfile::tempdir().unwrap();
    for (dir, args) in [
        ("default", vec![]),
        ("flag", vec!["--target-version", "py311"]),
    ] {
        let root = tmp.path().join(dir);
        write_fixture(&root, spec);
        let mut all = vec!["--write", "."];
        all.extend(args);
        let w = run_awaitify(&root, &all);
        assert!(w.status == 0 || w.status == 1, "{}", w.stderr);
    }
    let default = read_tree(&tmp.path().join("default"))["main.py"].clone();
    assert!(default.contains("await ticks().__anext__()"), "{default}");
    let flag = read_tree(&tmp.path().join("flag"))["main.py"].clone();
    assert!(flag.contains("await anext(ticks())"), "{flag}");
    let bad = run_awaitify(tmp.path(), &["--target-version", "py27", "."]);
    assert_eq!(bad.status, 2, "{}", bad.stderr);
}
