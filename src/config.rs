//! `[tool.awaitify]` in the project's `pyproject.toml`: settings that belong to the project
//! rather than to one command line (functions pinned sync, extra rules, excludes).
//!
//! ```toml
//! [tool.awaitify]
//! keep-sync = ["mylib.api.fetch"]     # like --keep-sync
//! rules = ["awaitify-rules.toml"]     # like --rules, relative to pyproject.toml
//! exclude = ["migrations"]            # like --exclude
//! ignore = ["unresolved-call"]        # like --ignore (also select, extend-select)
//! show-notes = true                   # like --show-notes
//!
//! [[tool.awaitify.rule]]              # an inline rule, same format as transforms/*.toml
//! id = "mylib-client"
//! summary = "mylib.Client has an async twin"
//! call = [{ name = "mylib.Client", action = "replace", replace = "mylib.AsyncClient" }]
//! ```

use crate::rules::{Catalog, Rule};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProjectConfig {
    #[serde(default)]
    pub keep_sync: Vec<String>,
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub rule: Vec<Rule>,
    /// `select`, `extend-select`, `ignore` and `show-notes`, like their flags.
    #[serde(flatten)]
    pub selectors: crate::selection::Selectors,
    /// Read by `--target-version`'s default; accepted here so the table validates.
    #[serde(default)]
    pub target_version: Option<String>,
}

/// The nearest `pyproject.toml` at or above `start` (a file's directory or a directory).
pub fn find_pyproject(start: &Path) -> Option<PathBuf> {
    let start = if start.is_dir() {
        start.to_path_buf()
    } else {
        start.parent()?.to_path_buf()
    };
    let start = std::fs::canonicalize(&start).unwrap_or(start);
    start
        .ancestors()
        .map(|d| d.join("pyproject.toml"))
        .find(|p| p.is_file())
}

/// Loads `[tool.awaitify]` from the pyproject nearest to `start`, if any.
pub fn load(start: &Path) -> anyhow::Result<Option<(PathBuf, ProjectConfig)>> {
    let Some(path) = find_pyproject(start) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)?;
    let doc: toml::Table =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let Some(table) = doc.get("tool").and_then(|t| t.get("awaitify")) else {
        return Ok(None);
    };
    let config: ProjectConfig = table
        .clone()
        .try_into()
        .map_err(|e| anyhow::anyhow!("{}: [tool.awaitify]: {e}", path.display()))?;
    Ok(Some((path, config)))
}

/// Adds the config's rules (files relative to the pyproject, then inline ones) to `catalog`.
pub fn add_rules(
    pyproject: &Path,
    config: &ProjectConfig,
    catalog: &mut Catalog,
) -> anyhow::Result<()> {
    let dir = pyproject.parent().unwrap_or(Path::new("."));
    for file in &config.rules {
        let file = dir.join(file);
        let text = std::fs::read_to_string(&file)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        catalog.add_toml(&file.display().to_string(), &text)?;
    }
    for rule in &config.rule {
        catalog.add(rule.clone()).map_err(|e| {
            anyhow::anyhow!(
                "{}: [[tool.awaitify.rule]] `{}`: {e}",
                pyproject.display(),
                rule.id
            )
        })?;
    }
    Ok(())
}

