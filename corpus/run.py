#!/usr/bin/env python3
"""The real-world corpus: does awaitify keep pinned projects' own test suites passing?

    python3 corpus/run.py --awaitify PATH/TO/BINARY [--only NAME...] [--jobs N] [--keep-going]

For each project of corpus/projects.toml: download its pinned sdist (cached), build a
venv with its pinned test requirements (cached, keyed by a hash of them), extract the
sdist twice (before/, after/), run its offline tests and smoke commands on before/, run
`awaitify --write` on after/'s package and test dirs in one invocation, run the tests and
smoke commands again on after/, and compare outcome by test id. Everything lands under
target/corpus/ (logs/NAME/, report.json, report.md). See corpus/README.md.

Python 3.11+, standard library only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import difflib
import hashlib
import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
import traceback
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent
REPO = CORPUS_DIR.parent
PROJECTS_TOML = CORPUS_DIR / "projects.toml"
PLUGIN = CORPUS_DIR / "corpus_outcomes.py"
MUST_KEEP = REPO / ".ci" / "corpus-must-keep"
OUT = REPO / "target" / "corpus"

# Bump when the way a venv is built changes, so cached venvs are rebuilt.
VENV_LAYOUT = "3"


class StepError(Exception):
    """A step that could not run (download, venv, baseline suite, awaitify crash...)."""


# --------------------------------------------------------------------------- config

PROJECT_KEYS = {
    "name", "version", "packages", "tests", "requirements", "test_args",
    "suite_timeout", "test_timeout", "deselect", "smoke", "server", "env", "notes", "tty",
    "ignore",
}
SMOKE_KEYS = {"name", "files", "commands", "timeout", "normalize"}


def load_config() -> tuple[dict, list[dict]]:
    with open(PROJECTS_TOML, "rb") as f:
        doc = tomllib.load(f)
    common = doc.get("common", {})
    projects = doc.get("project", [])
    if not projects:
        raise SystemExit(f"error: {PROJECTS_TOML}: no [[project]] tables")
    seen = set()
    for p in projects:
        where = f"{PROJECTS_TOML}: project {p.get('name', '?')!r}"
        unknown = set(p) - PROJECT_KEYS
        if unknown:
            raise SystemExit(f"error: {where}: unknown keys {sorted(unknown)}")
        for key in ("name", "version", "packages"):
            if key not in p:
                raise SystemExit(f"error: {where}: missing {key!r}")
        if ("test_args" in p) != bool(p.get("tests")):
            raise SystemExit(f"error: {where}: `tests` and `test_args` go together (a project without a "
                             "test suite has neither, and needs smoke commands)")
        if "test_args" not in p and not p.get("smoke"):
            raise SystemExit(f"error: {where}: no test suite and no smoke commands: nothing to check")
        if p["name"] in seen:
            raise SystemExit(f"error: {where}: listed twice")
        seen.add(p["name"])
        for req in p.get("requirements", []):
            if "==" not in req:
                raise SystemExit(f"error: {where}: requirement {req!r} is not pinned (NAME==VERSION)")
        for d in p.get("deselect", []):
            if set(d) != {"id", "reason"} or not d["reason"].strip():
                raise SystemExit(f"error: {where}: each deselect needs exactly an id and a reason: {d!r}")
        for d in p.get("ignore", []):
            if set(d) != {"path", "reason"} or not d["reason"].strip():
                raise SystemExit(f"error: {where}: each ignore needs exactly a path and a reason: {d!r}")
        for s in p.get("smoke", []):
            unknown = set(s) - SMOKE_KEYS
            if unknown or "name" not in s or not s.get("commands"):
                raise SystemExit(f"error: {where}: smoke {s!r}: needs name and commands, knows {sorted(SMOKE_KEYS)}")
    for req in common.get("requirements", []):
        if "==" not in req:
            raise SystemExit(f"error: {PROJECTS_TOML}: common requirement {req!r} is not pinned")
    return common, projects


def read_must_keep() -> set[str]:
    if not MUST_KEEP.exists():
        raise SystemExit(f"error: {MUST_KEEP} is missing")
    names = set()
    for line in MUST_KEEP.read_text().splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.add(name)
    return names


def norm_name(req: str) -> str:
    return re.sub(r"[-_.]+", "-", req.split("==", 1)[0].strip()).lower()


def requirements_for(common: dict, project: dict) -> list[str]:
    """The common pins, overridden by the project's pins of the same package."""
    merged: dict[str, str] = {}
    for req in common.get("requirements", []) + project.get("requirements", []):
        merged[norm_name(req)] = req.strip()
    return sorted(merged.values(), key=str.lower)


