//! The pre-filter only decides what to index: results must equal indexing everything.

use awaitify::rules::Catalog;
use awaitify::run::{Input, Migration, Settings, migrate};
use std::path::PathBuf;

/// A catalog type with an awaited method, so typed values flow between modules.
const DB_RULE: &str = r#"
id = "test-db"
summary = "a test driver"

[[call]]
name = "dbdriver.connect"
action = "keep"
returns = "dbdriver.Conn"

[[method]]
type = "dbdriver.Conn"
names = ["query"]
action = "keep"
await = true
"#;

const FIXTURE: &[(&str, &str)] = &[
    // A seed, re-exported through a package `__init__`.
    (
        "pkg/__init__.py",
        "from .clock import wait_a_bit\nfrom . import util\n",
    ),
    (
        "pkg/clock.py",
        "import time\n\n\ndef wait_a_bit():\n    time.sleep(0.1)\n",
    ),
    ("pkg/util.py", "def helper(x):\n    return x + 1\n"),
    // Caller through the re-export, two levels up.
    (
        "app/main.py",
        "from pkg import wait_a_bit\nfrom app.service import Service\n\n\ndef main():\n    wait_a_bit()\n    Service().execute_job()\n\n\nif __name__ == \"__main__\":\n    main()\n",
    ),
    ("app/__init__.py", ""),
    // Subclass in another module: the override family changes colour together.
    (
        "app/base.py",
        "class Worker:\n    def step(self):\n        return 1\n",
    ),
    (
        "app/service.py",
        "import time\nfrom app.base import Worker\n\n\nclass Service(Worker):\n    def step(self):\n        time.sleep(0.01)\n\n    def execute_job(self):\n        self.step()\n",
    ),
    // No import of the async code: a call on an unknown receiver resolved by method name.
    (
        "loose/duck.py",
        "def drive(w):\n    w.execute_job()\n\n\ndef other(x):\n    return x.helper_name()\n",
    ),
    // An existing coroutine method resolved by name from a seed module.
    (
        "loose/coro.py",
        "class Fetcher:\n    async def fetch_all(self):\n        return 1\n",
    ),
    (
        "loose/user.py",
        "import time\n\n\ndef go(f):\n    time.sleep(1)\n    f.fetch_all()\n",
    ),
    // A typed value handed to a module that does not import the driver.
    (
        "data/open.py",
        "import dbdriver\nfrom data import rows\n\n\ndef load():\n    conn = dbdriver.connect()\n    return rows.fetch(conn)\n",
    ),
    ("data/__init__.py", ""),
    (
        "data/rows.py",
        "def fetch(conn):\n    return conn.query('select 1')\n",
    ),
    // Unrelated modules: never indexed, still checked.
    (
        "other/plain.py",
        "import os\n\n\ndef f():\n    return os.getcwd()\n",
    ),
    ("other/broken.py", "def f(:\n    pass\n"),
    ("other/latin.py", "x = '\u{e9}'\n# coding: latin-1\n"),
];

fn run(files: &[(&str, &str)], prefilter: bool) -> Migration {
    let mut catalog = Catalog::builtin().unwrap();
    catalog.add_toml("test-db.toml", DB_RULE).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().to_path_buf();
    // Real files, so package detection (`__init__.py`) works as in the CLI.
    for (p, t) in files {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, t).unwrap();
    }
    let inputs = files
        .iter()
        .map(|(p, t)| Input {
            path: root.join(p),
            display: p.to_string(),
            bytes: t.as_bytes().to_vec(),
            root: root.clone(),
        })
        .collect();
    migrate(
        inputs,
        &Settings {
            catalog: &catalog,
            keep_sync: &[],
            console_scripts: &[],
            explain: None,
            target: Default::default(),
            prefilter,
        },
    )
}

fn render(m: &Migration) -> String {
    let mut out = String::new();
    for f in &m.files {
        if let Some(new) = &f.new {
            out.push_str(&format!("#- {}\n{new}", f.display));
        }
    }
    for d in &m.diagnostics {
        out.push_str(&format!("{d}\n"));
    }
    out.push_str(&format!("{}\n", m.summary));
    out
}

#[test]
fn prefiltered_equals_full() {
    let full = render(&run(FIXTURE, false));
    let filtered = render(&run(FIXTURE, true));
    assert_eq!(filtered, full);
    // The fixture exercises what it claims to.
    for want in [
        "#- app/main.py",
        "async def step(self):\n        return 1",
        "await w.execute_job()",
        "await f.fetch_all()",
        "await conn.query",
        "other/broken.py:1:7: syntax-error",
    ] {
        assert!(full.contains(want), "{want} missing from\n{full}");
    }
    assert!(!full.contains("#- other/plain.py"));
}

#[test]
fn every_subset_of_the_fixture_agrees() {
    // Dropping one file at a time changes which modules are reachable by import or by name.
    for (skip, (skipped, _)) in FIXTURE.iter().enumerate() {
        let files: Vec<(&str, &str)> = FIXTURE
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, f)| *f)
            .collect();
        assert_eq!(
            render(&run(&files, true)),
            render(&run(&files, false)),
            "without {skipped}"
        );
    }
}
