//! Diagnostics and the run summary, as text or JSON.

use serde::Serialize;
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
    /// Packages the migrated code now imports (`httpx`, `aiofiles`, ...).
    pub packages: Vec<String>,
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
        if !self.packages.is_empty() {
            write!(f, "; new dependencies: {}", self.packages.join(", "))?;
        }
        Ok(())
    }
}
