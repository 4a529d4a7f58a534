//! The Python names the Rust passes write or recognise (`subprocess.Popen`,
//! `asyncio.create_subprocess_exec`, `httpx.AsyncClient`), read from the `[names]` table of
//! the rule file each section is named after. The sync->async table is the product, so it
//! lives in `transforms/` and not in pass code; a missing or unknown key fails when the
//! catalog loads.

use crate::rules::{PassName, Rule};
use serde::Deserialize;
use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Every pass's names, one section per rule file (`[names]` of `transforms/<id>.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    #[serde(rename = "async-aware")]
    pub core: Core,
    #[serde(rename = "subprocess-popen")]
    pub subprocess: Subprocess,
    #[serde(rename = "requests-call")]
    pub requests: Requests,
    #[serde(rename = "threading-thread")]
    pub threads: Threads,
    #[serde(rename = "queue-asyncio")]
    pub queue: Queue,
    #[serde(rename = "socket-streams")]
    pub sockets: Sockets,
    #[serde(rename = "blocking-open")]
    pub files: Files,
    #[serde(rename = "dangling-task")]
    pub dangling_task: DanglingTask,
    #[serde(rename = "deprecated-loop-api")]
    pub loop_api: LoopApi,
}

/// The passes every migration runs (async def, tests, to-thread, hazards).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Core {
    pub contextmanager: String,
    pub asynccontextmanager: String,
    pub fixture: String,
    pub async_fixture: String,
    pub test_cases: Vec<String>,
    pub async_test_case: String,
    pub to_thread: String,
    /// Runs a coroutine from sync code (an entry point, a console script).
    pub run: String,
    pub wait_for: String,
    /// Caught before a catch-all handler that would swallow cancellation.
    pub cancelled_error: String,
    /// What `wait_for` raises on Python before 3.11 (an alias of `TimeoutError` since).
    pub timeout_error: String,
    /// The marker an async test function needs (pytest-asyncio).
    pub pytest_asyncio_mark: String,
    pub base_exception: String,
    /// Functions that call their callback argument without `await`.
    pub sync_callers: Vec<String>,
    /// Functions that run their callable argument in a worker thread.
    pub thread_functions: Vec<String>,
    /// Executor methods that do (`loop.run_in_executor`, `pool.submit`).
    pub thread_methods: Vec<String>,
    /// The types whose `thread_methods` run their callable in a worker thread or process.
    pub executors: Vec<String>,
    /// Decorators that make a method take no `self` (`staticmethod`, `abc.abstractstaticmethod`).
    pub staticmethods: Vec<String>,
    /// Raised by `__next__` at the end; `__anext__` raises `stop_async_iteration`.
    pub stop_iteration: String,
    pub stop_async_iteration: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subprocess {
    pub popen: String,
    pub run: String,
    pub call: String,
    pub check_call: String,
    pub check_output: String,
    pub create_exec: String,
    pub create_shell: String,
    pub pipe: String,
    pub devnull: String,
    pub stdout: String,
    pub async_pipe: String,
    pub async_devnull: String,
    pub async_stdout: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requests {
    /// The module-level helpers that get the function's shared client (`requests.get`).
    pub helpers: Vec<String>,
    pub urlopen: String,
    pub session: String,
    pub response: String,
    /// The response bound by `with requests.get(...) as r:` (an httpx stream).
    pub stream_response: String,
    /// The response bound by `with urlopen(...) as r:` (an httpx stream).
    pub urllib_stream_response: String,
    pub client: String,
    pub async_client: String,
    /// Calls whose result is a body requests and httpx both send as it is (`bytes(...)`,
    /// `json.dumps(...)`): httpx's `content=`.
    pub raw_bodies: Vec<String>,
    /// Methods that return bytes or text whatever their receiver (`text.encode()`), by name:
    /// the receiver is mostly an untyped parameter.
    pub raw_methods: Vec<String>,
    /// Calls whose result is a mapping, which both form-encode (`dict(...)`).
    pub form_bodies: Vec<String>,
    /// Calls that make text (`str(...)`): a URL, not a `Request` object.
    pub text_calls: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threads {
    pub thread: String,
    pub pool: String,
    /// The type tag of the pool bound by `with ThreadPoolExecutor() as pool:`.
    pub pool_entered: String,
    pub future: String,
    pub as_completed: String,
    pub async_as_completed: String,
    pub wait: String,
    pub gather: String,
    pub shield: String,
    pub semaphore: String,
    pub task_group: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// The type tag of every queue.
    pub queue: String,
    pub empty: String,
    pub full: String,
    /// The constructors taking a `maxsize` (without one, the queue is unbounded).
    pub with_maxsize: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sockets {
    pub create_connection: String,
    pub socket: String,
    pub socket_file: String,
    pub open_connection: String,
    /// The one `shutdown` how that has a stream equivalent (`write_eof`).
    pub shut_wr: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Files {
    pub aiofiles_open: String,
    pub json_load: String,
    pub json_dump: String,
    /// What a `json.load`/`json.dump` of a file read or written whole becomes.
    pub json_loads: String,
    pub json_dumps: String,
    /// Types whose sync methods other code may call on its own.
    pub followed_types: Vec<String>,
    /// Builtins that only look at the object handed to them, never call its methods.
    pub inspecting: Vec<String>,
    /// `print`, as the catalog names it (`print-to-file`).
    pub print: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DanglingTask {
    pub create_task: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopApi {
    pub get_running_loop: String,
}

impl Core {
    /// Whether the qualified name is `unittest.TestCase`.
    pub fn is_test_case(&self, qualified: &str) -> bool {
        self.test_cases.iter().any(|t| t == qualified)
    }
}

impl Names {
    /// The sections of the rules' `[names]` tables, each under its rule's id, and the names
    /// of the family passes that type their own.
    pub fn of(rules: &[Rule]) -> Result<(Names, FamilyNames), String> {
        let mut sections = toml::Table::new();
        let mut family = FamilyNames::default();
        for rule in rules.iter().filter(|r| !r.pass_names.is_empty()) {
            let own = rule
                .pass
                .and_then(|p| Some((p, p.load_names(&rule.pass_names)?)));
            match own {
                Some((pass, loaded)) => {
                    let names = loaded.map_err(|e| format!("[names] of {}: {e}", rule.id))?;
                    if family.0.insert(pass, names).is_some() {
                        return Err(format!(
                            "[names] of {}: pass `{}` already has its names from another rule",
                            rule.id,
                            pass.as_str()
                        ));
                    }
                }
                None => {
                    sections.insert(rule.id.clone(), toml::Value::Table(rule.pass_names.clone()));
                }
            }
        }
        let missing = PassName::ALL
            .iter()
            .find(|p| !family.0.contains_key(p) && p.load_names(&toml::Table::new()).is_some());
        if let Some(p) = missing {
            return Err(format!(
                "pass `{}` needs a `[names]` table in a rule that names it",
                p.as_str()
            ));
        }
        let names = toml::Value::Table(sections)
            .try_into()
            .map_err(|e| format!("[names]: {e}"))?;
        Ok((names, family))
    }
}

/// The `[names]` of the family passes whose registry line types their own (`names:` in
/// `family_passes!` in `src/passes/registry.rs`), by pass.
#[derive(Clone, Default)]
pub struct FamilyNames(HashMap<PassName, Arc<dyn Any + Send + Sync>>);

impl FamilyNames {
    /// The names of `pass`, of the type its registry line declares.
    pub fn get<T: 'static>(&self, pass: PassName) -> Option<&T> {
        self.0.get(&pass)?.downcast_ref()
    }
}

impl fmt::Debug for FamilyNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// The last component of a qualified name (`contextlib.contextmanager` -> `contextmanager`).
pub fn last(qualified: &str) -> &str {
    qualified.rsplit('.').next().unwrap_or(qualified)
}

/// The module part of a qualified name (`asyncio.subprocess.PIPE` -> `asyncio.subprocess`).
pub fn module(qualified: &str) -> &str {
    qualified.rsplit_once('.').map_or(qualified, |(m, _)| m)
}

#[cfg(test)]
mod tests {
    use crate::rules::Catalog;

    #[test]
    fn a_missing_or_unknown_name_fails_when_the_catalog_loads() {
        let cat = Catalog::builtin().unwrap();
        let mut rules = cat.rules.clone();
        let popen = rules
            .iter_mut()
            .find(|r| r.id == "subprocess-popen")
            .unwrap();
        popen.pass_names.remove("popen");
        let err = super::Names::of(&rules).unwrap_err();
        assert!(err.contains("popen"), "{err}");

        // A pass that types its own names: checked the same way.
        let mut rules = cat.rules.clone();
        let redis = rules.iter().position(|r| r.id == "redis-asyncio").unwrap();
        rules[redis].pass_names.remove("async_client");
        let err = super::Names::of(&rules).unwrap_err();
        assert!(
            err.contains("redis-asyncio") && err.contains("async_client"),
            "{err}"
        );
        rules[redis].pass_names.clear();
        let err = super::Names::of(&rules).unwrap_err();
        assert!(err.contains("`redis` needs a `[names]` table"), "{err}");

        let mut rules = cat.rules.clone();
        let sleep = rules.iter_mut().find(|r| r.id == "blocking-sleep").unwrap();
        sleep.pass_names.insert("x".into(), "a.b".into());
        let err = super::Names::of(&rules).unwrap_err();
        assert!(err.contains("blocking-sleep"), "{err}");
    }
}
