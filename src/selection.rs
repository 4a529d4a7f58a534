//! Which diagnostics a run shows: `--select` / `--ignore` / `--extend-select` by code or
//! prefix (as ruff selects its rules), notes behind `--show-notes`, and
//! `# awaitify: ignore[code]` comments.
//!
//! Selection decides only what is shown (text, JSON, SARIF). It never changes what is
//! written: an error still keeps its file unchanged and fails the run, and every hidden
//! diagnostic is counted in the summary, so a narrow selection cannot hide the risk.
//!
//! A selector is a code (`dangling-task`), a prefix of codes that ends at a `-` boundary
//! (`blocking` selects `blocking-call-kept` and `blocking-call-in-coroutine`, `block` selects
//! nothing and is a usage error), or `ALL`. For each code the longest selector that matches
//! it decides; between a select and an ignore of the same length the ignore wins.

use crate::report::{CODES, Diagnostic, Severity};
use std::collections::HashMap;

/// `select` / `extend-select` / `ignore` / `show-notes` as given, on the command line or in
/// `[tool.awaitify]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Selectors {
    #[serde(default)]
    pub select: Option<Vec<String>>,
    #[serde(default)]
    pub extend_select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub show_notes: bool,
}

/// The resolved `select` / `extend-select` / `ignore` and `show-notes` settings.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `(selector, selects)`: `false` for an ignore.
    rules: Vec<(String, bool)>,
    pub show_notes: bool,
    /// `--select` was given on the command line: the run is a lint of those codes, so
    /// `--check` also fails on a shown warning or error.
    pub lint: bool,
}

/// Whether `selector` selects `code`: the code itself, `ALL`, or a prefix ending at a `-`.
pub fn matches(selector: &str, code: &str) -> bool {
    selector == "ALL"
        || code
            .strip_prefix(selector)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
}

/// A selector that matches no registered code is a mistake, never silence.
fn check(selector: &str) -> Result<(), String> {
    if CODES.iter().any(|c| matches(selector, c.name)) {
        return Ok(());
    }
    let near: Vec<&str> = CODES
        .iter()
        .map(|c| c.name)
        .filter(|c| {
            let head = |s: &str| s.split('-').next().unwrap_or_default().to_string();
            c.contains(selector) || (head(c) == head(selector) && c.len() + 2 >= selector.len())
        })
        .take(5)
        .collect();
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", near.join(", "))
    };
    Err(format!(
        "`{selector}` is not a diagnostic code or a prefix of one ending at a `-`{hint}; the codes are in the README's diagnostics table"
    ))
}

impl Selection {
    /// `select` replaces the default (`ALL`); `extend_select` adds to it; `ignore` removes.
    pub fn new(
        select: Option<&[String]>,
        extend_select: &[String],
        ignore: &[String],
    ) -> Result<Selection, String> {
        let select = select.map_or_else(|| vec!["ALL".to_string()], <[String]>::to_vec);
        let mut rules = Vec::new();
        for (list, on) in [(&select[..], true), (extend_select, true), (ignore, false)] {
            for s in list {
                let s = s.trim();
                check(s)?;
                rules.push((s.to_string(), on));
            }
        }
        Ok(Selection {
            rules,
            show_notes: false,
            lint: false,
        })
    }

    /// The command line's selectors over the project's: `--select` replaces `select`; the
    /// extends and ignores of both apply. A bad selector in either is an error naming it.
    pub fn resolve(
        cli: Selectors,
        project: Option<(std::path::PathBuf, Selectors)>,
    ) -> anyhow::Result<Selection> {
        let (path, cfg) = project.unzip();
        let cfg = cfg.unwrap_or_default();
        if let Some(path) = path {
            Selection::new(cfg.select.as_deref(), &cfg.extend_select, &cfg.ignore)
                .map_err(|e| anyhow::anyhow!("{}: [tool.awaitify]: {e}", path.display()))?;
        }
        let extend: Vec<String> = [cfg.extend_select, cli.extend_select].concat();
        let ignore: Vec<String> = [cfg.ignore, cli.ignore].concat();
        let select = cli.select.as_deref().or(cfg.select.as_deref());
        let mut sel = Selection::new(select, &extend, &ignore)
            .map_err(|e| anyhow::anyhow!("--select/--extend-select/--ignore: {e}"))?;
        sel.show_notes = cli.show_notes || cfg.show_notes;
        sel.lint = cli.select.is_some();
        Ok(sel)
    }

    /// The selector that decides `code`: the longest match, an ignore on a tie. `ALL` counts
    /// as length 0.
    fn decider(&self, code: &str) -> Option<&(String, bool)> {
        let len = |s: &str| if s == "ALL" { 0 } else { s.len() };
        self.rules
            .iter()
            .filter(|(s, _)| matches(s, code))
            .max_by_key(|(s, on)| (len(s), !on))
    }

    /// Whether the selection shows `code` at all.
    pub fn selects(&self, code: &str) -> bool {
        self.decider(code).is_some_and(|(_, on)| *on)
    }

    /// Whether a note with `code` shows in text output: `--show-notes`, or a selector that
    /// names it (`ALL` does not).
    fn shows_note(&self, code: &str) -> bool {
        self.show_notes || self.decider(code).is_some_and(|(s, on)| *on && s != "ALL")
    }
}

/// Why a diagnostic is not shown, in the order the reasons are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// A `# awaitify: ignore` comment on its line.
    Suppressed,
    /// Not selected by `--select` / `--ignore` / `--extend-select`.
    Deselected,
    /// A note in text output without `--show-notes`.
    Note,
}

