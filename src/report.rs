//! Diagnostics, the run summary and statistics, as text, JSON or SARIF 2.1.0.

use crate::edit::Edit;
use crate::matcher::{CallFact, Target};
use crate::rules::Catalog;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;

/// How serious a diagnostic is: a property of its code (see [`CODES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The change was not written (a file that could not be processed, a rewrite that failed
    /// a check); the run exits 1.
    Error,
    /// Written, with the behaviour kept, but the output needs a review.
    Warning,
    /// Stays sync (or in a thread) by design: nothing to fix.
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One diagnostic code: its severity and a one-line description (SARIF's `shortDescription`,
/// the README's diagnostics table).
pub struct Code {
    pub name: &'static str,
    pub severity: Severity,
    pub doc: &'static str,
}

const fn code(name: &'static str, severity: Severity, doc: &'static str) -> Code {
    Code {
        name,
        severity,
        doc,
    }
}

use Severity::{Error as E, Note as N, Warning as W};

/// Every diagnostic code, one line each. A code missing here fails the tests (debug builds
/// assert it when the diagnostic is made, and `registry_covers_every_code_in_the_sources`
/// scans the sources).
pub const CODES: &[Code] = &[
    code(
        "syntax-error",
        E,
        "the input has a syntax error; the file is skipped",
    ),
    code(
        "parse-error",
        E,
        "the parser failed on the file; it is skipped",
    ),
    code(
        "decode-error",
        E,
        "the file cannot be decoded; it is skipped",
    ),
    code("read-error", E, "the file could not be read; it is skipped"),
    code(
        "broken-symlink",
        E,
        "the path is a broken symlink; it is skipped",
    ),
    code(
        "symlink-loop",
        E,
        "the path is a symlink loop; it is skipped",
    ),
    code(
        "not-a-file",
        E,
        "the path is not a regular file; it is skipped",
    ),
    code("walk-error", E, "a directory could not be walked"),
    code(
        "file-too-large",
        E,
        "the file is over --max-file-size; it is skipped",
    ),
    code(
        "changed-on-disk",
        E,
        "the file changed during the run; it was not overwritten",
    ),
    code("write-error", E, "the file could not be written"),
    code(
        "encode-error",
        E,
        "the new text does not fit the file's encoding; file unchanged",
    ),
    code(
        "internal-error",
        E,
        "a rewrite was discarded because it was invalid (a bug); file unchanged",
    ),
    code(
        "sync-boundary",
        N,
        "a function stays sync because a caller cannot await it",
    ),
    code(
        "blocking-call-kept",
        N,
        "a blocking call stays in a function that must stay sync",
    ),
    code(
        "object-kept",
        N,
        "an object stays sync with all of its uses: one of them cannot convert",
    ),
    code(
        "primitive-kept",
        N,
        "a threading primitive or queue stays: code that stays sync uses it",
    ),
    code(
        "timeout-raises",
        N,
        "a primitive waited on with a timeout stays: asyncio's timed wait raises",
    ),
    code(
        "async-value-passed-to-sync-code",
        N,
        "a file or connection handed to unfollowed code stays sync",
    ),
    code(
        "requests-session-outside-coroutine",
        N,
        "a session made outside a coroutine stays requests",
    ),
    code(
        "requests-session-call",
        N,
        "a session used in a way httpx cannot map stays requests",
    ),
    code(
        "socket-kept",
        N,
        "a socket used beyond the stream API stays blocking",
    ),
    code(
        "thread-kept",
        N,
        "a thread whose use cannot be followed stays a thread",
    ),
    code(
        "thread-pool-kept",
        N,
        "a thread pool whose use cannot be followed stays",
    ),
    code(
        "subprocess-popen-kept",
        N,
        "a Popen whose object escapes stays",
    ),
    code(
        "subprocess-argument",
        N,
        "a subprocess call with options asyncio lacks runs in a thread",
    ),
    code(
        "subprocess-in-expression",
        N,
        "a subprocess call inside a larger expression runs in a thread",
    ),
    code(
        "blocking-call-in-coroutine",
        W,
        "a blocking call is left in a coroutine",
    ),
    code(
        "unconvertible-call",
        W,
        "a call with no faithful async form is left as is",
    ),
    code(
        "unconvertible-with",
        W,
        "a `with` with no faithful async form is left as is",
    ),
    code(
        "unresolved-call",
        W,
        "a call that may reach a now-async function is left as is",
    ),
    code(
        "requests-kept-in-thread",
        W,
        "a requests call runs in a thread: its response and exceptions are requests'",
    ),
    code(
        "requests-stream-buffered",
        W,
        "`stream=True` is dropped: httpx reads the whole body",
    ),
    code(
        "console-script-call",
        W,
        "a console script stays a sync wrapper; call its `_async` twin here",
    ),
    code(
        "coroutine-callback",
        W,
        "a coroutine function is handed to a sync callback API",
    ),
    code(
        "dangling-task",
        W,
        "a task's result is dropped and may be garbage-collected",
    ),
    code(
        "deprecated-loop-api",
        W,
        "a deprecated event-loop API is used",
    ),
    code(
        "never-awaited",
        W,
        "a coroutine is called in sync code and never awaited",
    ),
    code(
        "swallowed-cancellation",
        W,
        "an `except` would swallow task cancellation",
    ),
    code("unbounded-queue", W, "an asyncio queue without maxsize"),
    code(
        "sqlite-transaction",
        W,
        "a `with conn:` transaction that cannot be rewritten",
    ),
    code(
        "mixed-decorator",
        N,
        "a function stays sync because its project decorator also wraps ones that stay sync",
    ),
    code(
        "unsound-change-reverted",
        N,
        "a function stays sync: making it async left a use of it un-updated in the output",
    ),
    code(
        "external-base",
        N,
        "a method stays sync because a base outside the project calls it without await",
    ),
    code(
        "external-decorator",
        N,
        "a function stays sync because a decorator outside the project wraps it",
    ),
    code(
        "opaque-decorator",
        N,
        "a function stays sync because awaitify cannot follow what its decorator does with it",
    ),
    code(
        "mocked-api-kept",
        N,
        "a test mocks a sync API: its catalog rules stay sync project-wide, so the mock still intercepts it",
    ),
    code(
        "mocked-function-kept",
        N,
        "a function stays sync because a test replaces it with a mock, whose return value cannot be awaited",
    ),
    code(
        "mock-target-unknown",
        W,
        "a mock whose target awaitify cannot read: every catalog API stays sync in that run",
    ),
    code(
        "blocking-sync-call",
        W,
        "a coroutine calls a function that stays sync and blocks: the event loop blocks there",
    ),
    code(
        "blocking-callable-passed",
        W,
        "a blocking function is passed as a value inside a coroutine; it is not rewritten",
    ),
    code(
        "unknown-suppression",
        W,
        "an `# awaitify: ignore[...]` comment names no diagnostic code",
    ),
    code(
        "unattached-keep-sync",
        W,
        "a `# awaitify: keep-sync` comment is on no `def` line and not directly above one",
    ),
    code(
        "caller-outside-scope",
        W,
        "a function inside `--only` stays sync: a caller outside it, which is not edited, calls it",
    ),
    code(
        "async-migration",
        N,
        "the file is rewritten to asyncio (SARIF only)",
    ),
];

/// The registry as a Markdown table: the README's diagnostics section (checked by
/// `tests/readme.rs`).
pub fn codes_markdown() -> String {
    let mut out = String::from("| code | severity | meaning |\n|---|---|---|\n");
    for c in CODES {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.name,
            c.severity.as_str(),
            c.doc
        ));
    }
    out
}

