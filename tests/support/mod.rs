//! Support shared by the integration tests: a cached Python virtualenv, the
//! deterministic HTTP test server, multi-file fixtures, and the
//! execution-equivalence check that runs a program before and after migration.
//!
//! Each test file includes it with `mod support;`.

// Every test file compiles its own copy of this module and uses only part of
// it; without this allow, each copy would warn about the parts it leaves out.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// How long one `run_python` may take before it is killed.
pub const PYTHON_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one `run_awaitify` may take before it is killed.
pub const AWAITIFY_TIMEOUT: Duration = Duration::from_secs(120);
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(30);
/// Grace period for the output pipes to close once the child has exited: a
/// grandchild that inherited them could otherwise hang the test forever.
const PIPE_GRACE: Duration = Duration::from_secs(5);

const REQUIREMENTS: &str = "tests/python-requirements.txt";
const FIXTURE_HEADER: &str = "#- ";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn awaitify() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_awaitify"))
}

// ---------------------------------------------------------------------------
// The virtualenv

/// The Python of `<repo>/target/test-venv`, which has the pinned packages of
/// `tests/python-requirements.txt`.
///
/// The venv is built on first use and reused while the hash of the
/// requirements file, stamped inside it, still matches. Tests run as parallel
/// processes, so building is serialised by a lock on `target/test-venv.lock`.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(ensure_venv).clone()
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

fn ensure_venv() -> PathBuf {
    let target = repo_root().join("target");
    let venv = target.join("test-venv");
    let python = venv_python(&venv);
    let stamp = venv.join(".requirements-fnv1a64");
    let requirements = repo_root().join(REQUIREMENTS);
    let bytes = fs::read(&requirements)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", requirements.display()));
    let want = format!("{:016x}\n", fnv1a64(&bytes));

    fs::create_dir_all(&target)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", target.display()));
    let lock_path = target.join("test-venv.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
    // Held until `lock` is dropped at the end of this function.
    lock.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));

    if python.is_file() && fs::read_to_string(&stamp).is_ok_and(|s| s == want) {
        return python;
    }

    let started = Instant::now();
    eprintln!(
        "support: building the test venv at {} (reused until {REQUIREMENTS} changes)",
        venv.display()
    );
    if venv.exists() {
        fs::remove_dir_all(&venv)
            .unwrap_or_else(|e| panic!("cannot remove stale {}: {e}", venv.display()));
    }
    let mut create = Command::new("python3");
    create.arg("-m").arg("venv").arg(&venv);
    build_step(create, "python3 -m venv", &venv);
    let mut install = Command::new(&python);
    install
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg("-r")
        .arg(&requirements)
        .env("PIP_NO_INPUT", "1");
    build_step(
        install,
        "pip install -r tests/python-requirements.txt",
        &venv,
    );
    fs::write(&stamp, &want).unwrap_or_else(|e| panic!("cannot write {}: {e}", stamp.display()));
    eprintln!(
        "support: test venv ready in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    python
}

/// Runs one step of building the venv; on failure removes the half-built venv
/// and panics with the step's output.
fn build_step(mut cmd: Command, what: &str, venv: &Path) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("building the test venv: cannot start {what}: {e}"));
    if !out.status.success() {
        let _ = fs::remove_dir_all(venv);
        panic!(
            "building the test venv: {what} failed ({})\n--- stderr ---\n{}\n--- stdout ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout),
        );
    }
}

/// 64-bit FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A command that runs the venv's Python in the environment every program
/// under test gets: the venv first on `PATH`, fixed hashing, no bytecode
/// files, UTF-8 output, and none of the caller's `PYTHONPATH`-like settings.
fn python_command() -> Command {
    let python = python();
    let bin = python.parent().expect("venv python has a parent dir");
    let venv = bin.parent().expect("venv bin has a parent dir");
    let mut path = vec![bin.to_path_buf()];
    if let Some(old) = std::env::var_os("PATH") {
        path.extend(std::env::split_paths(&old));
    }
    let mut cmd = Command::new(&python);
    cmd.env(
        "PATH",
        std::env::join_paths(path).expect("PATH entries are valid"),
    )
    .env("VIRTUAL_ENV", venv)
    .env_remove("PYTHONPATH")
    .env_remove("PYTHONHOME")
    .env_remove("PYTHONSTARTUP")
    .env_remove("PYTEST_ADDOPTS")
    .env("PYTHONHASHSEED", "0")
    .env("PYTHONDONTWRITEBYTECODE", "1")
    .env("PYTHONIOENCODING", "utf-8")
    .env("PYTHONUNBUFFERED", "1");
    cmd
}

