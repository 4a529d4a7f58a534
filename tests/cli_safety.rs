//! The CLI never loses or corrupts a file: odd inputs get one diagnostic each, the run goes
//! on, nothing is written for them, and the exit code says some files had errors.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use support::run_awaitify;

const SLEEPY: &str = "import time\n\n\ndef tick():\n    time.sleep(0.1)\n";
const SLEEPY_OUT: &str = "import asyncio\n\n\nasync def tick():\n    await asyncio.sleep(0.1)\n";

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The file names in `dir`, to check that no temporary file is left behind.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn write_keeps_permissions_and_leaves_no_temp_files() {
    let d = dir();
    let f = d.path().join("m.py");
    fs::write(&f, SLEEPY).unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o751)).unwrap();
    let r = run_awaitify(d.path(), &["--write", "."]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(fs::read_to_string(&f).unwrap(), SLEEPY_OUT);
    assert_eq!(
        fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o751
    );
    assert_eq!(names(d.path()), ["m.py"]);
}

#[test]
fn file_changed_on_disk_is_not_overwritten() {
    let d = dir();
    let f = d.path().join("m.py");
    fs::write(&f, SLEEPY).unwrap();
    fs::write(d.path().join("other.py"), SLEEPY).unwrap();
    let mut cmd = std::process::Command::new(support::awaitify());
    cmd.current_dir(d.path())
        .args(["--write", "."])
        .env("AWAITIFY_TEST_MODIFY_BEFORE_WRITE", &f);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("m.py:1:1: changed-on-disk"), "{stderr}");
    // The other program's edit survives; the other file is still migrated.
    assert_eq!(
        fs::read_to_string(&f).unwrap(),
        format!("{SLEEPY}# edited meanwhile\n")
    );
    assert_eq!(
        fs::read_to_string(d.path().join("other.py")).unwrap(),
        SLEEPY_OUT
    );
    assert_eq!(names(d.path()), ["m.py", "other.py"]);
}