/// The registry entry of a diagnostic code.
pub fn lookup(name: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.name == name)
}

/// The severity of a code; an unregistered one fails debug builds (the tests) loudly.
fn severity_of(name: &str) -> Severity {
    let found = lookup(name);
    debug_assert!(
        found.is_some(),
        "diagnostic code `{name}` is not registered in report::CODES"
    );
    found.map_or(Severity::Warning, |c| c.severity)
}

/// A message tied to a place in a file: `path:line:col: code message`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub severity: Severity,
    /// Stable kebab-case code naming the pattern (`sync-boundary`, `syntax-error`).
    pub code: &'static str,
    pub message: String,
}

impl Diagnostic {
    pub fn new(
        path: &str,
        line: usize,
        col: usize,
        code: &'static str,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            path: path.to_string(),
            line,
            col,
            severity: severity_of(code),
            code,
            message: message.into(),
        }
    }

    /// The diagnostic, checked (in debug builds) to carry a code registered as an error.
    pub fn as_error(self) -> Diagnostic {
        debug_assert_eq!(
            self.severity,
            Severity::Error,
            "`{}` is not an error code",
            self.code
        );
        self
    }
}

impl Diagnostic {
    /// The text output's form: `path:line:col: code severity: message`. (`Display` leaves the
    /// severity out: the form the tests and snapshots compare.)
    pub fn with_severity(&self) -> String {
        format!(
            "{}:{}:{}: {} {}: {}",
            self.path,
            self.line,
            self.col,
            self.code,
            self.severity.as_str(),
            self.message
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {} {}",
            self.path, self.line, self.col, self.code, self.message
        )
    }
}

