//! Parity with ruff's flake8-async ASYNC2xx rules: every blocking-call case of their
//! fixtures (`crates/ruff_linter/resources/test/fixtures/flake8_async/ASYNC2*.py`), written
//! here as our own small modules, is either rewritten or reported when it sits in a
//! coroutine; their "OK" cases are neither.
//!
//! `Fixme` rows are blocking calls that a catalog family will rewrite once it lands (to_thread
//! rules, subprocess, requests/httpx, files); until then the `blocking-call-in-coroutine`
//! safety net reports them, and the row asserts exactly that, so a merged family shows up
//! as a failing row to move to `Rewritten`.

use awaitify::rules::Catalog;
use awaitify::run::migrate_texts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The blocking call is gone from the output (replaced, awaited off the loop).
    Rewritten,
    /// Left in place with a diagnostic on its line.
    Reported,
    /// Neither: for calls that do not block (ruff's OK cases).
    Untouched,
}

use Outcome::*;

/// What the row expects: an outcome now, or a reported call a named family will rewrite.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Now(Outcome),
    /// FIXME(family): reported today, rewritten once the family is merged.
    Fixme(#[allow(dead_code)] &'static str),
}

use Expect::*;

/// `(ruff rule, imports, body of an async def, expectation)`; the body's last line holds
/// the call under test.
const CASES: &[(&str, &str, &str, Expect)] = &[
    // ASYNC210 blocking HTTP calls
    (
        "ASYNC210",
        "import urllib.request",
        "urllib.request.urlopen('http://x').read()",
        Now(Rewritten),
    ),
    (
        "ASYNC210",
        "import requests",
        "requests.get(u)",
        Now(Rewritten),
    ),
    (
        "ASYNC210",
        "import httpx",
        "httpx.get(u)",
        Fixme("requests"),
    ),
    (
        "ASYNC210",
        "import requests",
        "print(requests.get(requests.get(u)))",
        Now(Rewritten),
    ),
    (
        "ASYNC210",
        "import requests",
        "requests.options(u)",
        Now(Rewritten),
    ),
    (
        "ASYNC210",
        "import requests",
        "requests.head(u)",
        Now(Rewritten),
    ),
    (
        "ASYNC210",
        "import requests",
        "requests.post(u)",
        Now(Rewritten),
    ),
    (
        "ASYNC210",
        "import requests",
        "requests.put(u)",
        Now(Rewritten),
    ),
    (
        "ASYNC210",
        "import requests",
        "requests.patch(u)",
        Now(Rewritten),
    ),
    (
        "ASYNC210",
        "import requests",
        "requests.delete(u)",
        Now(Rewritten),
    ),
    (
        "ASYNC210",
        "import httpx",
        "httpx.options(u)",
        Fixme("requests"),
    ),
    (
        "ASYNC210",
        "import httpx",
        "httpx.head(u)",
        Fixme("requests"),
    ),
    (
        "ASYNC210",
        "import httpx",
        "httpx.post(u)",
        Fixme("requests"),
    ),
    (
        "ASYNC210",
        "import httpx",
        "httpx.put(u)",
        Fixme("requests"),
    ),
    (
        "ASYNC210",
        "import httpx",
        "httpx.patch(u)",
        Fixme("requests"),
    ),
    (
        "ASYNC210",
        "import httpx",
        "httpx.delete(u)",
        Fixme("requests"),
    ),
    (
        "ASYNC210",
        "import urllib3",
        "urllib3.request('GET', u)",
        Fixme("requests"),
    ),
    (
        "ASYNC210",
        "from urllib.request import urlopen",
        "urlopen(u)",
        Now(Rewritten),
    ),
    (
        "ASYNC210",
        "import requests",
        "requests.foo()",
        Now(Untouched),
    ),
    (
        "ASYNC210",
        "import requests",
        "f = requests.get",
        Now(Untouched),
    ),
    ("ASYNC210", "", "r = {}\n    r.get('x')", Now(Untouched)),
    // ASYNC212 blocking httpx.Client methods
    (
        "ASYNC212",
        "import httpx",
        "c = httpx.Client()\n    c.anything()",
        Now(Untouched),
    ),
    (
        "ASYNC212",
        "import httpx",
        "httpx.Client().get(u)",
        Now(Rewritten),
    ),
    (
        "ASYNC212",
        "import httpx",
        "c = httpx.Client()\n    c.post(u)",
        Now(Rewritten),
    ),
    (
        "ASYNC212",
        "import httpx",
        "c = httpx.Client()\n    c.close()",
        Now(Rewritten),
    ),
    (
        "ASYNC212",
        "import httpx",
        "c = httpx.Client()\n    c.build_request('GET', u)",
        Now(Untouched),
    ),
    // ASYNC220 creating subprocesses
    (
        "ASYNC220",
        "import subprocess",
        "subprocess.Popen(['ls'])",
        Now(Rewritten),
    ),
    ("ASYNC220", "import os", "os.popen('ls')", Now(Reported)),
    (
        "ASYNC220",
        "import os",
        "os.spawnl(os.P_NOWAIT, '/bin/true', 'true')",
        Now(Rewritten),
    ),
    (
        "ASYNC220",
        "import os\nfrom os import P_NOWAIT",
        "os.spawnl(mode=P_NOWAIT)",
        Now(Rewritten),
    ),
    // ASYNC221 running processes
    (
        "ASYNC221",
        "import subprocess",
        "subprocess.run('foo')",
        Now(Rewritten),
    ),
    (
        "ASYNC221",
        "import subprocess",
        "subprocess.call('foo')",
        Now(Rewritten),
    ),
    (
        "ASYNC221",
        "import subprocess",
        "subprocess.check_call('foo')",
        Now(Rewritten),
    ),
    (
        "ASYNC221",
        "import subprocess",
        "subprocess.check_output('foo')",
        Now(Rewritten),
    ),
    (
        "ASYNC221",
        "import subprocess",
        "subprocess.getoutput('foo')",
        Now(Rewritten),
    ),
    (
        "ASYNC221",
        "import subprocess",
        "subprocess.getstatusoutput('foo')",
        Now(Rewritten),
    ),
    ("ASYNC221", "import os", "os.system('foo')", Now(Rewritten)),
    (
        "ASYNC221",
        "from os import system as sh",
        "sh('foo')",
        Now(Rewritten),
    ),
    (
        "ASYNC221",
        "import os",
        "os.posix_spawn('/bin/true', ['true'], {})",
        Now(Rewritten),
    ),
    (
        "ASYNC221",
        "import os",
        "os.posix_spawnp('true', ['true'], {})",
        Now(Rewritten),
    ),
    (
        "ASYNC221",
        "import os",
        "os.spawnv(os.P_WAIT, '/bin/true', ['true'])",
        Now(Rewritten),
    ),
    (
        "ASYNC221",
        "import os",
        "os.spawnvpe(os.P_WAIT, 'true', ['true'], {})",
        Now(Rewritten),
    ),
    (
        "ASYNC221",
        "import subprocess",
        "subprocess.foo(0)",
        Now(Untouched),
    ),
    ("ASYNC221", "import os", "os.anything()", Now(Untouched)),
    ("ASYNC221", "import os", "os.spawnllll()", Now(Untouched)),
    (
        "ASYNC221",
        "",
        "def system():\n        pass\n    system()",
        Now(Untouched),
    ),
    // ASYNC222 waiting for processes
    ("ASYNC222", "import os", "os.wait()", Now(Rewritten)),
    ("ASYNC222", "import os", "os.wait3(0)", Now(Rewritten)),
    ("ASYNC222", "import os", "os.wait4(10, 0)", Now(Rewritten)),
    (
        "ASYNC222",
        "import os",
        "os.waitid(os.P_ALL, 0, os.WEXITED)",
        Now(Rewritten),
    ),
    ("ASYNC222", "import os", "os.waitpid(12, 0)", Now(Rewritten)),
    ("ASYNC222", "import os", "os.waitpi()", Now(Untouched)),
    // ASYNC230 opening files
    // Bound to a name: the rewrite `await aiofiles.open('')` contains `open('')` as text.
    ("ASYNC230", "", "f = open('')", Now(Rewritten)),
    ("ASYNC230", "import io", "io.open_code('')", Now(Reported)),
    ("ASYNC230", "import io", "io.open('')", Now(Rewritten)),
    (
        "ASYNC230",
        "",
        "with open('') as f: print(f)",
        Now(Rewritten),
    ),
    (
        "ASYNC230",
        "from pathlib import Path",
        "Path('foo').open()",
        Now(Rewritten),
    ),
    (
        "ASYNC230",
        "from pathlib import Path",
        "p = Path('foo')\n    p.open()",
        Now(Rewritten),
    ),
    (
        "ASYNC230",
        "",
        "def open(x):\n        return x\n    open('')",
        Now(Untouched),
    ),
    (
        "ASYNC230",
        "",
        "class Foo:\n        def open(self):\n            pass\n    Foo().open()",
        Now(Untouched),
    ),
    // ASYNC240 os.path and pathlib
    (
        "ASYNC240",
        "import os",
        "os.path.abspath(file)",
        Now(Reported),
    ),
    (
        "ASYNC240",
        "import os",
        "os.path.exists(file)",
        Now(Rewritten),
    ),
    (
        "ASYNC240",
        "import os.path",
        "os.path.getsize(file)",
        Now(Rewritten),
    ),
    (
        "ASYNC240",
        "from os import path",
        "path.isdir(file)",
        Now(Rewritten),
    ),
    (
        "ASYNC240",
        "import pathlib",
        "path = pathlib.Path(file)\n    path.exists()",
        Now(Rewritten),
    ),
    (
        "ASYNC240",
        "from pathlib import Path",
        "Path('src/my_text.txt').read_text()",
        Now(Rewritten),
    ),
    (
        "ASYNC240",
        "from pathlib import Path as PathAlias",
        "PathAlias(file).is_file()",
        Now(Rewritten),
    ),
    (
        "ASYNC240",
        "from pathlib import Path",
        "Path(file).iterdir()",
        Now(Reported),
    ),
    (
        "ASYNC240",
        "import os",
        "os.path.split(file)",
        Now(Untouched),
    ),
    (
        "ASYNC240",
        "import os",
        "os.path.join(file, 'x')",
        Now(Untouched),
    ),
    (
        "ASYNC240",
        "from pathlib import Path",
        "Path(file).as_posix()",
        Now(Untouched),
    ),
    (
        "ASYNC240",
        "import trio",
        "trio.Path(file).exists()",
        Now(Untouched),
    ),
    // ASYNC250 input
    ("ASYNC250", "", "k = input()", Now(Rewritten)),
    (
        "ASYNC250",
        "import builtins",
        "builtins.input('testing')",
        Now(Rewritten),
    ),
    (
        "ASYNC250",
        "import asyncio",
        "await asyncio.to_thread(lambda: input('async'))",
        Now(Untouched),
    ),
    ("ASYNC250", "", "fake.input('whatever')", Now(Untouched)),
    // ASYNC251 time.sleep
    ("ASYNC251", "import time", "time.sleep(1)", Now(Rewritten)),
    (
        "ASYNC251",
        "from time import sleep as nap",
        "nap(1)",
        Now(Rewritten),
    ),
    (
        "ASYNC251",
        "import asyncio",
        "await asyncio.sleep(1)",
        Now(Untouched),
    ),
];

