//! A converted file or connection passed to project code must be followed into every use.
//! A callee that stores it (`**kwargs`, `self.out = fp`, a container) hands it to code that
//! reaches it through a receiver awaitify cannot type, so the object stays as it is there.
//! Found on httpie 3.2.4, whose test environment takes `stdin=` through `**kwargs`.

mod support;

const STORED_BY_CALLEE: &str = r#"#- main.py
import time


class Sink:
    def __init__(self, **streams):
        self.__dict__.update(streams)


class Recorder:
    def __init__(self, out):
        self.out = out

    def record(self, line):
        self.out.write(line + "\n")


def report(sink):
    sink.out.write("report\n")


def main():
    time.sleep(0)
    with open("log.txt", "w") as fp:
        report(Sink(out=fp))
        Recorder(fp).record("one")
    with open("log.txt") as fp:
        print(fp.read())


if __name__ == "__main__":
    main()
"#;

#[test]
fn a_file_stored_by_the_project_code_it_is_passed_to_stays_sync() {
    let out = support::fixture_after(STORED_BY_CALLEE);
    assert!(
        out.contains("    with open(\"log.txt\", \"w\") as fp:"),
        "{out}"
    );
    assert!(out.contains("async def main():"), "{out}");
    support::has(
        &support::reported(STORED_BY_CALLEE),
        &["which keeps it where awaitify cannot follow its uses"],
    );
    support::assert_equivalent(STORED_BY_CALLEE, &["main.py"], support::Equiv::default());
}

#[test]
fn a_file_the_callee_only_uses_is_converted_with_it() {
    let spec = r##"#- main.py
import time


def header(fp, title):
    fp.write("# " + title + "\n")


def main():
    time.sleep(0)
    with open("log.txt", "w") as fp:
        header(fp, "one")
        fp.write("body\n")
    with open("log.txt") as fp:
        print(fp.read())


if __name__ == "__main__":
    main()
"##;
    let out = support::fixture_after(spec);
    assert!(out.contains("async def header(fp, title):"), "{out}");
    assert!(out.contains("await header(fp, \"one\")"), "{out}");
    support::assert_equivalent(spec, &["main.py"], support::Equiv::default());
}

/// A cursor is made by its connection: a use of the cursor that no rule maps
/// (`setinputsizes`, which aiosqlite's cursor lacks) keeps the connection that made it, as a
/// use of the connection itself does. Before, only the connection's own uses were checked
/// and the migrated program raised `AttributeError`. Also `create_collation`, which
/// aiosqlite's connection lacks, and which the catalog used to await; and a cursor handed to
/// `list()`, which was reported as kept while its connection converted.
const DERIVED_OBJECT: &str = r#"import os
import sqlite3
import tempfile


def setup(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("a",), ("c",), ("b",)])
    conn.commit()
    conn.close()


def sized(path):
    conn = sqlite3.connect(path)
    cur = conn.cursor()
    cur.setinputsizes([])
    cur.execute("SELECT x FROM t ORDER BY x")
    rows = cur.fetchall()
    conn.close()
    return rows


def collated(path):
    conn = sqlite3.connect(path)
    conn.create_collation("rev", lambda a, b: (a < b) - (a > b))
    rows = conn.execute("SELECT x FROM t ORDER BY x COLLATE rev").fetchall()
    conn.close()
    return rows


def listed(path):
    conn = sqlite3.connect(path)
    cur = conn.execute("SELECT x FROM t ORDER BY x")
    rows = list(cur)
    conn.close()
    return rows


def main():
    path = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    setup(path)
    print(sized(path), collated(path), listed(path))


if __name__ == "__main__":
    main()
"#;

#[test]
fn an_unmapped_use_of_a_cursor_keeps_its_connection() {
    let tree = support::assert_equivalent(DERIVED_OBJECT, &["main.py"], support::Equiv::default());
    let out = &tree["main.py"];
    support::has(
        out,
        &[
            "async def setup(path):\n    conn = await aiosqlite.connect(path)\n",
            "def sized(path):\n    conn = sqlite3.connect(path)\n    cur = conn.cursor()\n",
            "def collated(path):\n    conn = sqlite3.connect(path)\n",
            // `list(cur)` iterates without `async for`: the connection stays.
            "def listed(path):\n    conn = sqlite3.connect(path)\n",
        ],
    );
    support::has(
        &support::reported(DERIVED_OBJECT),
        &[
            "`cur.setinputsizes(...)` at line 17",
            "`conn.create_collation(...)` at line 26",
        ],
    );
}

const QUEUE_HELPERS: &str = r#"import queue
import threading


def produce(q, n):
    for i in range(n):
        q.put(i)
    q.put(None)


def drain(q):
    got = []
    while (item := q.get()) is not None:
        got.append(item)
    return got
"#;

/// An attribute read on a converted object that no rule maps or keeps keeps the object:
/// `asyncio.Queue` has no `queue` (the deque) or `unfinished_tasks`. Before, the queue
/// became an `asyncio.Queue` and the migrated program raised `AttributeError`. An
/// attribute listed as kept (`maxsize`) converts.
#[test]
fn an_unmapped_attribute_read_keeps_the_object() {
    let peeked = format!(
        "{QUEUE_HELPERS}

def main():
    q = queue.Queue(maxsize=10)
    t = threading.Thread(target=produce, args=(q, 3))
    t.start()
    t.join()
    print(list(q.queue), q.unfinished_tasks, drain(q))


if __name__ == \"__main__\":
    main()
"
    );
    support::assert_equivalent(&peeked, &["main.py"], support::Equiv::unchanged());
    support::has(
        &support::reported(&peeked),
        &["`q.queue` is read at line 23"],
    );

    let sized = format!(
        "{QUEUE_HELPERS}

def main():
    q = queue.Queue(maxsize=10)
    t = threading.Thread(target=produce, args=(q, 2))
    t.start()
    got = drain(q)
    t.join()
    print(got, q.maxsize)


if __name__ == \"__main__\":
    main()
"
    );
    let tree = support::assert_equivalent(&sized, &["main.py"], support::Equiv::default());
    support::has(
        &tree["main.py"],
        &[
            "    q = asyncio.Queue(maxsize=10)\n",
            "    print(got, q.maxsize)\n",
        ],
    );
}

/// A converted object passed to a project function whose parameter other calls give another
/// kind of value: the callee's uses of the parameter cannot be typed, so they stay sync, and
/// the object must too. Before, the queue became an `asyncio.Queue` while `drain` kept
/// calling `q.get()` without await, and the migrated program never ended.
#[test]
fn an_object_passed_where_the_parameter_is_mixed_keeps_the_object() {
    let mixed = format!(
        "{QUEUE_HELPERS}

class Stub:
    def __init__(self, items):
        self.items = list(items)

    def get(self):
        return self.items.pop(0)


def main():
    q = queue.Queue(maxsize=10)
    t = threading.Thread(target=produce, args=(q, 2))
    t.start()
    print(drain(q))
    t.join()
    print(drain(Stub([5, None])))


if __name__ == \"__main__\":
    main()
"
    );
    support::assert_equivalent(&mixed, &["main.py"], support::Equiv::unchanged());
    support::has(
        &support::reported(&mixed),
        &["`q` is passed at line 30 to a parameter that other calls"],
    );
}
