//! Compiles every `transforms/*.toml` into the binary, so a rule file cannot be forgotten.

use std::{env, fs, path::Path};

fn main() {
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("transforms");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("transforms/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("pub static CATALOG: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out.push_str("];\n");
    let out_dir = Path::new(&env::var("OUT_DIR").unwrap()).to_path_buf();
    fs::write(out_dir.join("catalog.rs"), out).unwrap();

    // One test per rule file for tests/catalog_examples.rs, so that a failure names the rule.
    let mut tests = String::new();
    for f in &files {
        let id = f.file_stem().unwrap().to_string_lossy();
        let name = id.replace('-', "_");
        tests.push_str(&format!(
            "#[test]\nfn rule_{name}() {{\n    check_rule({id:?});\n}}\n\n"
        ));
    }
    fs::write(out_dir.join("catalog_tests.rs"), tests).unwrap();
}
