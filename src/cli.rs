//! Raw command-line flags (clap derive; the doc comments are the help text) and their
//! validation into a [`Config`].

use crate::rules::Catalog;
use crate::target::PyVersion;
use clap::{Parser, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "awaitify",
    version,
    about = "Migrate synchronous Python to asyncio: rewrite blocking calls, colour their callers async, add awaits.",
    after_help = "By default awaitify prints unified diffs and changes nothing.\n\n\
Exit codes:\n  0  success (diagnostics alone do not fail a run)\n  1  --check: some file would change (with --select: or a selected warning or error is shown);\n     or some file could not be processed\n  2  usage error or fatal error"
)]
pub struct Args {
    /// Files or directories to migrate (directories are walked, honouring .gitignore).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Write the changes in place (atomically) instead of printing diffs.
    #[arg(long, conflicts_with = "check")]
    pub write: bool,
    /// Change nothing; exit 1 if any file would change.
    #[arg(long)]
    pub check: bool,
    /// When to colour the diff output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Skip paths matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Do not honour .gitignore, .ignore and other ignore files.
    #[arg(long)]
    pub no_ignore: bool,
    /// Print only diagnostics and errors, no diffs or summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Keep these functions sync even if they make blocking calls: a name, a dotted path, a
    /// glob (`mypkg.api.*`, `*.handle_*`) or a decorator (`@click.command`); repeatable. A
    /// pattern that matches no function is an error.
    #[arg(long, value_name = "PATTERN")]
    pub keep_sync: Vec<String>,
    /// Edit only the files under this path (repeatable); the rest is still read, and a
    /// function whose callers outside it would have to change stays sync.
    #[arg(long, value_name = "PATH")]
    pub only: Vec<PathBuf>,
    /// List the public functions, methods and extension points made async (after the
    /// summary; `public_api` in JSON).
    #[arg(long)]
    pub public_api: bool,
    /// Add the rules of this TOML file to the catalog (same format as transforms/; repeatable).
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Explain why the function NAME becomes async: the chain down to the blocking call.
    #[arg(long, value_name = "NAME")]
    pub explain: Option<String>,
    /// Print the rule catalog (built-in and added rules) as Markdown and exit.
    #[arg(long)]
    pub list_rules: bool,
    /// Output format: text (diffs on stdout, diagnostics on stderr), json (one document on
    /// stdout, see the README) or sarif (SARIF 2.1.0 for code-scanning tools).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also print counts of rewritten call sites per rule and of diagnostics per code.
    #[arg(long)]
    pub statistics: bool,
    /// Python version the output must run on; decides e.g. `asyncio.TaskGroup` (3.11+) and
    /// `anext` (3.10+). Default: the nearest pyproject.toml's [tool.awaitify] target-version,
    /// else its requires-python floor, else py311.
    #[arg(long, value_enum, value_name = "VERSION")]
    pub target_version: Option<PyVersion>,
    /// Show only diagnostics with these codes or code prefixes (a prefix ends at a `-`:
    /// `blocking` selects `blocking-call-kept`); comma-separated, repeatable; `ALL` for all.
    /// With --check, a shown warning or error then also fails the run.
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Show also diagnostics with these codes or prefixes (added to --select or the default).
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    pub extend_select: Vec<String>,
    /// Hide diagnostics with these codes or prefixes (the longest matching selector wins).
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Show notes (stays-sync-by-design diagnostics) in text output; hidden by default.
    #[arg(long)]
    pub show_notes: bool,
    /// Skip files larger than this many bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    pub max_file_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    DryRun,
    Write,
    Check,
}

/// Validated settings for one run.
pub struct Config {
    pub paths: Vec<PathBuf>,
    pub mode: Mode,
    pub color: bool,
    pub excludes: globset::GlobSet,
    pub no_ignore: bool,
    pub quiet: bool,
    pub keep_sync: Vec<crate::scope::KeepSync>,
    /// `--only`, resolved; empty: every file may be edited.
    pub only: Vec<PathBuf>,
    pub public_api: bool,
    pub list_rules: bool,
    /// Console scripts declared by the project (`pkg.cli.main`).
    pub console_scripts: Vec<String>,
    pub explain: Option<String>,
    pub format: Format,
    pub statistics: bool,
    pub max_file_size: u64,
    pub catalog: Catalog,
    pub target: PyVersion,
    /// Which diagnostics are shown (never what is written).
    pub selection: crate::selection::Selection,
}

impl Args {
    pub fn into_config(self) -> anyhow::Result<Config> {
        let mut catalog = Catalog::builtin()?;
        for file in &self.rules {
            let text = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            catalog.add_toml(&file.display().to_string(), &text)?;
        }
        use crate::scope::KeepSync;
        let mut keep_sync = self
            .keep_sync
            .iter()
            .map(|k| KeepSync::parse(k, true, "--keep-sync"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut exclude = self.exclude;
        let start = self
            .paths
            .first()
            .cloned()
            .unwrap_or_else(|| PathBuf::from("."));
        let mut project_selection = None;
        if let Some((pyproject, project)) = crate::config::load(&start)? {
            crate::config::add_rules(&pyproject, &project, &mut catalog)?;
            // Run on named files only (pre-commit passes the staged ones), the project's
            // patterns may well match none of them.
            let required = self.paths.iter().any(|p| !p.is_file());
            for k in &project.keep_sync {
                keep_sync.push(KeepSync::parse(k, required, "[tool.awaitify] keep-sync")?);
            }
            exclude.extend(project.exclude);
            project_selection = Some((pyproject, project.selectors));
        }
        let selection = crate::selection::Selection::resolve(
            crate::selection::Selectors {
                select: self.select,
                extend_select: self.extend_select,
                ignore: self.ignore,
                show_notes: self.show_notes,
            },
            project_selection,
        )?;
        let excludes = crate::walk::build_excludes(&exclude)?;
        let color = match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        let mode = if self.write {
            Mode::Write
        } else if self.check {
            Mode::Check
        } else {
            Mode::DryRun
        };
        let target = self.target_version.unwrap_or_else(|| {
            let start = self.paths.first().map_or(std::path::Path::new("."), |p| p);
            crate::target::from_pyproject(start).unwrap_or_default()
        });
        Ok(Config {
            target,
            paths: self.paths,
            mode,
            color,
            excludes,
            no_ignore: self.no_ignore,
            quiet: self.quiet,
            keep_sync,
            only: crate::scope::resolve_only(&self.only)?,
            public_api: self.public_api,
            list_rules: self.list_rules,
            console_scripts: crate::config::console_scripts(&start),
            explain: self.explain,
            format: self.format,
            statistics: self.statistics,
            max_file_size: self.max_file_size,
            catalog,
            selection,
        })
    }
}