/// Console and GUI scripts declared in `[project.scripts]` / `[project.gui-scripts]` of
/// `pyproject.toml`, in `[options.entry_points]` of `setup.cfg` and in `entry_points=` of
/// `setup.py` (the nearest of each at or above `start`), as qualified function names
/// (`pkg.cli:main` → `pkg.cli.main`).
pub fn console_scripts(start: &Path) -> Vec<String> {
    let mut out = pyproject_scripts(start);
    if let Some(text) = find_upward(start, "setup.cfg").and_then(|p| read(&p)) {
        out.extend(setup_cfg_scripts(&text));
    }
    if let Some(text) = find_upward(start, "setup.py").and_then(|p| read(&p)) {
        out.extend(setup_py_scripts(&text));
    }
    out.sort();
    out.dedup();
    out
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The nearest file called `name` at or above `start` (a file's directory or a directory).
fn find_upward(start: &Path, name: &str) -> Option<PathBuf> {
    let dir = if start.is_dir() {
        start.to_path_buf()
    } else {
        start.parent()?.to_path_buf()
    };
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    dir.ancestors().map(|d| d.join(name)).find(|p| p.is_file())
}

/// `name = module:attr [extras]` → `module.attr`.
fn entry_point(spec: &str) -> Option<String> {
    let (_, target) = spec.split_once('=')?;
    let target = target.split('[').next().unwrap_or(target).trim();
    let (module, attr) = target.split_once(':')?;
    let dotted = |s: &str| {
        !s.is_empty()
            && s.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
    };
    let (module, attr) = (module.trim(), attr.trim());
    (dotted(module) && dotted(attr)).then(|| format!("{module}.{attr}"))
}

/// `console_scripts` / `gui_scripts` under `[options.entry_points]` (INI: the value's
/// entries are on indented continuation lines, or on the key's line).
fn setup_cfg_scripts(text: &str) -> Vec<String> {
    let (mut section, mut in_scripts) = (String::new(), false);
    let mut out = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') {
            section = trimmed.trim_matches(['[', ']']).trim().to_string();
            in_scripts = false;
            continue;
        }
        if section != "options.entry_points" {
            continue;
        }
        if !line.starts_with([' ', '\t']) {
            let (key, value) = trimmed.split_once('=').unwrap_or((trimmed, ""));
            in_scripts = matches!(key.trim(), "console_scripts" | "gui_scripts");
            if in_scripts {
                out.extend(entry_point(value));
            }
        } else if in_scripts {
            out.extend(entry_point(trimmed));
        }
    }
    out
}

/// The string literals in the `console_scripts` / `gui_scripts` lists of a `setup.py`'s
/// `entry_points` (a dict literal, or an INI string): a tolerant scan of the text, since
/// running `setup.py` is out of the question.
fn setup_py_scripts(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["console_scripts", "gui_scripts"] {
        for (at, _) in text.match_indices(key) {
            // `'console_scripts': [...]`, or `[console_scripts]` in an INI string: up to
            // the end of the list, or to the next section.
            let rest = text[at + key.len()..].trim_start_matches(['\'', '"', ':', ']', ' ']);
            let (rest, close) = match rest.strip_prefix('[') {
                Some(list) => (list, [']', '}']),
                None => (rest, ['[', ')']),
            };
            let end = rest.find(close).unwrap_or(rest.len());
            for piece in rest[..end].split(['\'', '"', '\n', ',']) {
                out.extend(entry_point(piece));
            }
        }
    }
    out
}

fn pyproject_scripts(start: &Path) -> Vec<String> {
    let Some(path) = find_pyproject(start) else {
        return Vec::new();
    };
    let Ok(doc) = std::fs::read_to_string(&path).map(|t| toml::from_str::<toml::Table>(&t)) else {
        return Vec::new();
    };
    let Ok(doc) = doc else { return Vec::new() };
    let project = doc.get("project");
    ["scripts", "gui-scripts"]
        .iter()
        .filter_map(|k| project.and_then(|p| p.get(*k)).and_then(|t| t.as_table()))
        .flat_map(|t| t.values())
        .filter_map(|v| v.as_str())
        .filter_map(|spec| {
            // `module:attr [extras]`
            let spec = spec.split('[').next().unwrap_or(spec).trim();
            let (module, attr) = spec.split_once(':')?;
            Some(format!("{}.{}", module.trim(), attr.trim()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_cfg_entry_points() {
        let cfg = "[metadata]\nname = demo\n\n[options.entry_points]\nconsole_scripts =\n    demo = demo.cli:main\n    demo-x = demo.cli:extra [fast]\ngui_scripts = demo-gui = demo.gui:run\nother =\n    x = demo.other:f\n\n[options]\nzip_safe = False\n";
        assert_eq!(
            setup_cfg_scripts(cfg),
            ["demo.cli.main", "demo.cli.extra", "demo.gui.run"]
        );
    }

    #[test]
    fn setup_py_entry_points() {
        let py = "from setuptools import setup\nsetup(\n    name='demo',\n    entry_points={\n        'console_scripts': [\n            'demo = demo.cli:main',\n            \"demo2=demo.cli:other\",\n        ],\n        'pytest11': ['p = demo.plugin:x'],\n    },\n)\n";
        assert_eq!(setup_py_scripts(py), ["demo.cli.main", "demo.cli.other"]);
        let ini = "setup(entry_points='''\n[console_scripts]\ndemo = demo.cli:main\n''')\n";
        assert_eq!(setup_py_scripts(ini), ["demo.cli.main"]);
    }
}
