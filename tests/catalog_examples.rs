//! Every `[[example]]` and `[[no_change]]` of every `transforms/*.toml` rule is a test.

use awaitify::rules::Catalog;
use awaitify::run::migrate_texts;

fn migrated(catalog: &Catalog, src: &str) -> String {
    let m = migrate_texts(&[("main.py", src)], catalog);
    let f = &m.files[0];
    f.new.clone().unwrap_or_else(|| f.old.clone())
}

#[test]
fn every_rule_example_holds() {
    let catalog = Catalog::builtin().expect("the built-in catalog is valid");
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in &catalog.rules {
        assert!(
            !rule.examples.is_empty(),
            "rule `{}` has no [[example]]",
            rule.id
        );
        for (i, ex) in rule.examples.iter().enumerate() {
            checked += 1;
            let got = migrated(&catalog, &ex.before);
            if got != ex.after {
                failures.push(format!(
                    "{} example {}:\n--- expected\n{}\n--- got\n{}",
                    rule.id,
                    i + 1,
                    ex.after,
                    got
                ));
            }
            // Idempotence: the after side is a fixed point.
            let again = migrated(&catalog, &ex.after);
            if again != ex.after {
                failures.push(format!(
                    "{} example {} is not idempotent:\n{}",
                    rule.id,
                    i + 1,
                    again
                ));
            }
        }
        for (i, nc) in rule.no_changes.iter().enumerate() {
            checked += 1;
            let got = migrated(&catalog, &nc.source);
            if got != nc.source {
                failures.push(format!("{} no_change {} changed:\n{}", rule.id, i + 1, got));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} catalog examples failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_transform_file_is_compiled_in() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("transforms");
    let on_disk = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count();
    let catalog = Catalog::builtin().unwrap();
    assert_eq!(catalog.rules.len(), on_disk);
    for rule in &catalog.rules {
        assert!(
            !rule.summary.is_empty(),
            "rule `{}` needs a summary",
            rule.id
        );
    }
}

#[test]
fn unknown_fields_are_rejected() {
    let mut catalog = Catalog::default();
    let err = catalog
        .add_toml("x.toml", "id = \"x\"\nsummary = \"s\"\nsumary = \"typo\"\n")
        .unwrap_err();
    assert!(err.to_string().contains("sumary"), "{err}");
    let err = catalog
        .add_toml(
            "y.toml",
            "id = \"y\"\nsummary = \"s\"\n[[call]]\nname = \"a.b\"\naction = \"replace\"\n",
        )
        .unwrap_err();
    assert!(err.to_string().contains("needs `replace`"), "{err}");
}

#[test]
fn a_replacement_in_the_same_module_keeps_its_import() {
    let mut catalog = Catalog::builtin().unwrap();
    catalog
        .add_toml(
            "user.toml",
            "id = \"user-client\"\nsummary = \"s\"\n[[call]]\nname = \"mylib.Client\"\naction = \"replace\"\nreplace = \"mylib.AsyncClient\"\n",
        )
        .unwrap();
    let out = migrated(&catalog, "import mylib\n\nc = mylib.Client()\n");
    assert_eq!(out, "import mylib\n\nc = mylib.AsyncClient()\n");
}