/// Counts for the closing summary line.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub files_scanned: usize,
    pub files_changed: usize,
    pub functions_made_async: usize,
    pub call_sites_rewritten: usize,
    /// Every diagnostic found, shown or not.
    pub diagnostics: usize,
    /// Error diagnostics: each is a change not written (or a file not read).
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    /// Diagnostics the output shows; the rest are counted by why they are hidden:
    pub shown: usize,
    /// notes in text output without `--show-notes`,
    pub notes_hidden: usize,
    /// diagnostics `--select` / `--ignore` / `--extend-select` leave out,
    pub deselected: usize,
    /// diagnostics an `# awaitify: ignore` comment hides.
    pub suppressed: usize,
    /// Calls into now-async code the output leaves un-awaited: 0 unless reverting failed.
    pub unawaited_async_calls: usize,
    /// Packages the migrated code now imports (`httpx`, `aiofiles`, ...).
    pub packages: Vec<String>,
    /// Rewritten call sites per catalog rule id, in the files that change.
    pub rules: BTreeMap<String, usize>,
    /// With `--public-api`: public functions, methods and extension points made async.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_api: Option<usize>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, one: &str, many: &str| {
            if n == 1 {
                format!("{n} {one}")
            } else {
                format!("{n} {many}")
            }
        };
        write!(
            f,
            "{} scanned, {} {}, {} made async, {} rewritten",
            plural(self.files_scanned, "file", "files"),
            self.files_changed,
            if self.files_changed == 1 {
                "file changed"
            } else {
                "files changed"
            },
            plural(self.functions_made_async, "function", "functions"),
            plural(self.call_sites_rewritten, "call site", "call sites"),
        )?;
        // The risk: what must be 0, what was not written, what needs a review.
        write!(
            f,
            "; unawaited calls into async code: {}, {} (changes not written), {}, {}",
            self.unawaited_async_calls,
            plural(self.errors, "error", "errors"),
            plural(self.warnings, "warning", "warnings"),
            plural(self.notes, "note", "notes"),
        )?;
        let mut hidden = Vec::new();
        if self.notes_hidden > 0 {
            hidden.push(format!(
                "{} (--show-notes)",
                plural(self.notes_hidden, "note", "notes")
            ));
        }
        if self.deselected > 0 {
            hidden.push(format!(
                "{} deselected (--select/--ignore)",
                self.deselected
            ));
        }
        if self.suppressed > 0 {
            hidden.push(format!(
                "{} suppressed (# awaitify: ignore)",
                self.suppressed
            ));
        }
        if !hidden.is_empty() {
            write!(f, "; not shown: {}", hidden.join(", "))?;
        }
        if !self.packages.is_empty() {
            write!(f, "; new dependencies: {}", self.packages.join(", "))?;
        }
        if let Some(n) = self.public_api {
            write!(
                f,
                "; public API made async: {}",
                plural(n, "function", "functions")
            )?;
        }
        Ok(())
    }
}

