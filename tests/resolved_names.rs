//! The passes recognise `contextlib.contextmanager`, `pytest.fixture`,
//! `asyncio.CancelledError`, `socket.SHUT_WR`, `asyncio.to_thread`, `staticmethod`,
//! `StopIteration` and the builtins a file is handed to by what a written name resolves to,
//! not by its text (issue 14): an aliased import is the same API, and a local of the same
//! name is not.

mod support;

use support::{Equiv, assert_equivalent, fixture_after, has, lacks, reported};

#[test]
fn aliased_contextmanager_becomes_asynccontextmanager_and_runs_the_same() {
    let tree = assert_equivalent(
        r#"
import contextlib as cl
import time
from contextlib import contextmanager as cm


@cm
def opened(name, log):
    time.sleep(0)
    log.append(f"open {name}")
    try:
        yield name.upper()
    finally:
        log.append(f"close {name}")


@cl.contextmanager
def timed(log):
    time.sleep(0)
    yield
    log.append("timed")


def main():
    log = []
    with opened("db", log) as handle, timed(log):
        print(handle)
    print(log)


if __name__ == "__main__":
    main()
"#,
        &["main.py"],
        Equiv::default(),
    );
    let main = &tree["main.py"];
    has(
        main,
        &[
            "@contextlib.asynccontextmanager\nasync def opened(",
            "@contextlib.asynccontextmanager\nasync def timed(",
        ],
    );
}

#[test]
fn a_local_decorator_named_contextmanager_is_not_rewritten() {
    let after = fixture_after(
        r#"
import time


def contextmanager(fn):
    return fn


@contextmanager
def numbers():
    time.sleep(0)
    yield 1
"#,
    );
    lacks(&after, &["asynccontextmanager", "import contextlib"]);
}

#[test]
fn aliased_pytest_fixture_becomes_an_async_fixture_and_passes() {
    let tree = assert_equivalent(
        r#"#- store.py
import time


def load(key):
    time.sleep(0)
    return {"a": 1}.get(key)
#- test_store.py
import pytest as pt

from store import load


@pt.fixture
def loaded():
    return load("a")


def test_fixture(loaded):
    assert loaded == 1
"#,
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        Equiv {
            compare_last_line: true,
            ..Default::default()
        },
    );
    has(
        &tree["test_store.py"],
        &["@pytest_asyncio.fixture\nasync def loaded():"],
    );
}

#[test]
fn an_aliased_cancelled_error_handler_already_decides_cancellation() {
    let after = fixture_after(
        r#"
import asyncio
from asyncio import CancelledError as CE


async def worker():
    try:
        await asyncio.sleep(0)
    except CE:
        raise
    except:
        pass
"#,
    );
    lacks(&after, &["except asyncio.CancelledError"]);
}

#[test]
fn a_local_class_named_cancelled_error_does_not_stop_cancellation_reaching_the_coroutine() {
    // The handler catches the program's own error, not asyncio's: the bare `except` after it
    // would still eat the cancellation of `wait_for`'s timeout, so the migration guards it.
    let spec = r#"
import asyncio

ticks = 0


class CancelledError(Exception):
    pass


async def worker():
    global ticks
    for _ in range(20):
        try:
            await asyncio.sleep(0.01)
        except CancelledError:
            print("never")
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
    let after = tmp.path().join("after");
    support::write_fixture(&after, spec);
    let w = support::run_awaitify(tmp.path(), &["--write", "after"]);
    assert!(w.status == 0 || w.status == 1, "{}", w.stderr);
    let new = support::run_python(&after, &["main.py"], &[]);
    assert_eq!(
        new.stdout, "timed out\nstopped early: True\n",
        "{}",
        new.stderr
    );
}

#[test]
fn an_aliased_shut_wr_becomes_write_eof_and_runs_the_same() {
    let tree = assert_equivalent(
        r#"
import socket
import socketserver
import threading
from socket import SHUT_WR as WRITE_DONE


class Upper(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line.upper())


def start_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Upper)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def drain(port):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"one\ntwo\n")
    sock.shutdown(WRITE_DONE)
    data = b""
    while True:
        chunk = sock.recv(3)
        if not chunk:
            break
        data += chunk
    sock.close()
    return data