#[test]
fn symlinked_file_is_written_through_the_link() {
    let d = dir();
    fs::create_dir(d.path().join("real")).unwrap();
    let target = d.path().join("real/m.py");
    fs::write(&target, SLEEPY).unwrap();
    fs::create_dir(d.path().join("src")).unwrap();
    std::os::unix::fs::symlink(&target, d.path().join("src/m.py")).unwrap();
    let r = run_awaitify(d.path(), &["--write", "src/m.py"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        fs::symlink_metadata(d.path().join("src/m.py"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&target).unwrap(), SLEEPY_OUT);
}

#[test]
fn utf8_bom_crlf_mixed_endings_and_no_final_newline_are_kept() {
    let d = dir();
    let src = "\u{feff}import time\r\n\r\n\r\ndef tick():\n    x = 1\r\n    time.sleep(0.1)";
    fs::write(d.path().join("m.py"), src).unwrap();
    let r = run_awaitify(d.path(), &["--write", "."]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let out = fs::read_to_string(d.path().join("m.py")).unwrap();
    assert_eq!(
        out,
        "\u{feff}import asyncio\r\n\r\n\r\nasync def tick():\n    x = 1\r\n    await asyncio.sleep(0.1)"
    );
    let again = run_awaitify(d.path(), &["--check", "."]);
    assert_eq!(again.status, 0, "{}", again.stderr);
}

#[test]
fn latin1_and_cp1252_files_are_written_back_in_their_encoding() {
    let d = dir();
    let latin = b"# -*- coding: latin-1 -*-\nimport time\n\n\ndef tick():\n    print('caf\xe9')\n    time.sleep(0.1)\n";
    let cp = b"# coding=cp1252\nimport time\n\n\ndef tick():\n    print('\x93quoted\x94')\n    time.sleep(0.1)\n";
    fs::write(d.path().join("latin.py"), latin).unwrap();
    fs::write(d.path().join("cp.py"), cp).unwrap();
    let r = run_awaitify(d.path(), &["--write", "."]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let out = fs::read(d.path().join("latin.py")).unwrap();
    assert!(out.windows(5).any(|w| w == b"caf\xe9'"), "{out:?}");
    assert!(out.windows(24).any(|w| w == b"await asyncio.sleep(0.1)"));
    let out = fs::read(d.path().join("cp.py")).unwrap();
    assert!(out.windows(8).any(|w| w == b"\x93quoted\x94"), "{out:?}");
    assert!(out.starts_with(b"# coding=cp1252\nimport asyncio\n"));
}

#[test]
fn a_rewrite_the_files_encoding_cannot_hold_is_reported_and_not_written() {
    let d = dir();
    // A user rule whose replacement has letters latin-1 does not have.
    let rule = "id = \"greek-clock\"\nsummary = \"s\"\n[[call]]\nname = \"time.perf_counter\"\naction = \"replace\"\nreplace = \"\u{3c7}\u{3c1}\u{3cc}\u{3bd}\u{3bf}\u{3c2}.perf_counter\"\n";
    fs::write(d.path().join("rule.toml"), rule).unwrap();
    let latin = b"# -*- coding: latin-1 -*-\nimport time\n\n\ndef tick():\n    print('caf\xe9')\n    return time.perf_counter()\n";
    fs::write(d.path().join("latin.py"), latin).unwrap();
    fs::write(d.path().join("ok.py"), SLEEPY).unwrap();
    let r = run_awaitify(d.path(), &["--rules", "rule.toml", "--write", "."]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("latin.py:1:1: encode-error"),
        "{}",
        r.stderr
    );
    assert_eq!(fs::read(d.path().join("latin.py")).unwrap(), latin);
    assert_eq!(
        fs::read_to_string(d.path().join("ok.py")).unwrap(),
        SLEEPY_OUT
    );
}

#[test]
fn odd_files_get_one_diagnostic_each_and_the_run_goes_on() {
    let d = dir();
    let p = d.path();
    fs::write(p.join("good.py"), SLEEPY).unwrap();
    let broken = "import time\n\ndef tick(:\n    time.sleep(1)\n";
    fs::write(p.join("syntax.py"), broken).unwrap();
    fs::write(p.join("binary.py"), b"\x7fELF\x02\x01\x01\0\0\0time.sleep").unwrap();
    let latin_no_cookie = b"import time\nx = '\xe9'\ntime.sleep(1)\n";
    fs::write(p.join("undecodable.py"), latin_no_cookie).unwrap();
    fs::write(p.join("klingon.py"), b"# coding: klingon\nimport time\n").unwrap();
    fs::write(
        p.join("huge.py"),
        format!("{SLEEPY}{}", "# pad\n".repeat(400)),
    )
    .unwrap();
    std::os::unix::fs::symlink("missing.py", p.join("dangling.py")).unwrap();
    std::os::unix::fs::symlink("loop_b.py", p.join("loop_a.py")).unwrap();
    std::os::unix::fs::symlink("loop_a.py", p.join("loop_b.py")).unwrap();
    let r = run_awaitify(p, &["--write", "--max-file-size", "1000", "."]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    for (file, code) in [
        ("syntax.py", "syntax-error"),
        ("binary.py", "decode-error"),
        ("undecodable.py", "decode-error"),
        ("klingon.py", "decode-error"),
        ("huge.py", "file-too-large"),
        ("dangling.py", "broken-symlink"),
        ("loop_a.py", "symlink-loop"),
        ("loop_b.py", "symlink-loop"),
    ] {
        let hits = r
            .stderr
            .lines()
            .filter(|l| l.contains(&format!("{file}:")) && l.contains(code))
            .count();
        assert_eq!(hits, 1, "{file}: {code} in\n{}", r.stderr);
    }
    assert!(r.stderr.contains("klingon"), "{}", r.stderr);
    assert!(r.stderr.contains("--max-file-size"), "{}", r.stderr);
    assert_eq!(fs::read_to_string(p.join("good.py")).unwrap(), SLEEPY_OUT);
    assert_eq!(fs::read_to_string(p.join("syntax.py")).unwrap(), broken);
    assert_eq!(fs::read(p.join("undecodable.py")).unwrap(), latin_no_cookie);
    assert!(
        fs::read_to_string(p.join("huge.py"))
            .unwrap()
            .contains("time.sleep")
    );
    // Raising the limit migrates the large file.
    let r = run_awaitify(p, &["--write", "--max-file-size", "100000", "huge.py"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        fs::read_to_string(p.join("huge.py"))
            .unwrap()
            .contains("await asyncio.sleep")
    );
}

/// Empty files are valid Python (most `__init__.py`): no diagnostic, no error, unchanged.
#[test]
fn empty_files_are_fine() {
    let d = dir();
    fs::create_dir(d.path().join("pkg")).unwrap();
    fs::write(d.path().join("pkg/__init__.py"), "").unwrap();
    fs::write(d.path().join("pkg/m.py"), SLEEPY).unwrap();
    let r = run_awaitify(d.path(), &["--write", "."]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(
        fs::read_to_string(d.path().join("pkg/__init__.py")).unwrap(),
        ""
    );
    assert!(
        r.stderr.contains("2 files scanned, 1 file changed"),
        "{}",
        r.stderr
    );
}

#[test]
fn unreadable_file_is_reported() {
    let d = dir();
    let f = d.path().join("secret.py");
    fs::write(&f, SLEEPY).unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o000)).unwrap();
    let r = run_awaitify(d.path(), &["--write", "."]);
    if fs::read(&f).is_ok() {
        // Running as root: mode 000 does not stop reads, so the file is simply migrated.
        assert_eq!(r.status, 0, "{}", r.stderr);
        assert_eq!(fs::read_to_string(&f).unwrap(), SLEEPY_OUT);
    } else {
        assert_eq!(r.status, 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("secret.py:1:1: read-error"),
            "{}",
            r.stderr
        );
    }
    fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn json_sarif_and_statistics() {
    let d = dir();
    fs::write(d.path().join("m.py"), SLEEPY).unwrap();
    fs::write(d.path().join("bad.py"), "def f(:\n").unwrap();
    let r = run_awaitify(d.path(), &["--format", "json", "--statistics", "."]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["files"][0]["path"], "./m.py");
    assert!(
        doc["files"][0]["diff"]
            .as_str()
            .unwrap()
            .contains("+async def tick")
    );
    assert_eq!(doc["diagnostics"][0]["code"], "syntax-error");
    assert_eq!(doc["diagnostics"][0]["severity"], "error");
    assert_eq!(doc["summary"]["files_changed"], 1);
    assert_eq!(doc["statistics"]["rules"]["blocking-sleep"], 1);
    assert_eq!(doc["statistics"]["diagnostics"]["syntax-error"], 1);

    let r = run_awaitify(d.path(), &["--format", "sarif", "."]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|x| x["ruleId"] == "syntax-error" && x["level"] == "error")
    );
    assert!(results.iter().any(|x| x["ruleId"] == "async-migration"));

    let r = run_awaitify(d.path(), &["--statistics", "-q", "."]);
    assert!(
        r.stderr
            .contains("rewritten call sites by rule:\n  1  blocking-sleep"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("diagnostics by code:\n  1  syntax-error"),
        "{}",
        r.stderr
    );
}
