//! The example the README's first command migrates: it must exist, change, and still run
//! the same after migration.

mod support;

#[test]
fn shipped_example_migrates_and_runs_the_same() {
    let path = support::repo_root().join("examples/countdown/main.py");
    let source = std::fs::read_to_string(&path).expect("examples/countdown/main.py is shipped");
    let tree = support::assert_equivalent(&source, &["main.py"], support::Equiv::default());
    assert!(
        tree["main.py"].contains("asyncio.run(main())"),
        "{}",
        tree["main.py"]
    );
}