/// Counts for `--statistics`: rewritten call sites per rule, diagnostics per code.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Statistics {
    pub rules: BTreeMap<String, usize>,
    pub diagnostics: BTreeMap<String, usize>,
}

impl Statistics {
    pub fn new(summary: &Summary, diagnostics: &[Diagnostic]) -> Statistics {
        let mut by_code = BTreeMap::new();
        for d in diagnostics {
            *by_code.entry(d.code.to_string()).or_insert(0) += 1;
        }
        Statistics {
            rules: summary.rules.clone(),
            diagnostics: by_code,
        }
    }
}

impl fmt::Display for Statistics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rules
            .values()
            .chain(self.diagnostics.values())
            .map(|n| n.to_string().len())
            .max()
            .unwrap_or(1);
        writeln!(f, "rewritten call sites by rule:")?;
        if self.rules.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for (rule, n) in &self.rules {
            writeln!(f, "  {n:>width$}  {rule}")?;
        }
        writeln!(f, "diagnostics by code:")?;
        if self.diagnostics.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for (code, n) in &self.diagnostics {
            writeln!(f, "  {n:>width$}  {code}")?;
        }
        Ok(())
    }
}

/// Catalog call sites of one module that an edit touches, counted per rule id.
pub fn rule_hits(cat: &Catalog, calls: &[CallFact], edits: &[Edit]) -> BTreeMap<String, usize> {
    let mut hits = BTreeMap::new();
    for call in calls {
        let entry = match &call.target {
            Target::Rule(q) => cat.call(q),
            Target::Method { ty, name } => cat.method(ty, name),
            _ => None,
        };
        let Some(entry) = entry else { continue };
        let touched = edits
            .iter()
            .any(|e| e.start < call.end && e.end.max(e.start + 1) > call.start);
        if touched {
            *hits.entry(cat.rule(entry.rule).id.clone()).or_insert(0) += 1;
        }
    }
    hits
}

/// A file that changes, for the JSON and SARIF reports.
pub struct Changed<'a> {
    pub path: &'a str,
    pub diff: String,
}

/// The `--format json` document (see the README's "JSON output").
pub fn json_report(
    changed: &[Changed],
    diagnostics: &[Diagnostic],
    summary: &Summary,
    statistics: Option<&Statistics>,
    public_api: Option<&[crate::scope::ApiChange]>,
) -> Value {
    let files: Vec<Value> = changed
        .iter()
        .map(|c| json!({"path": c.path, "diff": c.diff}))
        .collect();
    let mut doc = json!({
        "version": 1,
        "files": files,
        "diagnostics": diagnostics,
        "summary": summary,
    });
    if let Some(s) = statistics {
        doc["statistics"] = json!(s);
    }
    if let Some(api) = public_api {
        doc["public_api"] = json!(api);
    }
    doc
}

/// The `--format sarif` document: SARIF 2.1.0, one result per diagnostic plus a `note` per file
/// that changes (rule `async-migration`), for code-scanning tools.
pub fn sarif_report(changed: &[Changed], diagnostics: &[Diagnostic], write: bool) -> Value {
    let mut codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    if !changed.is_empty() {
        codes.push("async-migration");
    }
    codes.sort();
    codes.dedup();
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| json!({"id": c, "name": c, "shortDescription": {"text": describe(c)}}))
        .collect();
    let location = |path: &str, line: usize, col: usize| {
        json!([{"physicalLocation": {
            "artifactLocation": {"uri": uri(path)},
            "region": {"startLine": line.max(1), "startColumn": col.max(1)}
        }}])
    };
    let mut results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            json!({
                "ruleId": d.code,
                "level": d.severity.as_str(),
                "message": {"text": d.message},
                "locations": location(&d.path, d.line, d.col),
            })
        })
        .collect();
    for c in changed {
        let verb = if write { "migrated" } else { "would migrate" };
        results.push(json!({
            "ruleId": "async-migration",
            "level": "note",
            "message": {"text": format!("awaitify {verb} this file to asyncio")},
            "locations": location(c.path, 1, 1),
        }));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "awaitify",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn describe(code: &str) -> &'static str {
    lookup(code).map_or("see the awaitify README", |c| c.doc)
}