// ---------------------------------------------------------------------------
// Running programs

/// What a finished process did. `status` is the exit code, or 128 + the
/// signal number if a signal ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the awaitify binary in `cwd`, stdin empty, killed after
/// [`AWAITIFY_TIMEOUT`].
pub fn run_awaitify(cwd: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(awaitify());
    cmd.current_dir(cwd).args(args);
    let what = format!("awaitify {} (in {})", args.join(" "), cwd.display());
    run_with_timeout(cmd, AWAITIFY_TIMEOUT, &what)
}

/// Runs the venv's Python with `args` in `cwd`, with `env` added to the
/// environment described at [`python`]; stdin is empty. Panics if it takes
/// longer than [`PYTHON_TIMEOUT`].
pub fn run_python(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_python_with_timeout(cwd, args, env, PYTHON_TIMEOUT)
}

/// [`run_python`] with another time limit.
pub fn run_python_with_timeout(
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> Run {
    let mut cmd = python_command();
    cmd.current_dir(cwd).args(args);
    cmd.envs(env.iter().copied());
    let what = format!("python {} (in {})", args.join(" "), cwd.display());
    run_with_timeout(cmd, timeout, &what)
}

fn run_with_timeout(mut cmd: Command, timeout: Duration, what: &str) -> Run {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let (done_tx, done_rx) = mpsc::channel();
    let stdout = drain(child.stdout.take().expect("piped stdout"), done_tx.clone());
    let stderr = drain(child.stderr.take().expect("piped stderr"), done_tx);
    let text =
        |buf: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();

    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => panic!("{what}: cannot wait: {e}"),
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            wait_for_pipes(&done_rx);
            panic!(
                "{what}: timed out after {}s and was killed\n--- stdout ---\n{}\n--- stderr ---\n{}",
                timeout.as_secs_f64(),
                text(&stdout),
                text(&stderr),
            );
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    wait_for_pipes(&done_rx);
    Run {
        status: exit_code(status),
        stdout: text(&stdout),
        stderr: text(&stderr),
    }
}

/// Copies a pipe into a shared buffer on a thread, so the output read so far
/// is there even if the pipe never closes; signals `done` at end of file.
fn drain(mut pipe: impl Read + Send + 'static, done: mpsc::Sender<()>) -> Arc<Mutex<Vec<u8>>> {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&buf);
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => sink.lock().unwrap().extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
    buf
}

fn wait_for_pipes(done: &mpsc::Receiver<()>) {
    let deadline = Instant::now() + PIPE_GRACE;
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        if done.recv_timeout(left).is_err() {
            return;
        }
    }
}

fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or_else(|| signal_code(status))
}

#[cfg(unix)]
fn signal_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.signal().map_or(-1, |sig| 128 + sig)
}

#[cfg(not(unix))]
fn signal_code(_: ExitStatus) -> i32 {
    -1
}

// ---------------------------------------------------------------------------
// The HTTP test server

/// A running `tests/support/server.py`, killed on drop. Each server starts
/// with an empty state, so give each program run its own.
pub struct Server {
    /// Base URL such as `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    child: Child,
}

impl Server {
    pub fn start() -> Server {
        let script = repo_root().join("tests").join("support").join("server.py");
        let mut cmd = python_command();
        cmd.arg(&script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
        });
        let line = rx.recv_timeout(SERVER_START_TIMEOUT);
        let url = match &line {
            Ok(Ok(line)) => line.trim(),
            _ => "",
        };
        if !url.starts_with("http://127.0.0.1:") {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "test server did not print its URL within {}s (got {line:?}); its stderr is above",
                SERVER_START_TIMEOUT.as_secs()
            );
        }
        Server {
            url: url.to_owned(),
            child,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// Fixtures

/// Splits a fixture into `(relative path, contents)` pairs.
///
/// A line `#- path/to/file.py` starts a file; the lines after it, up to the
/// next header, are its contents, byte for byte (so CRLF, tabs and a BOM
/// survive). Only blank lines may come before the first header. A spec with
/// no header at all is one file, `main.py`.
pub fn parse_fixture(spec: &str) -> Result<Vec<(String, String)>, String> {
    let is_header = |line: &str| line.starts_with(FIXTURE_HEADER);
    if !spec.split_inclusive('\n').any(is_header) {
        return Ok(vec![("main.py".to_owned(), spec.to_owned())]);
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for (index, line) in spec.split_inclusive('\n').enumerate() {
        let lineno = index + 1;
        if let Some(rest) = line.strip_prefix(FIXTURE_HEADER) {
            let path = rest.trim();
            check_fixture_path(path).map_err(|e| format!("fixture line {lineno}: {e}"))?;
            if files.iter().any(|(p, _)| p == path) {
                return Err(format!("fixture line {lineno}: `{path}` appears twice"));
            }
            files.push((path.to_owned(), String::new()));
        } else if let Some((_, text)) = files.last_mut() {
            text.push_str(line);
        } else if !line.trim().is_empty() {
            return Err(format!(
                "fixture line {lineno}: text before the first `{FIXTURE_HEADER}path` header: {:?}",
                line.trim_end()
            ));
        }
    }
    Ok(files)
}

fn check_fixture_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("header without a path".to_owned());
    }
    if path.starts_with('/') || path.contains('\\') {
        return Err(format!("`{path}` must be relative, with `/` separators"));
    }
    if path
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(format!("`{path}` has an empty, `.` or `..` component"));
    }
    Ok(())
}