/// Decides, for each diagnostic, whether it is shown and why not.
pub fn hidden(
    sel: &Selection,
    comments: &HashMap<String, Vec<Suppression>>,
    d: &Diagnostic,
    text: bool,
) -> Option<Hidden> {
    let suppressed = comments
        .get(&d.path)
        .into_iter()
        .flatten()
        .any(|s| s.line == d.line && s.covers(d.code));
    if suppressed && d.code != "unknown-suppression" {
        Some(Hidden::Suppressed)
    } else if !sel.selects(d.code) {
        Some(Hidden::Deselected)
    } else if text && d.severity == Severity::Note && !sel.shows_note(d.code) {
        Some(Hidden::Note)
    } else {
        None
    }
}

/// One `# awaitify: ignore[...]` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub line: usize,
    /// `None` for a bare `# awaitify: ignore`: every code on the line.
    pub codes: Option<Vec<String>>,
}

impl Suppression {
    fn covers(&self, code: &str) -> bool {
        self.codes
            .as_ref()
            .is_none_or(|cs| cs.iter().any(|s| s != "ALL" && matches(s, code)))
    }
}

const MARKER: &str = "awaitify: ignore";

/// The suppression comments of one file, and an `unknown-suppression` warning for each code
/// in them that names nothing. Comments are found with the parser, so a `#` in a string does
/// not count; files without the marker are not parsed again.
pub fn suppressions(display: &str, text: &str) -> (Vec<Suppression>, Vec<Diagnostic>) {
    let (mut out, mut diags) = (Vec::new(), Vec::new());
    if !text.contains(MARKER) {
        return (out, diags);
    }
    let Some(tree) = crate::parse::parse(text) else {
        return (out, diags);
    };
    let mut cursor = tree.walk();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind() == "comment" {
            let line = node.start_position().row + 1;
            let comment = &text[node.byte_range()];
            if let Some(s) = parse_comment(comment, line) {
                for c in s.codes.iter().flatten() {
                    if let Err(why) = check(c).and_then(|()| {
                        (c != "ALL")
                            .then_some(())
                            .ok_or_else(|| "`ALL` is not a code".to_string())
                    }) {
                        let col = node.start_position().column + 1;
                        diags.push(Diagnostic::new(
                            display,
                            line,
                            col,
                            "unknown-suppression",
                            format!("`# {MARKER}[{c}]` suppresses nothing: {why}"),
                        ));
                    }
                }
                out.push(s);
            }
        }
        stack.extend(node.children(&mut cursor));
    }
    out.sort_by_key(|s| s.line);
    (out, diags)
}

/// `# awaitify: ignore` or `# awaitify: ignore[a, b]`, anywhere in a comment (after a
/// `# noqa`, say). `ignore-me` or `ignored` are not the marker.
fn parse_comment(comment: &str, line: usize) -> Option<Suppression> {
    let at = comment.find(MARKER)?;
    let rest = &comment[at + MARKER.len()..];
    if let Some(list) = rest.strip_prefix('[') {
        let list = &list[..list.find(']')?];
        let codes = list
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        return Some(Suppression {
            line,
            codes: Some(codes),
        });
    }
    let bare = rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || c == '#');
    bare.then_some(Suppression { line, codes: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(select: Option<&[&str]>, extend: &[&str], ignore: &[&str]) -> Selection {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let select = select.map(v);
        Selection::new(select.as_deref(), &v(extend), &v(ignore)).unwrap()
    }

    #[test]
    fn prefixes_end_at_a_dash() {
        assert!(matches("blocking", "blocking-call-kept"));
        assert!(matches("blocking-call", "blocking-call-kept"));
        assert!(!matches("blocking-call", "blocking-callable-passed"));
        assert!(!matches("block", "blocking-call-kept"));
        assert!(matches("dangling-task", "dangling-task"));
        assert!(check("block").is_err());
        assert!(check("blocking-call-in").is_ok());
        assert!(check("sync-bondary").is_err());
    }

    #[test]
    fn the_longest_selector_decides_and_ignore_wins_a_tie() {
        let s = sel(Some(&["blocking"]), &[], &["blocking-call-kept"]);
        assert!(s.selects("blocking-call-in-coroutine"));
        assert!(!s.selects("blocking-call-kept"));
        assert!(!s.selects("dangling-task"));
        let s = sel(None, &[], &["blocking"]);
        assert!(s.selects("dangling-task"));
        assert!(!s.selects("blocking-call-in-coroutine"));
        let s = sel(None, &["blocking-call-in-coroutine"], &["blocking"]);
        assert!(s.selects("blocking-call-in-coroutine"));
        let s = sel(Some(&["dangling-task"]), &[], &["dangling-task"]);
        assert!(!s.selects("dangling-task"));
        // A named note shows without --show-notes; `ALL` does not name it.
        assert!(sel(Some(&["sync-boundary"]), &[], &[]).shows_note("sync-boundary"));
        assert!(!sel(Some(&["ALL"]), &[], &[]).shows_note("sync-boundary"));
    }

    #[test]
    fn suppression_comments() {
        let text = "x = 1  # awaitify: ignore[dangling-task, blocking]\ns = '# awaitify: ignore'\ny = 2  # noqa: E1 # awaitify: ignore\nz = 3  # awaitify: ignore[no-such-code]\nw = 4  # awaitify: ignored\n";
        let (found, diags) = suppressions("m.py", text);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].covers("blocking-call-kept") && !found[0].covers("sync-boundary"));
        assert_eq!(found[1].line, 3);
        assert!(found[1].covers("sync-boundary"));
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 4);
        assert_eq!(diags[0].code, "unknown-suppression");
    }
}