/// A relative or absolute path as a URI reference (forward slashes, reserved bytes escaped).
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if path.starts_with('/') {
        format!("file://{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kebab-case literal passed as a code where diagnostics are made is registered, and
    /// no code is registered twice.
    #[test]
    fn registry_covers_every_code_in_the_sources() {
        let mut seen = std::collections::HashSet::new();
        for c in CODES {
            assert!(seen.insert(c.name), "`{}` is registered twice", c.name);
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![dir.clone()];
        let mut missing = Vec::new();
        while let Some(d) = files.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    files.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                for (i, l) in lines.iter().enumerate() {
                    let makes = ["diag(", "Diagnostic::new(", "keep_creation("]
                        .iter()
                        .any(|m| l.contains(m) && !l.trim_start().starts_with("pub fn"));
                    if !makes {
                        continue;
                    }
                    for near in &lines[i..(i + 6).min(lines.len())] {
                        let Some(start) = near.find('"') else {
                            continue;
                        };
                        let rest = &near[start + 1..];
                        let Some(end) = rest.find('"') else { continue };
                        let lit = &rest[..end];
                        let kebab = lit.contains('-')
                            && lit.chars().all(|c| c.is_ascii_lowercase() || c == '-');
                        if kebab && lookup(lit).is_none() {
                            missing.push(format!("{}: {lit}", path.display()));
                        }
                        if kebab {
                            break;
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "unregistered diagnostic codes: {missing:?}"
        );
    }

    #[test]
    fn severity_comes_from_the_code_in_every_format() {
        let d = Diagnostic::new("m.py", 2, 1, "object-kept", "kept");
        assert_eq!(d.severity, Severity::Note);
        assert_eq!(d.with_severity(), "m.py:2:1: object-kept note: kept");
        let w = Diagnostic::new("m.py", 3, 1, "unbounded-queue", "q");
        let json = json_report(&[], &[d.clone(), w], &Summary::default(), None, None);
        assert_eq!(json["diagnostics"][0]["severity"], "note");
        assert_eq!(json["diagnostics"][1]["severity"], "warning");
        let sarif = sarif_report(&[], &[d], false);
        assert_eq!(sarif["runs"][0]["results"][0]["level"], "note");
        assert_eq!(
            sarif["runs"][0]["tool"]["driver"]["rules"][0]["shortDescription"]["text"],
            lookup("object-kept").unwrap().doc
        );
    }

    #[test]
    #[cfg(debug_assertions)]
    fn an_unregistered_code_fails_loudly() {
        let made = std::panic::catch_unwind(|| Diagnostic::new("a.py", 1, 1, "no-such-code", "x"));
        assert!(made.is_err());
    }

    #[test]
    fn sarif_has_the_required_shape() {
        let d = Diagnostic::new("dir a/m.py", 3, 2, "syntax-error", "bad").as_error();
        let doc = sarif_report(&[], &[d], false);
        assert_eq!(doc["version"], "2.1.0");
        let r = &doc["runs"][0]["results"][0];
        assert_eq!(r["ruleId"], "syntax-error");
        assert_eq!(r["level"], "error");
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "dir%20a/m.py");
        assert_eq!(loc["region"]["startLine"], 3);
        assert_eq!(
            doc["runs"][0]["tool"]["driver"]["rules"][0]["id"],
            "syntax-error"
        );
    }
}
