//! Every node kind and field name that `src/` compares or looks up exists in
//! tree-sitter-python's grammar. An unknown kind never matches and an unknown field returns
//! nothing, both silently, so a typo (or a grammar update that renames a node) would turn a
//! rule off without failing anything else.

mod support;

use std::path::Path;

/// The names `src/` uses as node kinds and as field names, with `file:line` for each.
#[derive(Default)]
struct Uses {
    kinds: Vec<(String, String)>,
    fields: Vec<(String, String)>,
}

/// String literals in `text`, in order.
fn literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('"') else { break };
        out.push(after[..close].to_string());
        rest = &after[close + 1..];
    }
    out
}

/// The literal right after each occurrence of `marker` (`marker` ends just before its `"`).
fn after_marker(line: &str, marker: &str) -> Vec<String> {
    line.match_indices(marker)
        .filter_map(|(i, _)| {
            let rest = line[i + marker.len()..].strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

/// Kind and field names used in one Rust source file.
///
/// Recognised forms: `kind() == "x"`, `kind() != "x"`, `matches!(… .kind(), "a" | "b")`,
/// the arms of `match … .kind() {`, and `child_by_field_name("f")` /
/// `children_by_field_name("f", …)`.
fn scan(path: &str, text: &str, uses: &mut Uses) {
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let at = format!("{path}:{}", i + 1);
        for marker in ["kind() == ", "kind() != "] {
            for k in after_marker(line, marker) {
                uses.kinds.push((k, at.clone()));
            }
        }
        for marker in ["child_by_field_name(", "children_by_field_name("] {
            for f in after_marker(line, marker) {
                uses.fields.push((f, at.clone()));
            }
        }
        if let Some(m) = line.find("matches!(")
            && line[m..].contains("kind(),")
        {
            // The pattern runs to the closing parenthesis, possibly over several lines.
            let mut pattern = line[m..].split_once("kind(),").unwrap().1.to_string();
            let mut j = i;
            while !pattern.contains(')') && j + 1 < lines.len() {
                j += 1;
                pattern.push_str(lines[j]);
            }
            let pattern = pattern.split(')').next().unwrap_or_default();
            for k in literals(pattern) {
                uses.kinds.push((k, at.clone()));
            }
        }
        if line.trim_end().ends_with("kind() {") && line.contains("match ") {
            scan_match_arms(path, &lines, i, uses);
        }
        i += 1;
    }
}

/// Collects the literal patterns of the arms of the `match` opened on line `open`.
fn scan_match_arms(path: &str, lines: &[&str], open: usize, uses: &mut Uses) {
    let indent = lines[open].len() - lines[open].trim_start().len();
    let mut i = open + 1;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.starts_with('}') && line.len() - trimmed.len() == indent {
            return;
        }
        // An arm's pattern is the text before `=>`, on arm lines (one indent deeper), also
        // when it is split over lines (`"a"` then `| "b" =>`).
        let arm = line.len() - trimmed.len() == indent + 4 && trimmed.starts_with('"');
        let continued = line.len() - trimmed.len() >= indent + 4 && trimmed.starts_with("| \"");
        if arm || continued {
            let pattern = trimmed.split_once("=>").map_or(trimmed, |(p, _)| p);
            // A guard (`"call" if is("function") =>`) is not part of the pattern.
            let pattern = pattern.split_once(" if ").map_or(pattern, |(p, _)| p);
            for k in literals(pattern) {
                uses.kinds.push((k, format!("{path}:{}", i + 1)));
            }
        }
        i += 1;
    }
}

fn language() -> tree_sitter::Language {
    tree_sitter_python::LANGUAGE.into()
}

fn is_kind(lang: &tree_sitter::Language, k: &str) -> bool {
    lang.id_for_node_kind(k, true) != 0 || lang.id_for_node_kind(k, false) != 0
}

fn unknown(uses: &Uses) -> Vec<String> {
    let lang = language();
    let mut bad = Vec::new();
    for (k, at) in &uses.kinds {
        if !is_kind(&lang, k) {
            bad.push(format!(
                "{at}: node kind `{k}` is not in tree-sitter-python"
            ));
        }
    }
    for (f, at) in &uses.fields {
        if lang.field_id_for_name(f).is_none() {
            bad.push(format!("{at}: field `{f}` is not in tree-sitter-python"));
        }
    }
    bad
}

#[test]
fn every_kind_and_field_in_src_is_in_the_grammar() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = support::rust_files(&root.join("src"));
    let mut uses = Uses::default();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let rel = file.strip_prefix(root).unwrap().display().to_string();
        scan(&rel, &text, &mut uses);
    }
    // The scan must see the code it guards: these counts only grow as rules are added.
    assert!(uses.kinds.len() > 300, "{} kinds found", uses.kinds.len());
    assert!(
        uses.fields.len() > 200,
        "{} fields found",
        uses.fields.len()
    );
    let bad = unknown(&uses);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_scan_finds_a_misspelt_kind_or_field_in_each_form() {
    let sample = r#"
fn f(n: Node) {
    if n.kind() == "fuction_definition" || n.kind() != "call" {}
    let _ = n.child_by_field_name("funtion");
    let _ = matches!(n.kind(), "identifier" | "atribute");
    match n.kind() {
        "string" if is("function") => {}
        "lamda"
        | "await" => {}
        _ => {}
    }
}
"#;
    let mut uses = Uses::default();
    scan("sample.rs", sample, &mut uses);
    let bad = unknown(&uses);
    let named: Vec<&str> = bad
        .iter()
        .map(|b| b.split('`').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        named,
        ["fuction_definition", "atribute", "lamda", "funtion"],
        "{bad:#?}"
    );
    // The well-spelt ones were seen too.
    let kinds: Vec<&str> = uses.kinds.iter().map(|(k, _)| k.as_str()).collect();
    for k in ["call", "identifier", "string", "await"] {
        assert!(kinds.contains(&k), "{k} not scanned: {kinds:?}");
    }
}