def main():
    server = start_server()
    print(drain(server.server_address[1]))
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
"#,
        &["main.py"],
        Equiv::default(),
    );
    let main = &tree["main.py"];
    has(main, &[".write_eof()"]);
    lacks(main, &["shutdown(WRITE_DONE)"]);
}

#[test]
fn a_blocking_name_handed_to_an_aliased_thread_is_not_reported_but_one_mapped_is() {
    // The builtin `map` runs it in the coroutine when `list` iterates; only an executor's
    // `map` method hands it to a thread.
    let diags = reported(
        r#"
import os.path
from threading import Thread as Worker


async def run(file):
    Worker(target=os.path.abspath, args=(file,)).start()


async def mapped(files):
    return list(map(os.path.abspath, files))
"#,
    );
    lacks(&diags, &["to `Worker`"]);
    has(
        &diags,
        &[
            "main.py:11:21: blocking-callable-passed the blocking `os.path.abspath` is passed as a value to `map`",
        ],
    );
}

#[test]
fn an_aliased_staticmethod_takes_no_self_so_the_file_it_keeps_stays_sync() {
    // `save` keeps `fp` (`Store.last = fp`): the file stays sync with all its uses. Read as a
    // method with `self`, the first argument went to `label`, which `save` only prints, and
    // the file became aiofiles while `Store.last.write(...)` stayed unawaited.
    let tree = assert_equivalent(
        r#"#- main.py
import time
from abc import abstractstaticmethod as static


class Store:
    last = None

    @static
    def save(fp, label):
        time.sleep(0)
        Store.last = fp
        print(label)


def main():
    time.sleep(0)
    with open("out.txt", "w") as fp:
        Store.save(fp, "saving")
        Store.last.write("kept\n")
    with open("out.txt") as fp:
        print(fp.read())


if __name__ == "__main__":
    main()
"#,
        &["main.py"],
        Equiv::default(),
    );
    has(
        &tree["main.py"],
        &["    with open(\"out.txt\", \"w\") as fp:"],
    );
    lacks(&tree["main.py"], &["aiofiles"]);
}

#[test]
fn a_project_function_named_len_is_followed_like_any_other_callee() {
    // Only the builtin `len` just looks at the file; the project's `len` keeps it.
    let tree = assert_equivalent(
        r#"#- main.py
import time

STORE = {}


def len(fp):
    time.sleep(0)
    STORE["out"] = fp
    return 0


def main():
    time.sleep(0)
    with open("out.txt", "w") as fp:
        len(fp)
        STORE["out"].write("kept\n")
    with open("out.txt") as fp:
        print(fp.read())


if __name__ == "__main__":
    main()
"#,
        &["main.py"],
        Equiv::default(),
    );
    lacks(&tree["main.py"], &["aiofiles"]);
}

#[test]
fn only_the_builtin_stop_iteration_becomes_stop_async_iteration() {
    // `Strict` raises the project's error under the builtin's name: renamed, `async for`
    // would end quietly instead of raising it. The builtin written as an attribute and a
    // local bound to it (renamed with its uses) become `StopAsyncIteration`.
    let tree = assert_equivalent(
        r#"#- errors.py
class Exhausted(Exception):
    """Raised by a reader asked for more than it has."""
#- main.py
import builtins
import time

from errors import Exhausted as StopIteration


class Strict:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return self

    def __next__(self):
        time.sleep(0)
        if self.n == 0:
            raise StopIteration("past the end")
        self.n -= 1
        return self.n


class Plain:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return self

    def __next__(self):
        time.sleep(0)
        if self.n == 0:
            raise builtins.StopIteration
        self.n -= 1
        return self.n


class Cached:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return self

    def __next__(self, StopIteration=builtins.StopIteration):
        time.sleep(0)
        if self.n == 0:
            raise StopIteration
        self.n -= 1
        return self.n


def main():
    for i in Plain(2):
        print("plain", i)
    for i in Cached(2):
        print("cached", i)
    try:
        for i in Strict(2):
            print(i)
    except StopIteration as e:
        print("error:", e)


if __name__ == "__main__":
    main()
"#,
        &["main.py"],
        Equiv::default(),
    );
    let main = &tree["main.py"];
    has(
        main,
        &[
            "raise StopIteration(\"past the end\")",
            "raise builtins.StopAsyncIteration",
            "StopAsyncIteration=builtins.StopAsyncIteration):",
        ],
    );
}
