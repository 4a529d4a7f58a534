//! A family that keeps an object sends the project back through the type fixed point. Its
//! later rounds may walk modules that were not dirty when it started: each needs its syntax.

use awaitify::rules::Catalog;
use awaitify::run::migrate_texts;

#[test]
fn a_kept_object_whose_type_reaches_a_third_module_is_matched_again_there() {
    // `make` keeps its session (it stays sync); round 2 changes what `make()` returns, which
    // `b` reads, and then what `fetch` returns, which only `c` reads.
    let files = [
        (
            "a.py",
            "import requests\n\n\ndef make():\n    s = requests.Session()\n    s.trust_env = False\n    return s\n",
        ),
        (
            "b.py",
            "from a import make\n\n\ndef fetch(url):\n    return make().get(url).text\n",
        ),
        (
            "c.py",
            "from b import fetch\n\n\ndef main():\n    print(fetch(\"http://127.0.0.1:1/\"))\n",
        ),
    ];
    let m = migrate_texts(&files, &Catalog::builtin().unwrap());
    assert!(m.files.iter().all(|f| f.new.is_none()), "nothing changes");
    let codes: Vec<&str> = m.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["requests-session-outside-coroutine"]);
}

#[test]
fn an_annotated_response_keeps_its_names() {
    // httpie 3.2.4: a `requests.Response` annotation typed a wrapper's attribute, and
    // `.reason` became httpx's `.reason_phrase` on a response its sync session made. An
    // annotation says what a value is, not whether the call that made it was converted.
    let src = "import requests\n\n\nclass Wrapped:\n    def __init__(self, orig):\n        self._orig = orig\n\n    def line(self):\n        return f\"{self._orig.status_code} {self._orig.reason}\"\n\n\ndef show(final: requests.Response):\n    return Wrapped(final).line()\n";
    let m = migrate_texts(&[("m.py", src)], &Catalog::builtin().unwrap());
    assert_eq!(m.files[0].new, None, "{:?}", m.files[0].new);
}

#[test]
fn a_type_that_never_settles_leaves_facts_walked_with_the_knowledge_kept() {
    // Reduced from CPython 3.11's urllib/request.py (`uri = [uri]` in `add_password`):
    // `uri` is typed by itself, one list deeper each round, so the type rounds stop at
    // their cap. They used to take the last round's knowledge without walking with it;
    // when `f` was then kept, the next rounds walked only `big`'s chunk again and kept
    // `wrap`'s, walked with older knowledge (debug builds: "the chunked walk differs from
    // a walk from the root"). The comments make `big` a chunk of its own.
    let pad = format!("    # {}\n", "x".repeat(70)).repeat(26);
    let src = format!(
        "import tempfile\n\n\ndef big(filename):\n{pad}    if filename:\n        f = open(filename, \"wb\")\n    else:\n        f = tempfile.NamedTemporaryFile()\n\n\ndef wrap(uri):\n    uri = [uri]\n"
    );
    let m = migrate_texts(&[("m.py", &src)], &Catalog::builtin().unwrap());
    assert_eq!(m.files[0].new, None, "{:?}", m.files[0].new);
    let codes: Vec<&str> = m.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["object-kept"]);
}
