//! Where a new import goes: sorted into its isort section, in a section of its own apart by
//! a blank line, above the comment lines that belong to the import after it, below a
//! shebang and an encoding line, and with PEP 8's two blank lines before a `def`.

use awaitify::rules::Catalog;
use awaitify::run::migrate_texts;

fn migrated(src: &str) -> String {
    let m = migrate_texts(&[("main.py", src)], &Catalog::builtin().unwrap());
    let f = &m.files[0];
    f.new.clone().unwrap_or_else(|| f.old.clone())
}

const OPEN_BODY: &str = "def f(p):\n    with open(p) as fh:\n        return fh.read()\n";
const OPEN_ASYNC: &str =
    "async def f(p):\n    async with aiofiles.open(p) as fh:\n        return await fh.read()\n";

#[test]
fn new_imports_go_where_isort_and_pep8_put_them() {
    let cases: Vec<(&str, String, String)> = vec![
        (
            "a comment over an import stays with it",
            "# noinspection PyUnresolvedReferences\nimport readline\nimport time\n\ndef f():\n    time.sleep(1)\n".into(),
            "import asyncio\n# noinspection PyUnresolvedReferences\nimport readline\n\nasync def f():\n    await asyncio.sleep(1)\n".into(),
        ),
        (
            "a third-party import after standard-library ones opens its section",
            format!("import os\n# noinspection PyUnresolvedReferences\nimport readline\n\n\n{OPEN_BODY}"),
            format!("import os\n# noinspection PyUnresolvedReferences\nimport readline\n\nimport aiofiles\n\n\n{OPEN_ASYNC}"),
        ),
        (
            "a standard-library import before third-party ones opens its section",
            "import requests\n\n\ndef f():\n    with open('x') as fh:\n        fh.read()\n    return requests\n".into(),
            "import aiofiles\nimport requests\n\n\nasync def f():\n    async with aiofiles.open('x') as fh:\n        await fh.read()\n    return requests\n".into(),
        ),
        (
            "both sections, new",
            "import time\n\n\ndef f():\n    with open('x') as fh:\n        fh.read()\n    time.sleep(1)\n".into(),
            "import asyncio\n\nimport aiofiles\n\n\nasync def f():\n    async with aiofiles.open('x') as fh:\n        await fh.read()\n    await asyncio.sleep(1)\n".into(),
        ),
        (
            "no imports before a def: two blank lines",
            OPEN_BODY.into(),
            format!("import aiofiles\n\n\n{OPEN_ASYNC}"),
        ),
        (
            "a shebang and an encoding line stay first",
            "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nimport time\n\ndef f():\n    time.sleep(1)\n".into(),
            "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nimport asyncio\n\ndef f():\n    await asyncio.sleep(1)\n".replace("def f", "async def f"),
        ),
    ];
    for (what, before, after) in cases {
        assert_eq!(migrated(&before), after, "{what}");
    }
}

#[test]
fn names_dropped_from_one_from_import_leave_the_others() {
    // Two adjacent names of one `from` import lose their last use; the third stays. Each
    // order of the three names is one removal, not two overlapping ones.
    let mut cat = Catalog::builtin().unwrap();
    cat.add_toml(
        "twins.toml",
        r#"
id = "lock-twins"
summary = "async twins of two lock helpers"
call = [
  { name = "other.make_lock", action = "replace", replace = "other.amake_lock", await = true },
  { name = "other.make_cond", action = "replace", replace = "other.amake_cond", await = true },
]
"#,
    )
    .unwrap();
    let body = "\n\ndef setup():\n    lock = make_lock()\n    cond = make_cond(lock)\n    return cond_wait, cond\n";
    let after = "\n\nasync def setup():\n    lock = await other.amake_lock()\n    cond = await other.amake_cond(lock)\n    return cond_wait, cond\n";
    for names in [
        "cond_wait, make_cond, make_lock",
        "make_cond, make_lock, cond_wait",
        "make_cond, cond_wait, make_lock",
        "(\n    make_cond,\n    make_lock,\n    cond_wait,\n)",
    ] {
        let src = format!("from other import {names}{body}");
        let m = migrate_texts(&[("main.py", &src)], &cat);
        assert!(m.diagnostics.is_empty(), "{names}: {:?}", m.diagnostics);
        let got = m.files[0].new.clone().expect("changed");
        let kept = if names.starts_with('(') {
            "(\n    cond_wait,\n)".to_string()
        } else {
            "cond_wait".to_string()
        };
        assert_eq!(
            got,
            format!("import other\nfrom other import {kept}{after}"),
            "{names}"
        );
    }
}
