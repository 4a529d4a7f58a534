//! The README's catalog section is generated from `transforms/`: this test fails when it
//! is stale. `AWAITIFY_UPDATE_README=1 cargo nextest run --test readme` rewrites it.

use awaitify::rules::Catalog;

const START: &str = "<!-- catalog:start (generated from transforms/ by tests/readme.rs) -->\n";
const END: &str = "<!-- catalog:end -->";

#[test]
fn readme_catalog_matches_transforms() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (Some(s), Some(e)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md lacks the catalog markers");
    };
    let table = Catalog::builtin().unwrap().markdown();
    let current = &readme[s + START.len()..e];
    if current != table {
        if std::env::var_os("AWAITIFY_UPDATE_README").is_some() {
            let updated = format!("{}{START}{table}{}", &readme[..s], &readme[e..]);
            std::fs::write(&path, updated).unwrap();
        } else {
            panic!(
                "README.md's catalog is stale: run AWAITIFY_UPDATE_README=1 cargo nextest run --test readme"
            );
        }
    }
}

const CODES_START: &str =
    "<!-- diagnostics:start (generated from report::CODES by tests/readme.rs) -->\n";
const CODES_END: &str = "<!-- diagnostics:end -->";

#[test]
fn readme_diagnostics_match_the_registry() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (Some(s), Some(e)) = (readme.find(CODES_START), readme.find(CODES_END)) else {
        panic!("README.md lacks the diagnostics markers");
    };
    let table = awaitify::report::codes_markdown();
    if readme[s + CODES_START.len()..e] != table {
        if std::env::var_os("AWAITIFY_UPDATE_README").is_some() {
            let updated = format!("{}{CODES_START}{table}{}", &readme[..s], &readme[e..]);
            std::fs::write(&path, updated).unwrap();
        } else {
            panic!(
                "README.md's diagnostics table is stale: run AWAITIFY_UPDATE_README=1 cargo nextest run --test readme"
            );
        }
    }
}

/// Every stored snapshot is referenced by a test: none orphaned.
#[test]
fn no_orphaned_snapshots() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources: String = std::fs::read_dir(root.join("tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(root.join("snapshots")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(!name.ends_with(".snap.new"), "unreviewed snapshot {name}");
        let Some(stem) = name.strip_suffix(".snap") else {
            continue;
        };
        if !sources.contains(&format!("\"{stem}\"")) {
            orphans.push(name);
        }
    }
    assert!(
        orphans.is_empty(),
        "snapshots no test references: {orphans:?}"
    );
}
