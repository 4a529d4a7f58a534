//! `[tool.awaitify]` in the project's `pyproject.toml`: settings that belong to the project
//! rather than to one command line (functions pinned sync, extra rules, excludes).
//!
//! ```toml
//! [tool.awaitify]
//! keep-sync = ["mylib.api.fetch"]     # like --keep-sync
//! rules = ["awaitify-rules.toml"]     # like --rules, relative to pyproject.toml
//! exclude = ["migrations"]            # like --exclude
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

/// Console and GUI scripts declared in `[project.scripts]` / `[project.gui-scripts]`, as
/// qualified function names (`pkg.cli:main` → `pkg.cli.main`).
pub fn console_scripts(start: &Path) -> Vec<String> {
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