/// Writes the fixture `spec` (see [`parse_fixture`]) under `dir`, creating
/// directories as needed. Panics on a malformed spec.
pub fn write_fixture(dir: &Path, spec: &str) {
    let files = parse_fixture(spec).unwrap_or_else(|e| panic!("bad fixture: {e}"));
    for (rel, text) in files {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

/// Every file under `dir`, keyed by its path relative to `dir` with `/`
/// separators. `__pycache__` and `.pytest_cache` directories are left out;
/// bytes that are not UTF-8 are replaced.
pub fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
        let entries =
            fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            let path = entry.path();
            let kind = entry
                .file_type()
                .unwrap_or_else(|e| panic!("cannot stat {}: {e}", path.display()));
            if kind.is_dir() {
                if name != "__pycache__" && name != ".pytest_cache" {
                    walk(&path, &format!("{rel}/"), out);
                }
            } else if kind.is_file() {
                let bytes = fs::read(&path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                out.insert(rel, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out);
    out
}

/// Every `.rs` file under `dir`, sorted: what the tests that read the crate's own source
/// (function lengths, grammar names, API literals in the passes) go through.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

// ---------------------------------------------------------------------------
// Execution equivalence

/// Options for [`assert_equivalent`]. `Equiv::default()` compares all of
/// stdout, without a server, and expects the original to exit 0.
#[derive(Debug, Clone, Default)]
pub struct Equiv {
    /// Start a fresh test server for each run and pass its URL in `TEST_SERVER`.
    pub server: bool,
    /// Extra environment for both runs of the command.
    pub env: Vec<(String, String)>,
    /// Compare only the last non-empty line of stdout, without pytest's
    /// trailing duration (` in 0.12s`); for `python -m pytest -q`.
    pub compare_last_line: bool,
    /// The migration must leave every file byte-identical (code awaitify
    /// must refuse to touch). Without it, a migration that changes nothing
    /// fails.
    pub expect_unchanged: bool,
    /// Extra arguments for every awaitify call.
    pub args: Vec<String>,
    /// Exit status the original program must have. A wrong one means the
    /// test itself is broken (two identical crashes would look equivalent).
    pub exit_code: i32,
}

impl Equiv {
    /// The default comparison, for a fixture awaitify must leave as it is.
    pub fn unchanged() -> Equiv {
        Equiv {
            expect_unchanged: true,
            ..Equiv::default()
        }
    }
}

/// The execution-equivalence check: migrates the fixture `spec` with
/// `awaitify --write`, checks that the result compiles and that a second run
/// (`--check`) changes nothing, then runs `python <command>` on the original
/// and on the migrated tree and requires the same stdout and exit status.
///
/// Returns the migrated tree (relative path -> contents) for snapshots and
/// further assertions. Set `AWAITIFY_TEST_KEEP=1` to keep the temp dir.
pub fn assert_equivalent(spec: &str, command: &[&str], opts: Equiv) -> BTreeMap<String, String> {
    let keep = std::env::var_os("AWAITIFY_TEST_KEEP").is_some_and(|v| v == "1");
    let tmp = tempfile::Builder::new()
        .prefix("awaitify-equiv-")
        .disable_cleanup(keep)
        .tempdir()
        .expect("create temp dir");
    let root = tmp.path();
    let before = root.join("before");
    let after = root.join("after");
    write_fixture(&before, spec);
    write_fixture(&after, spec);
    let original = read_tree(&after);
    let ctx = Context {
        root,
        keep,
        command,
    };

    let extra: Vec<&str> = opts.args.iter().map(String::as_str).collect();
    let write = run_awaitify(
        root,
        &[&["--write", "after"][..], extra.as_slice()].concat(),
    );
    if write.status != 0 && write.status != 1 {
        ctx.fail(
            "`awaitify --write` must exit 0 or 1",
            &[("awaitify --write", &write)],
            None,
        );
    }
    let migrated = read_tree(&after);

    let py_files: Vec<String> = migrated
        .keys()
        .filter(|k| k.ends_with(".py"))
        .map(|k| format!("after/{k}"))
        .collect();
    if !py_files.is_empty() {
        let prefix = root.join("pycache");
        let prefix = prefix.to_str().expect("temp dir path is UTF-8");
        let mut args = vec!["-m", "py_compile"];
        args.extend(py_files.iter().map(String::as_str));
        let compile = run_python(root, &args, &[("PYTHONPYCACHEPREFIX", prefix)]);
        if compile.status != 0 {
            ctx.fail(
                "a migrated file does not compile",
                &[("py_compile", &compile), ("awaitify --write", &write)],
                Some(&migrated),
            );
        }
    }

    if opts.expect_unchanged && migrated != original {
        let changed = changed_files(&original, &migrated);
        ctx.fail(
            &format!("awaitify changed files it was expected to leave alone: {changed:?}"),
            &[("awaitify --write", &write)],
            Some(&migrated),
        );
    }
    if !opts.expect_unchanged && migrated == original {
        ctx.fail(
            "awaitify changed nothing (set `expect_unchanged` if that is intended)",
            &[("awaitify --write", &write)],
            None,
        );
    }

    let check = run_awaitify(
        root,
        &[&["--check", "after"][..], extra.as_slice()].concat(),
    );
    if check.status != 0 {
        ctx.fail(
            "not idempotent: `awaitify --check` on the migrated tree must exit 0",
            &[("awaitify --check", &check)],
            Some(&migrated),
        );
    }

    let old = run_program(&before, command, &opts);
    let new = run_program(&after, command, &opts);
    let runs = [("original", &old), ("migrated", &new)];
    if old.status != opts.exit_code {
        ctx.fail(
            &format!(
                "the original program exited {}, not {}: the test itself is broken",
                old.status, opts.exit_code
            ),
            &runs,
            None,
        );
    }
    let compared = |run: &Run| {
        if opts.compare_last_line {
            last_line(&run.stdout)
        } else {
            run.stdout.clone()
        }
    };
    if old.status != new.status || compared(&old) != compared(&new) {
        let what = if opts.compare_last_line {
            "the last line of stdout"
        } else {
            "stdout"
        };
        ctx.fail(
            &format!("the migrated program differs from the original in {what} or exit status"),
            &runs,
            Some(&migrated),
        );
    }
    migrated
}

/// Runs `python <command>` in `dir` as [`assert_equivalent`] does, with a
/// fresh server when `opts.server` is set.
fn run_program(dir: &Path, command: &[&str], opts: &Equiv) -> Run {
    let server = opts.server.then(Server::start);
    let mut env: Vec<(&str, &str)> = opts
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Some(server) = &server {
        env.push(("TEST_SERVER", &server.url));
    }
    run_python(dir, command, &env)
}

struct Context<'a> {
    root: &'a Path,
    keep: bool,
    command: &'a [&'a str],
}

impl Context<'_> {
    fn fail(&self, why: &str, runs: &[(&str, &Run)], tree: Option<&BTreeMap<String, String>>) -> ! {
        let mut msg = format!("{why}\ncommand: python {}\n", self.command.join(" "));
        for (name, run) in runs {
            let _ = write!(
                msg,
                "\n=== {name}: exit {} ===\n--- stdout ---\n{}\n--- stderr ---\n{}\n",
                run.status, run.stdout, run.stderr
            );
        }
        if let Some(tree) = tree {
            msg.push_str("\n=== migrated files ===\n");
            for (path, text) in tree {
                let _ = write!(msg, "--- after/{path} ---\n{text}\n");
            }
        }
        if self.keep {
            let _ = write!(msg, "\nkept: {}\n", self.root.display());
        } else {
            msg.push_str("\n(set AWAITIFY_TEST_KEEP=1 to keep the temp dir)\n");
        }
        panic!("{msg}");
    }
}