fn module(imports: &str, body: &str) -> String {
    format!("{imports}\n\n\nasync def handler(u, file, fake):\n    {body}\n")
}

fn outcome(cat: &Catalog, imports: &str, body: &str) -> (Outcome, String) {
    let src = module(imports, body);
    let call_line = body.lines().last().unwrap().trim();
    let line = 1 + src
        .lines()
        .position(|l| l.trim() == call_line)
        .expect("the call line is in the module");
    let m = migrate_texts(&[("main.py", &src)], cat);
    assert!(
        m.diagnostics.iter().all(|d| d.code != "internal-error"),
        "{:?}",
        m.diagnostics
    );
    let new = m.files[0].new.clone().unwrap_or_else(|| src.clone());
    // The call's line as a whole: `await c.post(u)` is a rewrite of `c.post(u)`.
    let got = if !new.lines().any(|l| l.trim() == call_line) {
        Rewritten
    } else if m.diagnostics.iter().any(|d| d.line == line) {
        Reported
    } else {
        Untouched
    };
    let detail = format!(
        "{new}\n{}",
        m.diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    (got, detail)
}

#[test]
fn every_async2xx_case_is_rewritten_or_reported() {
    let cat = Catalog::builtin().unwrap();
    let mut wrong = Vec::new();
    for (rule, imports, body, expect) in CASES {
        let (got, detail) = outcome(&cat, imports, body);
        let want = match expect {
            Now(o) => *o,
            // FIXME: these become `Rewritten` when the family lands; move the row then.
            Fixme(_) => Reported,
        };
        if got != want {
            wrong.push(format!(
                "{rule} `{body}`: expected {want:?} ({expect:?}), got {got:?}\n{detail}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} ASYNC2xx rows differ (a family that landed moves its rows from Fixme to \
         Now(Rewritten)):\n\n{}",
        wrong.len(),
        CASES.len(),
        wrong.join("\n\n")
    );
}

#[test]
fn blocking_calls_in_sync_code_are_not_reported_here() {
    // ruff only flags inside `async def`; a function that must stay sync (`__init__`) is not
    // a coroutine, so its blocking calls are kept (and said so), never called "in a coroutine".
    let cat = Catalog::builtin().unwrap();
    let src = "import os\nimport subprocess\n\n\nclass Build:\n    def __init__(self):\n        subprocess.run(['make'])\n        self.ok = os.path.exists('x')\n";
    let m = migrate_texts(&[("main.py", src)], &cat);
    assert!(m.files[0].new.is_none());
    assert!(
        m.diagnostics
            .iter()
            .all(|d| d.code != "blocking-call-in-coroutine"),
        "{:?}",
        m.diagnostics
    );
}

#[test]
fn blocking_call_in_a_function_that_becomes_async_is_rewritten() {
    // `fetch` becomes async because it sleeps; its os.system call then runs in a thread.
    let cat = Catalog::builtin().unwrap();
    let src =
        "import os\nimport time\n\n\ndef fetch():\n    time.sleep(0)\n    os.system('true')\n";
    let m = migrate_texts(&[("main.py", src)], &cat);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let new = m.files[0].new.as_deref().unwrap_or_default();
    assert!(
        new.contains("    await asyncio.to_thread(os.system, 'true')\n"),
        "{new}"
    );
}
