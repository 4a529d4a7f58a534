//! A call site has one owner: the calls a family rewrites whole, keeps blocking, or enters
//! with an `async with` of its own get no `await` from the await pass. These are the cases
//! that used to be awaited first and then had the `await` taken back. Debug builds also
//! check, after every phase, that no pass removed or rewrote an earlier pass's edit.

use awaitify::rules::Catalog;
use awaitify::run::{Migration, migrate_texts};

fn migrate(src: &str) -> Migration {
    migrate_texts(&[("main.py", src)], &Catalog::builtin().unwrap())
}

fn after(m: &Migration) -> &str {
    m.files[0].new.as_deref().expect("the file changes")
}

fn codes(m: &Migration) -> Vec<String> {
    m.diagnostics
        .iter()
        .map(|d| format!("{}:{} {}", d.line, d.col, d.code))
        .collect()
}

#[test]
fn a_non_blocking_or_computed_queue_wait_is_not_awaited() {
    let m = migrate(
        "import queue\nimport time\n\njobs = queue.Queue()\n\n\ndef worker(block):\n    time.sleep(0.01)\n    first = jobs.get(block=False)\n    second = jobs.get(block)\n    return first, second\n",
    );
    assert_eq!(
        after(&m),
        "import asyncio\n\njobs = asyncio.Queue()\n\n\nasync def worker(block):\n    await asyncio.sleep(0.01)\n    first = jobs.get_nowait()\n    second = jobs.get(block)\n    return first, second\n"
    );
    assert_eq!(
        codes(&m),
        ["4:8 unbounded-queue", "10:14 unconvertible-call"]
    );
    // The sleep and the `get_nowait`; the computed `get` is left as is.
    assert_eq!(m.summary.call_sites_rewritten, 2);
}

#[test]
fn socket_writes_a_with_creation_and_a_kept_socket_are_not_awaited() {
    let m = migrate(
        "import socket\nimport time\n\n\ndef shout(port):\n    time.sleep(0.01)\n    with socket.create_connection((\"127.0.0.1\", port)) as s:\n        s.sendall(b\"hi\\n\")\n        return s.recv(10)\n\n\ndef kept(port):\n    time.sleep(0.01)\n    k = socket.create_connection((\"127.0.0.1\", port))\n    k.settimeout(1)\n    k.sendall(b\"x\")\n    return k.recv(1)\n",
    );
    assert_eq!(
        after(&m),
        "import asyncio\nimport socket\n\n\nasync def shout(port):\n    await asyncio.sleep(0.01)\n    reader, writer = await asyncio.open_connection(\"127.0.0.1\", port)\n    try:\n        writer.write(b\"hi\\n\")\n        await writer.drain()\n        return await reader.read(10)\n    finally:\n        writer.close()\n        await writer.wait_closed()\n\n\nasync def kept(port):\n    await asyncio.sleep(0.01)\n    k = socket.create_connection((\"127.0.0.1\", port))\n    k.settimeout(1)\n    k.sendall(b\"x\")\n    return k.recv(1)\n"
    );
    // The kept socket's calls still block: in a coroutine, they are reported.
    assert_eq!(
        codes(&m),
        [
            "14:9 socket-kept",
            "16:5 blocking-call-in-coroutine",
            "17:12 blocking-call-in-coroutine"
        ]
    );
    assert_eq!(m.summary.call_sites_rewritten, 6);
}

#[test]
fn a_request_entered_by_with_is_a_stream_not_an_await() {
    let m = migrate(
        "import time\n\nimport requests\n\n\ndef fetch(url):\n    time.sleep(0.01)\n    with requests.get(url) as r:\n        return r.text\n",
    );
    assert_eq!(
        after(&m),
        "import asyncio\n\nimport httpx\n\n\nasync def fetch(url):\n    await asyncio.sleep(0.01)\n    async with httpx.AsyncClient(follow_redirects=True, timeout=None) as client:\n        async with client.stream(\"GET\", url) as r:\n            await r.aread()\n            return r.text\n"
    );
    // The sleep, and the request (counted by the requests family, which owns it).
    assert_eq!(m.summary.call_sites_rewritten, 2);
}

#[test]
fn a_lock_kept_for_a_sync_use_keeps_its_with_and_its_waits() {
    // The first round claims the lock's `with` and `acquire` for the threads family (no
    // `async with`, no `await`) and keeps the lock; the second round runs without it.
    let m = migrate(
        "import threading\nimport time\n\nlock = threading.Lock()\n\n\ndef tick():\n    with lock:\n        time.sleep(0.01)\n    lock.acquire()\n    lock.release()\n\n\ndef peek():\n    return lock.locked()\n\n\nif __name__ == \"__main__\":\n    print(peek())\n    tick()\n",
    );
    assert_eq!(
        after(&m),
        "import asyncio\nimport threading\n\nlock = threading.Lock()\n\n\nasync def tick():\n    with lock:\n        await asyncio.sleep(0.01)\n    await asyncio.to_thread(lock.acquire)\n    lock.release()\n\n\ndef peek():\n    return lock.locked()\n\n\nif __name__ == \"__main__\":\n    print(peek())\n    asyncio.run(tick())\n"
    );
    assert_eq!(codes(&m), ["4:8 primitive-kept"]);
    assert_eq!(m.summary.call_sites_rewritten, 3);
}