# --------------------------------------------------------------------------- helpers


def run_logged(cmd, log: Path, *, cwd=None, env=None, timeout=None, check=True) -> subprocess.CompletedProcess:
    """Run cmd, appending its command line and output to log."""
    with open(log, "a", encoding="utf-8") as f:
        f.write(f"\n$ {' '.join(map(str, cmd))}\n")
        f.flush()
        try:
            proc = subprocess.run(
                [str(c) for c in cmd], cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            f.write(f"\n[timed out after {timeout}s]\n")
            raise StepError(f"{cmd[0]} timed out after {timeout}s (see {log})")
        f.write(f"[exit {proc.returncode}]\n")
    if check and proc.returncode != 0:
        raise StepError(f"`{' '.join(map(str, cmd))}` exited {proc.returncode} (see {log})")
    return proc


def tail(text: str, n: int = 15) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join(lines[-n:])


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def named_lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


# --------------------------------------------------------------------------- sdist and venv


def ensure_sdist(project: dict, log: Path) -> Path:
    name, version = project["name"], project["version"]
    cache = OUT / "sdists" / f"{name}-{version}"
    with named_lock(f"sdist:{cache}"):
        found = sorted(p for p in cache.glob("*") if p.name.endswith((".tar.gz", ".zip")))
        if len(found) == 1:
            return found[0]
        if cache.exists():
            shutil.rmtree(cache)
        cache.mkdir(parents=True)
        run_logged(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             f"{name}=={version}", "-d", cache, "--disable-pip-version-check"],
            log, timeout=600,
        )
        found = sorted(p for p in cache.glob("*") if p.name.endswith((".tar.gz", ".zip")))
        if len(found) != 1:
            raise StepError(f"pip download of {name}=={version} left {len(found)} archives in {cache}")
        return found[0]


