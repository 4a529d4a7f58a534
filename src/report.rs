//! Diagnostics, the run summary and statistics, as text, JSON or SARIF 2.1.0.

use crate::edit::Edit;
use crate::matcher::{CallFact, Target};
use crate::rules::Catalog;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A file could not be processed at all (unreadable, not UTF-8, syntax error).
    Error,
    /// Something awaitify did not convert, or converted with a caveat.
    Warning,
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
            severity: Severity::Warning,
            code,
            message: message.into(),
        }
    }

    pub fn error(
        path: &str,
        line: usize,
        col: usize,
        code: &'static str,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            ..Diagnostic::new(path, line, col, code, message)
        }
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
    pub diagnostics: usize,
    pub errors: usize,
    /// Calls into now-async code the output leaves un-awaited: 0 unless reverting failed.
    pub unawaited_async_calls: usize,
    /// Packages the migrated code now imports (`httpx`, `aiofiles`, ...).
    pub packages: Vec<String>,
    /// Rewritten call sites per catalog rule id, in the files that change.
    pub rules: BTreeMap<String, usize>,
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
            "{} scanned, {} {}, {} made async, {} rewritten, {}",
            plural(self.files_scanned, "file", "files"),
            self.files_changed,
            if self.files_changed == 1 {
                "file changed"
            } else {
                "files changed"
            },
            plural(self.functions_made_async, "function", "functions"),
            plural(self.call_sites_rewritten, "call site", "call sites"),
            plural(self.diagnostics, "diagnostic", "diagnostics"),
        )?;
        write!(
            f,
            ", unawaited calls into async code: {}",
            self.unawaited_async_calls
        )?;
        if !self.packages.is_empty() {
            write!(f, "; new dependencies: {}", self.packages.join(", "))?;
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
                "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
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
    match code {
        "async-migration" => "the file is rewritten to asyncio",
        "sync-boundary" => "a function stays sync because its caller cannot await",
        "syntax-error" => "the input has a syntax error; the file is skipped",
        "decode-error" => "the file cannot be decoded; it is skipped",
        "internal-error" => "a rewrite was discarded because it was invalid (a bug)",
        "unsound-change-reverted" => {
            "a function stays sync: making it async left a use of it un-updated in the output"
        }
        "changed-on-disk" => "the file changed during the run; it was not overwritten",
        "write-error" => "the file could not be written",
        "read-error" | "broken-symlink" | "symlink-loop" | "not-a-file" | "walk-error" => {
            "the path could not be read; it is skipped"
        }
        "file-too-large" => "the file is over --max-file-size; it is skipped",
        _ => "see the awaitify README",
    }
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

    #[test]
    fn sarif_has_the_required_shape() {
        let d = Diagnostic::error("dir a/m.py", 3, 2, "syntax-error", "bad");
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