fn changed_files(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Vec<String> {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect()
}

/// The last non-empty line of `stdout`, trimmed, without pytest's duration
/// (` in 0.12s`, ` in 61.20s (0:01:01)`), as the acceptance runner compares.
pub fn last_line(stdout: &str) -> String {
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let bytes = line.as_bytes();
    let mut out = String::new();
    let (mut copied, mut i) = (0, 0);
    while i < bytes.len() {
        match duration_at(bytes, i) {
            Some(end) => {
                out.push_str(&line[copied..i]);
                copied = end;
                i = end;
            }
            None => i += 1,
        }
    }
    out.push_str(&line[copied..]);
    out.trim().to_owned()
}

/// Matches `\s+in\s+\d+(\.\d+)?s(\s+\(\d+:\d\d:\d\d\))?` at `start`,
/// returning where the match ends.
fn duration_at(b: &[u8], start: usize) -> Option<usize> {
    let spaces = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_whitespace) {
            *i += 1;
        }
        *i > from
    };
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let byte = |i: usize, want: u8| b.get(i) == Some(&want);

    let mut i = start;
    if !spaces(&mut i) || !b[i..].starts_with(b"in") {
        return None;
    }
    i += 2;
    if !spaces(&mut i) || digits(&mut i) == 0 {
        return None;
    }
    if byte(i, b'.') {
        let mut j = i + 1;
        if digits(&mut j) > 0 {
            i = j;
        }
    }
    if !byte(i, b's') {
        return None;
    }
    i += 1;
    let end = i;
    if !spaces(&mut i) || !byte(i, b'(') {
        return Some(end);
    }
    i += 1;
    let hours = digits(&mut i) > 0 && byte(i, b':');
    i += 1;
    let minutes = hours && digits(&mut i) == 2 && byte(i, b':');
    i += 1;
    let seconds = minutes && digits(&mut i) == 2 && byte(i, b')');
    Some(if seconds { i + 1 } else { end })
}

