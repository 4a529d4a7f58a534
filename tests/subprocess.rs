//! The `subprocess` family: before/after and no-change tables, reviewed diff snapshots, and
//! execution equivalence with real child processes (`sys.executable -c ...`).

mod support;

use awaitify::rules::Catalog;
use awaitify::run::{Migration, migrate_texts};

fn migrate(src: &str) -> Migration {
    migrate_texts(&[("main.py", src)], &Catalog::builtin().unwrap())
}

/// The migrated text (the original when nothing changed), asserting no internal error.
fn migrated(src: &str) -> String {
    let m = migrate(src);
    for d in &m.diagnostics {
        assert_ne!(d.code, "internal-error", "{d}");
    }
    let f = &m.files[0];
    f.new.clone().unwrap_or_else(|| f.old.clone())
}

fn codes(src: &str) -> Vec<String> {
    migrate(src)
        .diagnostics
        .iter()
        .map(|d| d.code.to_string())
        .collect()
}

fn snapshot(name: &str, src: &str) {
    let new = migrated(src);
    let diff = awaitify::diff::unified("main.py", src, &new, false);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, diff);
    });
}

#[test]
fn before_after() {
    let cases: &[(&str, &str)] = &[
        (
            // A list literal is splatted; the result is discarded, so nothing is rebuilt and
            // the emptied `import subprocess` goes.
            "import subprocess\n\ndef build():\n    subprocess.run([\"make\", \"all\"])\n",
            "import asyncio\n\nasync def build():\n    proc = await asyncio.create_subprocess_exec(\"make\", \"all\")\n    await proc.wait()\n",
        ),
        (
            // The brief's example: Popen with no uses.
            "import subprocess\n\ndef ls():\n    subprocess.Popen(['ls', '-1'])\n",
            "import asyncio\n\nasync def ls():\n    await asyncio.create_subprocess_exec('ls', '-1')\n",
        ),
        (
            // A non-literal command becomes `*cmd`; check_call raises the same error.
            "import subprocess\n\ndef go(cmd):\n    subprocess.check_call(cmd)\n",
            "import asyncio\nimport subprocess\n\nasync def go(cmd):\n    proc = await asyncio.create_subprocess_exec(*cmd)\n    await proc.wait()\n    if proc.returncode:\n        raise subprocess.CalledProcessError(proc.returncode, cmd)\n",
        ),
        (
            // `from subprocess import ...` and a string command without a shell.
            "from subprocess import call\n\ndef ok():\n    code = call(\"true\")\n    return code == 0\n",
            "import asyncio\n\nasync def ok():\n    proc = await asyncio.create_subprocess_exec(\"true\")\n    code = await proc.wait()\n    return code == 0\n",
        ),
        (
            // Names already used in the function are not reused for the process.
            "import subprocess\n\ndef f(proc, stdout):\n    out = subprocess.check_output([proc, stdout])\n    return out\n",
            "import asyncio\nimport subprocess\n\nasync def f(proc, stdout):\n    process = await asyncio.create_subprocess_exec(\n        proc, stdout, stdout=asyncio.subprocess.PIPE\n    )\n    output, _ = await process.communicate()\n    if process.returncode:\n        raise subprocess.CalledProcessError(process.returncode, [proc, stdout], output)\n    out = output\n    return out\n",
        ),
        (
            // The module alias is kept for the names the expansion needs.
            "import subprocess as sp\n\ndef f():\n    sp.run(['false'], check=True)\n",
            "import asyncio\nimport subprocess as sp\n\nasync def f():\n    proc = await asyncio.create_subprocess_exec('false')\n    await proc.wait()\n    if proc.returncode:\n        raise sp.CalledProcessError(proc.returncode, ['false'])\n",
        ),
        (
            // Tabs and CRLF are kept in every inserted line.
            "import subprocess\r\n\r\ndef f():\r\n\tif True:\r\n\t\treturn subprocess.call(['true'], cwd='/')\r\n",
            "import asyncio\r\n\r\nasync def f():\r\n\tif True:\r\n\t\tproc = await asyncio.create_subprocess_exec('true', cwd='/')\r\n\t\treturn await proc.wait()\r\n",
        ),
        (
            // Inside a larger expression: the call runs unchanged in a worker thread.
            "import subprocess\n\ndef n():\n    return int(subprocess.check_output(['nproc']))\n",
            "import asyncio\nimport subprocess\n\nasync def n():\n    return int(await asyncio.to_thread(subprocess.check_output, ['nproc']))\n",
        ),
        (
            // A list command with shell=True: faithful only in a thread.
            "import subprocess\n\ndef f():\n    subprocess.run(['echo $0'], shell=True)\n",
            "import asyncio\nimport subprocess\n\nasync def f():\n    await asyncio.to_thread(subprocess.run, ['echo $0'], shell=True)\n",
        ),
        (
            // A dynamic shell= value: the same.
            "import subprocess\n\ndef f(cmd, sh):\n    subprocess.run(cmd, shell=sh)\n",
            "import asyncio\nimport subprocess\n\nasync def f(cmd, sh):\n    await asyncio.to_thread(subprocess.run, cmd, shell=sh)\n",
        ),
    ];
    let mut failures = Vec::new();
    for (before, after) in cases {
        let got = migrated(before);
        if got != *after {
            failures.push(format!(
                "--- before\n{before}\n--- expected\n{after}\n--- got\n{got}"
            ));
        }
        let again = migrated(after);
        if again != *after {
            failures.push(format!("not idempotent:\n{after}\n--- second run\n{again}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn no_change() {
    let cases = [
        "import subprocess\n\ndef q(args):\n    return subprocess.list2cmdline(args)\n",
        "import subprocess\n\ndef pipe():\n    return subprocess.PIPE\n",
        "def run(cmd):\n    return cmd\n\ndef main():\n    run('make')\n",
        "import time\n\ndef now():\n    return time.time()\n",
        // A parameter shadowing the module is not the module.
        "def f(subprocess):\n    subprocess.run(['x'])\n",
        // Already async code is left alone.
        "import asyncio\n\nasync def f():\n    proc = await asyncio.create_subprocess_exec('true')\n    return await proc.wait()\n",
    ];
    for src in cases {
        assert_eq!(migrated(src), src);
    }
}

#[test]
fn fallbacks_are_reported() {
    let expr = "import subprocess\n\ndef n():\n    return len(subprocess.check_output(['ls']))\n";
    assert_eq!(codes(expr), ["subprocess-in-expression"]);
    let shell = "import subprocess\n\ndef f():\n    subprocess.run(['ls'], shell=True)\n";
    assert_eq!(codes(shell), ["subprocess-argument"]);
    let unknown = "import subprocess\n\ndef f():\n    subprocess.run(['ls'], bufsize=0)\n";
    assert_eq!(codes(unknown), ["subprocess-argument"]);
}

#[test]
fn popen_that_escapes_is_kept_sync() {
    // The object leaves the function: its whole API would change, so it stays, unawaited.
    let src = "import subprocess\n\ndef start():\n    proc = subprocess.Popen(['sleep', '1'])\n    proc.wait()\n    return proc\n";
    let got = migrated(src);
    assert!(
        got.contains("proc = subprocess.Popen(['sleep', '1'])"),
        "{got}"
    );
    assert!(got.contains("    proc.wait()\n"), "{got}");
    assert!(!got.contains("await proc"), "{got}");
    // FIXME: the function still turns async although nothing in it is awaited any more.
    assert!(got.contains("async def start"), "{got}");
    assert_eq!(codes(src), ["subprocess-popen-kept"]);
}

#[test]
fn snapshot_run_family() {
    snapshot(
        "subprocess-run-family",
        r#"import subprocess
import sys


def version():
    result = subprocess.run(
        [sys.executable, "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def quiet(cmd):
    return subprocess.call(cmd, shell=True, stdout=subprocess.DEVNULL)


def slow(cmd):
    try:
        return subprocess.check_output(cmd, timeout=5, encoding="utf-8")
    except subprocess.TimeoutExpired:
        return ""
"#,
    );
}

#[test]
fn snapshot_popen() {
    snapshot(
        "subprocess-popen",
        r#"import subprocess


def sort_words(words):
    proc = subprocess.Popen(["sort"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    out, err = proc.communicate("\n".join(words))
    return out.split(), proc.returncode


def tail(path):
    proc = subprocess.Popen(["cat", path], stdout=subprocess.PIPE)
    data = proc.stdout.read()
    proc.wait()
    return data
"#,
    );
}

/// Every keyword, with real children: the migrated program must print the same.
const EVERY_KEYWORD: &str = r#"
import os
import subprocess
import sys

PY = sys.executable


def echo(code):
    return [PY, "-c", code]


def run_bytes():
    result = subprocess.run([PY, "-c", "print('bytes out')"], capture_output=True)
    return result.args[1:2], result.returncode, result.stdout, result.stderr


def run_text_input():
    result = subprocess.run(
        [PY, "-c", "import sys; print(sys.stdin.read().upper())"],
        input="héllo",
        text=True,
        stdout=subprocess.PIPE,
    )
    return result.stdout, result.stderr


def run_bytes_input():
    result = subprocess.run(echo("import sys; print(len(sys.stdin.buffer.read()))"), input=b"\x00\xff", capture_output=True)
    return result.stdout


def run_encoding():
    result = subprocess.run(
        [PY, "-c", "import sys; sys.stdout.buffer.write('é'.encode('latin-1'))"],
        capture_output=True,
        encoding="latin-1",
    )
    return result.stdout


def run_errors():
    result = subprocess.run(
        [PY, "-c", "import sys; sys.stdout.buffer.write(b'a\\xffb')"],
        stdout=subprocess.PIPE,
        errors="replace",
    )
    return result.stdout


def run_universal():
    result = subprocess.run(echo("print('u')"), stdout=subprocess.PIPE, universal_newlines=True)
    return result.stdout


def run_merged():
    result = subprocess.run(
        echo("import sys; print('o'); sys.stdout.flush(); sys.stderr.write('e\\n')"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return result.stdout, result.stderr


def run_cwd_env(tmp):
    result = subprocess.run(
        [PY, "-c", "import os; print(os.getcwd() == os.environ['WANT'])"],
        cwd=tmp,
        env={**os.environ, "WANT": tmp},
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def run_check_fails():
    try:
        subprocess.run(
            echo("import sys; print('partial'); sys.stderr.write('bad'); sys.exit(5)"),
            capture_output=True,
            text=True,
            check=True,
        )
    except subprocess.CalledProcessError as e:
        return e.returncode, e.cmd[1:], e.output, e.stderr
    return None


def run_check_ok():
    result = subprocess.run(echo("pass"), check=True)
    return result.returncode, result.stdout, result.args == echo("pass")


def run_timeout():
    try:
        subprocess.run(echo("import time; time.sleep(5)"), timeout=0.3)
    except subprocess.TimeoutExpired as e:
        return "timed out", e.cmd[1:]
    return "finished"


def run_timeout_ok():
    result = subprocess.run(echo("print(1)"), capture_output=True, timeout=10)
    return result.stdout


def call_status():
    return subprocess.call(echo("raise SystemExit(6)"))


def call_devnull():
    code = subprocess.call(echo("print('hidden')"), stdout=subprocess.DEVNULL)
    return code


def call_timeout():
    try:
        return subprocess.call(echo("import time; time.sleep(5)"), timeout=0.2)
    except subprocess.TimeoutExpired:
        return "call timed out"


def check_call_fails():
    try:
        subprocess.check_call(echo("raise SystemExit(2)"))
    except subprocess.CalledProcessError as e:
        return e.returncode, e.output
    return None


def check_call_ok():
    return subprocess.check_call(echo("pass"))


def check_output_bytes():
    out = subprocess.check_output(echo("print('raw')"))
    return out


def check_output_fails():
    try:
        subprocess.check_output(echo("print('so far'); raise SystemExit(4)"), text=True)
    except subprocess.CalledProcessError as e:
        return e.returncode, e.output
    return None


def check_output_stderr():
    return subprocess.check_output(
        echo("import sys; sys.stderr.write('to err')"), stderr=subprocess.STDOUT, text=True
    )


def shell_pipeline():
    out = subprocess.check_output("echo one two three | wc -w", shell=True, text=True)
    return out.strip()


def shell_status(cmd):
    return subprocess.call(cmd, shell=True)


def shell_check(cmd):
    try:
        subprocess.run(cmd, shell=True, check=True, capture_output=True)
    except subprocess.CalledProcessError as e:
        return "failed", e.returncode, e.stdout
    return "ok"


def shell_list():
    subprocess.run(["exit 3"], shell=True)
    return "list with shell"


def dynamic_command(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    return result.stdout


def inside_expression():
    return int(subprocess.check_output(echo("print(41)")).strip()) + 1


def popen_communicate():
    proc = subprocess.Popen(echo("import sys; print(sys.stdin.read()[::-1])"), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, err = proc.communicate(b"abc")
    return out, err, proc.returncode


def popen_text():
    proc = subprocess.Popen(echo("import sys; print(sys.stdin.read().title())"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate("a b c")
    return out, err, proc.returncode


def popen_text_read():
    proc = subprocess.Popen(echo("print('streamed')"), stdout=subprocess.PIPE, text=True)
    data = proc.stdout.read()
    proc.wait()
    return data, proc.returncode


def popen_kill():
    proc = subprocess.Popen(echo("import time; time.sleep(5)"))
    proc.kill()
    return proc.wait() != 0


def main():
    print(run_bytes())
    print(run_text_input())
    print(run_bytes_input())
    print(run_encoding())
    print(run_errors())
    print(run_universal())
    print(run_merged())
    print(run_cwd_env(os.path.realpath(os.path.dirname(os.path.abspath(__file__)))))
    print(run_check_fails())
    print(run_check_ok())
    print(run_timeout())
    print(run_timeout_ok())
    print(call_status())
    print(call_devnull())
    print(call_timeout())
    print(check_call_fails())
    print(check_call_ok())
    print(check_output_bytes())
    print(check_output_fails())
    print(check_output_stderr())
    print(shell_pipeline())
    print(shell_status("exit 3"))
    print(shell_check("echo x; exit 9"))
    print(shell_check("true"))
    print(shell_list())
    print(dynamic_command(echo("print('dyn')")))
    print(inside_expression())
    print(popen_communicate())
    print(popen_text())
    print(popen_text_read())
    print(popen_kill())
    try:
        subprocess.run(echo("raise SystemExit(8)"), check=True)
    except subprocess.CalledProcessError as e:
        print("main caught", e.returncode)


if __name__ == "__main__":
    main()
"#;

#[test]
fn every_keyword_runs_the_same() {
    let tree = support::assert_equivalent(EVERY_KEYWORD, &["main.py"], support::Equiv::default());
    let main = &tree["main.py"];
    assert!(!main.contains("subprocess.run(\n"), "{main}");
    assert!(main.contains("async def popen_kill"), "{main}");
    assert!(main.contains("asyncio.run(main())"), "{main}");
}

#[test]
fn exit_status_and_uncaught_error_are_the_same() {
    // The program dies of an uncaught CalledProcessError: same exit status, same stdout.
    support::assert_equivalent(
        r#"
import subprocess
import sys


def fail():
    print("before")
    subprocess.check_call([sys.executable, "-c", "raise SystemExit(3)"])
    print("not reached")


if __name__ == "__main__":
    fail()
"#,
        &["main.py"],
        support::Equiv {
            exit_code: 1,
            ..Default::default()
        },
    );
}