def extract(sdist: Path, dest: Path) -> Path:
    """Extract sdist into a fresh dest; return the project root (the archive's one top dir)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if sdist.name.endswith(".zip"):
        import zipfile

        with zipfile.ZipFile(sdist) as z:
            z.extractall(dest)
    else:
        with tarfile.open(sdist) as t:
            t.extractall(dest, filter="data")
    tops = [p for p in dest.iterdir()]
    if len(tops) != 1 or not tops[0].is_dir():
        raise StepError(f"{sdist.name}: expected one top-level directory, found {[p.name for p in tops]}")
    return tops[0]


def module_names(project: dict) -> list[str]:
    """Importable names of the package dirs ("sqlite_utils", "speedtest.py" -> "speedtest")."""
    names = []
    for pkg in project["packages"]:
        last = Path(pkg).name
        names.append(last[:-3] if last.endswith(".py") else last)
    return names


def ensure_venv(project: dict, reqs: list[str], sdist: Path, log: Path) -> Path:
    """A venv with the pinned requirements and the project's metadata (entry points) but
    none of its code: the code is imported from the work tree through PYTHONPATH."""
    key = hashlib.sha256(
        json.dumps([VENV_LAYOUT, sys.version, project["name"], project["version"], reqs]).encode()
    ).hexdigest()[:12]
    venv = OUT / "venvs" / f"{project['name']}-{key}"
    marker = venv / ".corpus-complete"
    with named_lock(f"venv:{venv}"):
        if marker.exists():
            return venv
        if venv.exists():
            shutil.rmtree(venv)
        venv.parent.mkdir(parents=True, exist_ok=True)
        run_logged([sys.executable, "-m", "venv", venv], log, timeout=300)
        py = venv / "bin" / "python"
        pip = [py, "-m", "pip", "--disable-pip-version-check"]
        req_file = venv / "corpus-requirements.txt"
        req_file.write_text("\n".join(reqs) + "\n")
        # Every package pinned, no resolver: `pip check` below proves the list is closed.
        run_logged(pip + ["install", "--no-deps", "-r", req_file], log, timeout=900)
        # The project itself, for its metadata and console scripts; its code is removed below.
        run_logged(pip + ["install", "--no-deps", sdist], log, timeout=600)
        run_logged(pip + ["check"], log, timeout=120)
        site = Path(
            subprocess.run(
                [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                capture_output=True, text=True, check=True,
            ).stdout.strip()
        )
        for mod in module_names(project):
            for path in (site / mod, site / f"{mod}.py"):
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
        for cache in site.glob("__pycache__/*"):
            cache.unlink()
        marker.write_text(json.dumps(reqs) + "\n")
        return venv


# --------------------------------------------------------------------------- environment


def base_env(venv: Path, tree: Path, home: Path, plugin_dir: Path) -> dict:
    env = {
        k: v for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and not k.startswith(("PYTHON", "VIRTUAL_ENV", "PYTEST", "CORPUS_"))
    }
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        PATH=f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
        VIRTUAL_ENV=str(venv),
        PYTHONPATH=f"{tree}:{plugin_dir}",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONHASHSEED="0",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        TZ="UTC",
        COLUMNS="80",
        TERM="dumb",
    )
    env.pop("NO_COLOR", None)
    return env


def check_imports(project: dict, venv: Path, tree: Path, env: dict, log: Path) -> None:
    """Each package must import from the work tree, never from an installed copy."""
    code = (
        "import importlib.util, json, sys\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    spec = importlib.util.find_spec(name)\n"
        "    out[name] = spec.origin if spec else None\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [venv / "bin" / "python", "-c", code, *module_names(project)],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120,
    )
    with open(log, "a") as f:
        f.write(f"\nimport check in {tree}: {proc.stdout}{proc.stderr}\n")
    if proc.returncode != 0:
        raise StepError(f"import check failed: {tail(proc.stderr, 5)}")
    for name, origin in json.loads(proc.stdout).items():
        if origin is None or not Path(origin).resolve().is_relative_to(tree.resolve()):
            raise StepError(f"`{name}` resolves to {origin}, not to the work tree {tree}")


# --------------------------------------------------------------------------- test suite


@dataclasses.dataclass
class SuiteResult:
    outcomes: dict[str, str]           # test id -> passed/failed/error/skipped/xfailed/xpassed/hollow
    details: dict[str, str]            # test id -> last lines of the failure
    collect_errors: dict[str, str]     # collector id -> last lines of its error
    exit_code: int
    timed_out: bool
    running_at_timeout: str | None
    seconds: float
    collected: int | None
    unattributed_never_awaited: int = 0  # "never awaited" warnings no test could be blamed for


def combine(phases: dict[str, dict]) -> tuple[str, str]:
    """One outcome from a test's setup/call/teardown reports, and the text to show for it."""
    for when in ("setup", "call", "teardown"):
        r = phases.get(when)
        if r and r["outcome"] == "failed":
            kind = "failed" if when == "call" else "error"
            return kind, f"[{when}] " + r.get("longrepr", "")
    call = phases.get("call")
    setup = phases.get("setup")
    if call and call.get("wasxfail"):
        return ("xpassed" if call["outcome"] == "passed" else "xfailed"), ""
    if setup and setup["outcome"] == "skipped":
        return ("xfailed" if setup.get("wasxfail") else "skipped"), setup.get("longrepr", "")
    if call and call["outcome"] == "skipped":
        return ("xfailed" if call.get("wasxfail") else "skipped"), call.get("longrepr", "")
    if call and call["outcome"] == "passed":
        return "passed", ""
    return "incomplete", "the test started but did not finish"


