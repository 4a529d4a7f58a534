//! The Python version the migrated code must run on (`--target-version`), which decides the
//! constructs a pass may emit: `anext` needs 3.10, `asyncio.TaskGroup` 3.11.
//!
//! Without the flag it comes from the nearest `pyproject.toml`: `[tool.awaitify]`
//! `target-version`, else the lowest version `requires-python` allows; else 3.11.

use clap::ValueEnum;
use std::path::Path;

/// A CPython minor version that awaitify can target; ordered, so `>=` compares versions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub enum PyVersion {
    Py39,
    Py310,
    #[default]
    Py311,
    Py312,
    Py313,
}

impl PyVersion {
    pub fn minor(self) -> u32 {
        match self {
            PyVersion::Py39 => 9,
            PyVersion::Py310 => 10,
            PyVersion::Py311 => 11,
            PyVersion::Py312 => 12,
            PyVersion::Py313 => 13,
        }
    }

    /// The supported version for `3.<minor>`: older ones clamp to 3.9 (asyncio.to_thread's
    /// floor), newer ones to the newest known.
    pub fn from_minor(minor: u32) -> PyVersion {
        match minor {
            0..=9 => PyVersion::Py39,
            10 => PyVersion::Py310,
            11 => PyVersion::Py311,
            12 => PyVersion::Py312,
            _ => PyVersion::Py313,
        }
    }

    /// `anext()` is a builtin from 3.10.
    pub fn has_anext(self) -> bool {
        self >= PyVersion::Py310
    }

    /// `asyncio.TaskGroup` exists from 3.11.
    pub fn has_task_group(self) -> bool {
        self >= PyVersion::Py311
    }
}

impl std::fmt::Display for PyVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "3.{}", self.minor())
    }
}

/// The lowest Python 3 minor version a `requires-python` specifier allows
/// (`">=3.10"`, `"~=3.9"`, `">=3.8,<4"`, `"==3.12.*"`), if it names one.
pub fn lowest_allowed(spec: &str) -> Option<PyVersion> {
    let mut lowest: Option<u32> = None;
    for clause in spec.split(',') {
        let clause = clause.trim();
        let op_len = clause
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(clause.len());
        let (op, version) = clause.split_at(op_len);
        let op = op.trim();
        // Upper bounds and exclusions say nothing about the floor.
        if !matches!(op, ">=" | ">" | "~=" | "==" | "===") {
            continue;
        }
        let mut parts = version.trim().split('.');
        if parts.next() != Some("3") {
            continue;
        }
        let Some(Ok(minor)) = parts.next().map(|m| m.trim_end_matches('*').parse::<u32>()) else {
            continue;
        };
        // `>3.9` still allows 3.9.1, so the floor stays 3.9.
        lowest = Some(lowest.map_or(minor, |l| l.max(minor)));
    }
    lowest.map(PyVersion::from_minor)
}

/// `py311` or `3.11`.
pub fn parse_name(name: &str) -> Option<PyVersion> {
    let name = name.trim();
    let minor = name
        .strip_prefix("py3")
        .or_else(|| name.strip_prefix("3."))?
        .parse::<u32>()
        .ok()?;
    (9..=13)
        .contains(&minor)
        .then(|| PyVersion::from_minor(minor))
}

/// The target set in the nearest `pyproject.toml` at or above `start`: `[tool.awaitify]`
/// `target-version`, else the floor of `[project]` `requires-python`.
pub fn from_pyproject(start: &Path) -> Option<PyVersion> {
    let start = if start.is_file() {
        start.parent()?
    } else {
        start
    };
    let start = std::fs::canonicalize(start).ok()?;
    for dir in start.ancestors() {
        let file = dir.join("pyproject.toml");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        // The nearest file decides, even when it does not say.
        let doc: toml::Table = text.parse().ok()?;
        let configured = doc
            .get("tool")
            .and_then(|t| t.get("awaitify"))
            .and_then(|a| a.get("target-version"))
            .and_then(|v| v.as_str())
            .and_then(parse_name);
        if configured.is_some() {
            return configured;
        }
        let spec = doc
            .get("project")
            .and_then(|p| p.get("requires-python"))
            .and_then(|v| v.as_str())?;
        return lowest_allowed(spec);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requires_python_floors() {
        let cases = [
            (">=3.10", Some(PyVersion::Py310)),
            (">= 3.12", Some(PyVersion::Py312)),
            ("~=3.9", Some(PyVersion::Py39)),
            (">=3.8,<4", Some(PyVersion::Py39)),
            ("==3.13.*", Some(PyVersion::Py313)),
            (">3.10", Some(PyVersion::Py310)),
            ("<3.12", None),
            ("", None),
        ];
        for (spec, want) in cases {
            assert_eq!(lowest_allowed(spec), want, "{spec}");
        }
    }

    #[test]
    fn nearest_pyproject_decides() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("src/pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\nrequires-python = \">=3.9\"\n",
        )
        .unwrap();
        assert_eq!(from_pyproject(&pkg), Some(PyVersion::Py39));
        std::fs::write(pkg.join("pyproject.toml"), "[tool.x]\n").unwrap();
        assert_eq!(from_pyproject(&pkg), None);
        std::fs::write(
            pkg.join("pyproject.toml"),
            "[project]\nrequires-python = \">=3.9\"\n[tool.awaitify]\ntarget-version = \"py312\"\n",
        )
        .unwrap();
        assert_eq!(from_pyproject(&pkg), Some(PyVersion::Py312));
    }
}