// ---------------------------------------------------------------------------
// Migrating fixtures in memory

/// Migrates a fixture (one file, or several under `#- path` headers) in memory.
pub fn migrate_fixture(spec: &str) -> awaitify::run::Migration {
    let files = parse_fixture(spec).expect("valid fixture");
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    awaitify::run::migrate_texts(&refs, &awaitify::rules::Catalog::builtin().unwrap())
}

/// The migrated project rendered back in fixture form (every file, changed or not).
pub fn fixture_after(spec: &str) -> String {
    let m = migrate_fixture(spec);
    let single = !spec.trim_start().starts_with(FIXTURE_HEADER);
    let mut out = String::new();
    for f in &m.files {
        if !single {
            out.push_str(&format!("{FIXTURE_HEADER}{}\n", f.display));
        }
        out.push_str(f.new.as_deref().unwrap_or(&f.old));
    }
    out
}

/// Migrates one `main.py` in memory: its text afterwards and its diagnostics as
/// `line:col code`.
pub fn migrate_main(src: &str) -> (String, Vec<String>) {
    let m = awaitify::run::migrate_texts(
        &[("main.py", src)],
        &awaitify::rules::Catalog::builtin().unwrap(),
    );
    let f = &m.files[0];
    let diags = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{} {}", d.line, d.col, d.code))
        .collect();
    (f.new.clone().unwrap_or_else(|| f.old.clone()), diags)
}

/// Every needle is in the haystack.
#[track_caller]
pub fn has(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(haystack.contains(n), "missing {n:?} in:\n{haystack}");
    }
}

/// No needle is in the haystack.
#[track_caller]
pub fn lacks(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(!haystack.contains(n), "unexpected {n:?} in:\n{haystack}");
    }
}

/// The migrated `main.py` of fixture `spec`, once the original and the migrated program have
/// printed the same.
pub fn equivalent_main(spec: &str) -> String {
    let tree = assert_equivalent(spec, &["main.py"], Equiv::default());
    tree["main.py"].clone()
}

/// Migrates fixture `spec` and checks that `.method()` stays pinned: no `async def method`,
/// and the report says it is called on a value of unknown type. Returns the migrated text.
#[track_caller]
pub fn pinned_method(spec: &str, method: &str) -> String {
    let out = fixture_after(spec);
    lacks(&out, &[&format!("async def {method}")]);
    has(
        &reported(spec),
        &[&format!(
            "`.{method}()` is called on a value of unknown type"
        )],
    );
    out
}

/// The diagnostics of migrating fixture `spec`, one a line.
pub fn reported(spec: &str) -> String {
    migrate_fixture(spec)
        .diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