def run_suite(project: dict, venv: Path, tree: Path, env: dict, logdir: Path, label: str,
              per_test_timeout: int | None) -> SuiteResult:
    if "test_args" not in project:  # no test suite in the sdist: smoke commands only
        return SuiteResult({}, {}, {}, 0, False, None, 0.0, 0)
    outcomes_file = logdir / f"outcomes-{label}.jsonl"
    outcomes_file.unlink(missing_ok=True)
    log = logdir / f"pytest-{label}.log"
    log.unlink(missing_ok=True)
    suite_timeout = int(project.get("suite_timeout", 600))
    cmd = [venv / "bin" / "python", "-m", "pytest",
           "-p", "no:cacheprovider", "-p", "corpus_outcomes", "-rfE", "--tb=short", "--color=no",
           "--continue-on-collection-errors",
           # The work trees sit under this repository, whose pyproject.toml pytest would
           # otherwise take for the root: test ids would then name before/ or after/.
           f"--rootdir={tree}"]
    if per_test_timeout:
        cmd += [f"--timeout={per_test_timeout}"]
    for d in project.get("deselect", []):
        cmd += ["--deselect", d["id"]]
    for d in project.get("ignore", []):
        cmd += [f"--ignore={d['path']}"]
    cmd += project["test_args"]
    if project.get("tty"):
        # The suite wants a terminal on stdin/stdout (invoke's pty tests): run it under script(1).
        cmd = ["script", "-qefc", shlex.join(map(str, cmd)), "/dev/null"]
    cmd = ["timeout", "-k", "15", str(suite_timeout)] + cmd
    env = dict(env, CORPUS_OUTCOMES=str(outcomes_file))
    start = time.monotonic()
    proc = run_logged(cmd, log, cwd=tree, env=env, check=False)
    seconds = time.monotonic() - start
    timed_out = proc.returncode in (124, 137)

    phases: dict[str, dict[str, dict]] = {}
    warnings_hollow: dict[str, str] = {}
    collect_errors: dict[str, str] = {}
    started: list[str] = []
    unattributed = 0
    collected = None
    finished = False
    if outcomes_file.exists():
        for line in outcomes_file.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            ev = rec["event"]
            if ev == "start":
                started.append(rec["id"])
            elif ev == "report":
                phases.setdefault(rec["id"], {})[rec["when"]] = rec
            elif ev == "warning" and rec.get("hollow") and rec.get("id"):
                warnings_hollow.setdefault(rec["id"], f"{rec['category']}: {rec['message']}")
            elif ev == "warning" and "never awaited" in rec.get("message", "") and not rec.get("id"):
                unattributed += 1
            elif ev == "collect-error":
                collect_errors[rec["id"]] = tail(rec["longrepr"], 20)
            elif ev == "collected":
                collected = rec["count"]
            elif ev == "finish":
                finished = True
    outcomes, details = {}, {}
    for tid, ph in phases.items():
        outcome, text = combine(ph)
        if outcome == "passed" and tid in warnings_hollow:
            # The warning's first line, then where the coroutine was created (innermost last).
            first, _, origin = warnings_hollow[tid].partition("\n")
            outcomes[tid] = "hollow"
            details[tid] = f"passed, but a coroutine never ran: {first}\n{tail(origin, 10)}".rstrip()
            continue
        outcomes[tid] = outcome
        if text:
            details[tid] = tail(text, 15)
    # The test that was running when the suite stopped, if it never finished.
    running = started[-1] if started and outcomes.get(started[-1], "incomplete") == "incomplete" else None
    if not finished and not timed_out and proc.returncode != 0:
        # pytest died without its session finishing (interpreter crash, usage error...).
        details.setdefault("<session>", tail(log.read_text(errors="replace"), 20))
    return SuiteResult(outcomes, details, collect_errors, proc.returncode, timed_out, running,
                       seconds, collected, unattributed)


# --------------------------------------------------------------------------- local server for smoke commands


class SmokeServer:
    """A deterministic HTTP server on 127.0.0.1 for smoke commands ($CORPUS_PORT).

    Routes of [project.server.routes] answer with their body (a key ending in `*` matches
    paths by prefix); any other path answers a JSON echo of the method, path and body.
    Requests in proxy form (`GET http://host/path`) are answered the same way, by path,
    so a smoke command can set http_proxy to this server and reach no other host. Date
    and Server headers are fixed so output is comparable between runs."""

    def __init__(self, routes: dict[str, dict]):
        routes = routes or {}

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "corpus-smoke/1"
            sys_version = ""

            def date_time_string(self, timestamp=None):
                return "Thu, 01 Jan 2015 00:00:00 GMT"

            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                if "://" in path:  # absolute form: the server is being used as an HTTP proxy
                    path = "/" + path.split("://", 1)[1].partition("/")[2]
                route = routes.get(path)
                if route is None:
                    prefixes = [k for k in routes if k.endswith("*") and path.startswith(k[:-1])]
                    if prefixes:
                        route = routes[max(prefixes, key=len)]
                if route is not None:
                    status = int(route.get("status", 200))
                    ctype = route.get("content_type", "application/json")
                    payload = route.get("body", "").encode()
                    extra = route.get("headers", {})
                else:
                    status, ctype, extra = 200, "application/json", {}
                    payload = json.dumps(
                        {"method": self.command, "path": self.path,
                         "body": body.decode("utf-8", "replace")}, sort_keys=True
                    ).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for k, v in extra.items():
                    self.send_header(k, v.replace("$CORPUS_PORT", str(self.server.server_address[1])))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a client that hangs up (a migrated one that crashed) is not news

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def run_smoke(project: dict, venv: Path, tree: Path, env: dict, workdir: Path, port: int,
              log: Path) -> list[dict]:
    """Run each smoke's commands in a fresh copy of its files; return what each printed."""
    results = []
    for smoke in project.get("smoke", []):
        # The same path before and after, so paths in the output compare equal.
        sdir = workdir / "smoke" / smoke["name"]
        if sdir.exists():
            shutil.rmtree(sdir)
        sdir.mkdir(parents=True)
        for fname, content in smoke.get("files", {}).items():
            (sdir / fname).parent.mkdir(parents=True, exist_ok=True)
            (sdir / fname).write_text(content)
        senv = dict(env, CORPUS_PORT=str(port), CORPUS_TREE=str(tree), HOME=str(sdir / ".home"))
        (sdir / ".home").mkdir()
        for i, command in enumerate(smoke["commands"]):
            try:
                proc = subprocess.run(
                    ["bash", "-o", "pipefail", "-c", command], cwd=sdir, env=senv,
                    capture_output=True, timeout=int(smoke.get("timeout", 60)), stdin=subprocess.DEVNULL,
                )
                stdout = proc.stdout.decode("utf-8", "replace")
                stderr = proc.stderr.decode("utf-8", "replace")
                rc = proc.returncode
            except subprocess.TimeoutExpired as e:
                stdout = (e.stdout or b"").decode("utf-8", "replace")
                stderr = (e.stderr or b"").decode("utf-8", "replace") + "\n[timed out]"
                rc = "timeout"
            for pattern, repl in smoke.get("normalize", []):
                stdout = re.sub(pattern, repl, stdout)
            stdout = stdout.replace(str(port), "$CORPUS_PORT")
            results.append({"smoke": smoke["name"], "index": i, "command": command,
                            "stdout": stdout, "stderr": stderr, "rc": rc})
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"\n[{smoke['name']} #{i}] $ {command}\n--- exit {rc}\n--- stdout\n{stdout}"
                        f"--- stderr\n{stderr}\n")
    return results


# --------------------------------------------------------------------------- one project


def tree_diff(before: Path, after: Path) -> str:
    out = []
    for path in sorted(after.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(after)
        old = before / rel
        a = old.read_text(errors="replace").splitlines(keepends=True) if old.exists() else []
        b = path.read_text(errors="replace").splitlines(keepends=True)
        if a != b:
            out.extend(difflib.unified_diff(a, b, f"a/{rel}", f"b/{rel}"))
    return "".join(out)


def run_project(project: dict, common: dict, awaitify: Path, must_keep: bool) -> dict:
    name, version = project["name"], project["version"]
    logdir = OUT / "logs" / name
    if logdir.exists():
        shutil.rmtree(logdir)
    logdir.mkdir(parents=True)
    setup_log = logdir / "setup.log"
    result = {
        "name": name, "version": version, "must_keep": must_keep, "error": None,
        "kept": 0, "passed_before": 0, "lost": [], "gained": [], "smoke": "none", "smoke_diffs": [],
        "awaitify": {}, "timings": {}, "logs": str(logdir.relative_to(REPO)),
    }
    t0 = time.monotonic()
    server = None
    try:
        sdist = ensure_sdist(project, setup_log)
        reqs = requirements_for(common, project)
        venv = ensure_venv(project, reqs, sdist, setup_log)
        result["timings"]["setup"] = round(time.monotonic() - t0, 1)
        work = OUT / "work" / name
        before = extract(sdist, work / "before")
        after = extract(sdist, work / "after")
        for d in project["packages"] + project.get("tests", []):
            if not (before / d).exists():
                raise StepError(f"package/test path {d!r} not in the sdist")
        plugin_dir = OUT / "plugin"
        with named_lock("plugin"):
            plugin_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PLUGIN, plugin_dir / PLUGIN.name)
        per_test_timeout = project.get("test_timeout", common.get("test_timeout"))
        server = SmokeServer(project.get("server", {}).get("routes", {}))
        extra_env = {k: str(v) for k, v in project.get("env", {}).items()}

        # ---- before
        env_b = base_env(venv, before, work / "home-before", plugin_dir) | extra_env
        check_imports(project, venv, before, env_b, setup_log)
        t = time.monotonic()
        res_b = run_suite(project, venv, before, env_b, logdir, "before", per_test_timeout)
        result["timings"]["tests_before"] = round(time.monotonic() - t, 1)
        if res_b.timed_out:
            raise StepError(f"the suite timed out BEFORE migration (suite_timeout "
                            f"{project.get('suite_timeout', 600)}s; running: {res_b.running_at_timeout})")
        if res_b.exit_code not in (0, 1) or res_b.collect_errors or not res_b.outcomes and project.get("tests"):
            raise StepError(
                f"the suite could not run cleanly BEFORE migration (pytest exit {res_b.exit_code}, "
                f"collection errors: {sorted(res_b.collect_errors)}); see {logdir / 'pytest-before.log'}"
            )
        failing_before = sorted(t for t, o in res_b.outcomes.items() if o in ("failed", "error", "hollow"))
        result["failing_before"] = {t: res_b.details.get(t, "") for t in failing_before}
        smoke_b = run_smoke(project, venv, before, env_b, work, server.port, logdir / "smoke-before.log")
        bad_smoke = [s for s in smoke_b if s["rc"] != 0 and not s["command"].rstrip().endswith("|| true")]
        if bad_smoke:
            s = bad_smoke[0]
            raise StepError(f"smoke {s['smoke']!r} command {s['command']!r} failed BEFORE migration "
                            f"(exit {s['rc']}): {tail(s['stderr'], 5)}")

        # ---- migrate
        targets = project["packages"] + project.get("tests", [])
        aw_log = logdir / "awaitify.log"
        t = time.monotonic()
        try:
            proc = subprocess.run(
                [awaitify, "--write", "--color", "never", "--statistics", "--show-notes", *targets],
                cwd=after, capture_output=True, text=True, timeout=600,
            )
        except subprocess.TimeoutExpired:
            raise StepError("awaitify did not finish within 600 s")
        result["timings"]["awaitify"] = round(time.monotonic() - t, 2)
        aw_log.write_text(f"$ awaitify --write --color never --statistics --show-notes {' '.join(targets)}\n"
                          f"[exit {proc.returncode}]\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
        diags = [l for l in proc.stderr.splitlines() if re.match(r"^\S+:\d+:\d+: \S+ ", l)]
        codes: dict[str, int] = {}
        for l in diags:
            code = l.split(": ", 1)[1].split(" ", 1)[0]
            codes[code] = codes.get(code, 0) + 1
        summary = next((l for l in (proc.stderr + proc.stdout).splitlines() if re.search(r"\d+ files? scanned,", l)), "")
        # The receivers of unknown type the pins name: what `unresolved-call` reported before
        # unknown receivers pinned their chains (issue 15 counts them).
        unknown = sorted({m.group(1) for l in diags
                          for m in [re.search(r"a value of unknown type at (\S+?:\d+)", l)] if m})
        result["awaitify"] = {"exit": proc.returncode, "summary": summary, "diagnostics": codes,
                              "unknown_receivers": unknown,
                              "seconds": result["timings"]["awaitify"]}
        if proc.returncode < 0 or proc.returncode >= 2:
            raise StepError(f"awaitify exited {proc.returncode}: {tail(proc.stderr, 5)}")
        diff = tree_diff(before, after)
        (logdir / "migration.diff").write_text(diff)
        result["awaitify"]["diff_lines"] = diff.count("\n")

        # ---- after
        env_a = base_env(venv, after, work / "home-after", plugin_dir) | extra_env
        check_imports(project, venv, after, env_a, setup_log)
        t = time.monotonic()
        res_a = run_suite(project, venv, after, env_a, logdir, "after", per_test_timeout)
        result["timings"]["tests_after"] = round(time.monotonic() - t, 1)
        smoke_a = run_smoke(project, venv, after, env_a, work, server.port, logdir / "smoke-after.log")

        # ---- compare
        passed_b = sorted(t for t, o in res_b.outcomes.items() if o == "passed")
        result["passed_before"] = len(passed_b)
        result["tests_before"] = len(res_b.outcomes)
        result["tests_after"] = len(res_a.outcomes)
        result["suite_after"] = {"exit": res_a.exit_code, "timed_out": res_a.timed_out,
                                 "running_at_timeout": res_a.running_at_timeout,
                                 "collect_errors": res_a.collect_errors,
                                 "unattributed_never_awaited": res_a.unattributed_never_awaited}
        lost = []
        for tid in passed_b:
            outcome = res_a.outcomes.get(tid)
            if outcome == "passed":
                continue
            if outcome is None:
                why = "missing after migration"
                module = tid.split("::", 1)[0]
                errs = [e for cid, e in res_a.collect_errors.items() if module.startswith(cid) or cid.startswith(module)]
                if errs:
                    why = "collection error:\n" + errs[0]
                elif res_a.timed_out:
                    why = f"suite timed out (running: {res_a.running_at_timeout})"
                elif "<session>" in res_a.details:
                    why = "pytest session died:\n" + res_a.details["<session>"]
                lost.append({"id": tid, "after": "missing", "why": why})
            else:
                lost.append({"id": tid, "after": outcome, "why": res_a.details.get(tid, "")})
        result["lost"] = lost
        result["kept"] = len(passed_b) - len(lost)
        result["gained"] = sorted(t for t, o in res_a.outcomes.items()
                                  if o == "passed" and res_b.outcomes.get(t) != "passed")
        if project.get("smoke"):
            same = True
            for sb, sa in zip(smoke_b, smoke_a):
                if (sb["stdout"], sb["rc"]) != (sa["stdout"], sa["rc"]):
                    same = False
                    d = "".join(difflib.unified_diff(
                        sb["stdout"].splitlines(True), sa["stdout"].splitlines(True), "before", "after"))
                    result["smoke_diffs"].append({
                        "smoke": sb["smoke"], "command": sb["command"], "rc_before": sb["rc"],
                        "rc_after": sa["rc"], "stdout_diff": d[-4000:], "stderr_after": tail(sa["stderr"], 15),
                    })
            result["smoke"] = "same" if same else "DIFFERENT"
    except StepError as e:
        result["error"] = str(e)
    except Exception:
        result["error"] = "harness error:\n" + traceback.format_exc()
    finally:
        if server:
            server.close()
    result["timings"]["total"] = round(time.monotonic() - t0, 1)
    (logdir / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


# --------------------------------------------------------------------------- report


def line_for(r: dict) -> str:
    if r["error"]:
        return f"{r['name']} {r['version']}: ERROR {r['error'].splitlines()[0]}"
    aw = r["awaitify"]
    extra = f" awaitify: exit {aw['exit']}" if aw.get("exit") else ""
    return (f"{r['name']} {r['version']}: kept {r['kept']}/{r['passed_before']} tests "
            f"(lost: {len(r['lost'])}) smoke: {r['smoke']}{extra}")


def write_reports(results: list[dict], awaitify: Path, wall: float, failed_gate: list[str]) -> None:
    doc = {"awaitify": str(awaitify), "wall_seconds": round(wall, 1), "gate_failures": failed_gate,
           "projects": results}
    (OUT / "report.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = ["# awaitify corpus report", "",
          f"awaitify: `{awaitify}`; wall time {wall:.0f} s", "",
          "| project | version | must keep | passed before | kept | lost | smoke | awaitify | time (s) |",
          "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if r["error"]:
            md.append(f"| {r['name']} | {r['version']} | {'yes' if r['must_keep'] else 'no'} | ERROR | | | | | "
                      f"{r['timings'].get('total', '')} |")
            continue
        aw = r["awaitify"]
        md.append(f"| {r['name']} | {r['version']} | {'yes' if r['must_keep'] else 'no'} | {r['passed_before']} | "
                  f"{r['kept']} | {len(r['lost'])} | {r['smoke']} | exit {aw.get('exit')}, "
                  f"{aw.get('diff_lines', 0)} diff lines | {r['timings'].get('total', '')} |")
    if failed_gate:
        md += ["", "**Gate failures:** " + ", ".join(failed_gate)]
    for r in results:
        md += ["", f"## {r['name']} {r['version']}", ""]
        if r["error"]:
            md += ["```", r["error"], "```"]
            continue
        aw = r["awaitify"]
        md += [f"- awaitify: exit {aw.get('exit')}; `{aw.get('summary')}`",
               f"- diagnostics: {', '.join(f'{k} {v}' for k, v in sorted(aw.get('diagnostics', {}).items())) or 'none'}",
               f"- receivers of unknown type named by pins: {len(aw.get('unknown_receivers', []))}"
               f"{' (' + ', '.join(aw['unknown_receivers']) + ')' if aw.get('unknown_receivers') else ''}",
               f"- timings: {r['timings']}",
               f"- logs: `{r['logs']}/` (migration.diff, awaitify.log, pytest-*.log, smoke-*.log)"]
        sa = r.get("suite_after", {})
        if sa.get("timed_out"):
            md.append(f"- the suite AFTER migration timed out; running: `{sa.get('running_at_timeout')}`")
        if sa.get("collect_errors"):
            md.append("- collection errors after migration:")
            for cid, text in sa["collect_errors"].items():
                md += [f"  - `{cid}`", "", "```", tail(text, 8), "```", ""]
        if sa.get("unattributed_never_awaited"):
            md.append(f"- \"never awaited\" warnings after migration that no test could be blamed for: "
                      f"{sa['unattributed_never_awaited']}")
        if r["gained"]:
            md.append(f"- passing only after migration: {len(r['gained'])}")
        for d in r["smoke_diffs"]:
            md += ["", f"### smoke {d['smoke']} differs: `{d['command']}` (exit {d['rc_before']} -> {d['rc_after']})",
                   "", "```diff", d["stdout_diff"].rstrip() or "(stdout identical)", "```",
                   "stderr after:", "```", d["stderr_after"], "```"]
        if r["lost"]:
            md += ["", f"### lost tests ({len(r['lost'])})", ""]
            for t in r["lost"]:
                md += [f"- `{t['id']}` → {t['after']}", "", "```", tail(t["why"], 12) or "(no output)", "```", ""]
    (OUT / "report.md").write_text("\n".join(md) + "\n")


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--awaitify", required=True, type=Path, help="the awaitify binary to measure")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these projects")
    ap.add_argument("--jobs", type=int, default=1, help="projects run at once (default 1)")
    ap.add_argument("--keep-going", action="store_true",
                    help="go on with the other projects after one fails the gate or cannot run")
    args = ap.parse_args()

    if sys.version_info < (3, 11):
        print("error: Python 3.11+ is needed (tomllib)", file=sys.stderr)
        return 2
    awaitify = args.awaitify.resolve()
    if not awaitify.is_file() or not os.access(awaitify, os.X_OK):
        print(f"error: {args.awaitify} is not an executable file", file=sys.stderr)
        return 2
    for tool in ("timeout", "bash", "script"):
        if not shutil.which(tool):
            print(f"error: `{tool}` is not on PATH", file=sys.stderr)
            return 2
    common, projects = load_config()
    must_keep = read_must_keep()
    names = {p["name"] for p in projects}
    unknown = must_keep - names
    if unknown:
        print(f"error: {MUST_KEEP} names projects not in projects.toml: {sorted(unknown)}", file=sys.stderr)
        return 2
    if args.only:
        missing = set(args.only) - names
        if missing:
            print(f"error: --only: unknown projects {sorted(missing)}; known: {sorted(names)}", file=sys.stderr)
            return 2
        projects = [p for p in projects if p["name"] in args.only]
    OUT.mkdir(parents=True, exist_ok=True)

    version = subprocess.run([awaitify, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"corpus: {len(projects)} project(s), {version or awaitify}, jobs {args.jobs}", flush=True)
    start = time.monotonic()
    results: list[dict] = []
    failed_gate: list[str] = []
    stop = threading.Event()

    def job(p):
        if stop.is_set():
            return None
        r = run_project(p, common, awaitify, p["name"] in must_keep)
        bad = r["error"] is not None or (
            r["must_keep"] and (r["lost"] or r["smoke"] == "DIFFERENT" or r["awaitify"].get("exit"))
        )
        print(line_for(r), flush=True)
        if bad and not args.keep_going:
            stop.set()
        return r

    def last_duration(p):
        try:
            return json.loads((OUT / "logs" / p["name"] / "result.json").read_text())["timings"]["total"]
        except (OSError, ValueError, KeyError):
            return float("inf")

    # Longest first (by the last run's time), so --jobs overlaps the short ones with it.
    projects = sorted(projects, key=last_duration, reverse=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for r in pool.map(job, projects):
            if r is not None:
                results.append(r)
    wall = time.monotonic() - start
    for r in results:
        if r["error"]:
            failed_gate.append(f"{r['name']}: could not run: {r['error'].splitlines()[0]}")
        elif r["must_keep"] and r["lost"]:
            failed_gate.append(f"{r['name']}: must keep, lost {len(r['lost'])} test(s)")
        elif r["must_keep"] and r["smoke"] == "DIFFERENT":
            failed_gate.append(f"{r['name']}: must keep, smoke output differs")
        elif r["must_keep"] and r["awaitify"].get("exit"):
            failed_gate.append(f"{r['name']}: must keep, awaitify exited {r['awaitify']['exit']} "
                               "(some file could not be processed; see its awaitify.log)")
    skipped = [p["name"] for p in projects if p["name"] not in {r["name"] for r in results}]
    for name in skipped:
        failed_gate.append(f"{name}: not run (stopped after a failure; use --keep-going)")
    write_reports(results, awaitify, wall, failed_gate)
    print(f"wall time {wall:.0f} s; report: {(OUT / 'report.md').relative_to(REPO)}")
    for f in failed_gate:
        print(f"FAIL {f}")
    return 1 if failed_gate else 0


if __name__ == "__main__":
    sys.exit(main())
