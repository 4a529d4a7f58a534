#!/usr/bin/env python3
"""Score awaitify on real sync/async twin libraries (see bench/twins/README.md).

For each package of twins.toml: copy the sync side's package tree (without the async twin),
run `awaitify --write` on the copy with the package's rule file, then compare every function
of each migrated sync file with its async twin:

- async def: a function is positive when it is `async def`; awaitify's output is the
  prediction, the twin the truth. Functions are matched by qualified name (`Class.method`,
  nested `outer.inner`), every name read through the rename table (twins.toml's renames, the
  rule file's replacements and a few generic ones: `AsyncX` -> `X`, `aclose` -> `close`, ...).
- await sites: every `await`, `async with` item and `async for` (statements and
  comprehensions) in a function's own body, keyed by kind and by the callee's own name
  (`await self._conn.send(...)` -> ("await", "send")), read through the same table. Per matched function the two multisets are intersected: the intersection is the
  true positives, the rest of the output's sites false positives, the rest of the twin's
  false negatives ("keyed"). "count" does the same ignoring the callee and the kind: per
  function min(output sites, twin sites) are true positives.

Only the Python 3.11 standard library is used. Exit codes: 0 ok, 1 a run or a package
failed, 2 bad usage or missing input (run fetch.sh first).
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CACHE = HERE.parent / ".corpora" / "twins"

# Names every async twin uses for its sync counterpart's (async -> sync); the package's
# renames and rule-file replacements come on top.
GENERIC_RENAMES = {
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "aclose": "close",
    "anext": "next",
    "aiter": "iter",
    "aread": "read",
    "aiter_bytes": "iter_bytes",
    "aiter_raw": "iter_raw",
    "aiter_lines": "iter_lines",
    "aiter_text": "iter_text",
    "StopAsyncIteration": "StopIteration",
    "asynccontextmanager": "contextmanager",
    "AsyncIterator": "Iterator",
    "AsyncIterable": "Iterable",
    "AsyncGenerator": "Generator",
    "AbstractAsyncContextManager": "AbstractContextManager",
    "AsyncExitStack": "ExitStack",
}

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Renamer:
    """Reads an async-side name as its sync name."""

    def __init__(self, table: dict[str, str]):
        self.table = {**GENERIC_RENAMES, **table}
        self.cache: dict[str, str] = {}

    def name(self, name: str) -> str:
        hit = self.cache.get(name)
        if hit is None:
            hit = self.cache[name] = self._name(name)
        return hit

    def _name(self, name: str) -> str:
        if name in self.table:
            return self.table[name]
        # AsyncFoo -> Foo, _AsyncFoo -> _Foo: the convention of every twin here.
        m = re.fullmatch(r"(_*)Async([A-Z]\w*)", name)
        if m:
            return m.group(1) + m.group(2)
        m = re.fullmatch(r"(_*)async_(\w+)", name)
        if m:
            return m.group(1) + m.group(2)
        m = re.fullmatch(r"(\w+?)_async", name)
        if m:
            return m.group(1)
        return name

    def text(self, text: str) -> str:
        return IDENT.sub(lambda m: self.name(m.group(0)), text)


# ------------------------------------------------------------------------- extraction


@dataclass
class Func:
    qualname: str
    is_async: bool
    line: int
    end: int
    sites: list[tuple[str, str]] = field(default_factory=list)


def callee(expr: ast.expr) -> str:
    """The name a site is keyed by: the called function's or method's own name
    (`await self.conn.send(b)` -> `send`), so that `pymongo.lock._cond_wait` and an imported
    `_cond_wait` are the same site."""
    while True:
        if isinstance(expr, ast.Call):
            expr = expr.func
        elif isinstance(expr, (ast.Await, ast.Subscript, ast.Starred)):
            expr = expr.value
        elif isinstance(expr, ast.Attribute):
            return expr.attr
        elif isinstance(expr, ast.Name):
            return expr.id
        else:
            return ast.unparse(expr)


class Extractor(ast.NodeVisitor):
    """Functions of one module with their await sites; module-level sites under `<module>`."""

    def __init__(self, renamer: Renamer):
        self.renamer = renamer
        self.scope: list[str] = []
        self.funcs: dict[str, Func] = {}
        self.stack: list[Func] = []
        self.module = Func("<module>", False, 0, 0)

    def _add_site(self, kind: str, expr: ast.expr) -> None:
        target = self.stack[-1] if self.stack else self.module
        target.sites.append((kind, self.renamer.text(callee(expr))))

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scope.append(self.renamer.name(node.name))
        qual = ".".join(self.scope)
        n = 2
        key = qual
        while key in self.funcs:  # overloads, property setters, conditional definitions
            key = f"{qual}#{n}"
            n += 1
        func = Func(key, isinstance(node, ast.AsyncFunctionDef), node.lineno, node.end_lineno or node.lineno)
        self.funcs[key] = func
        for deco in node.decorator_list:
            self.visit(deco)
        self.stack.append(func)
        for stmt in node.body:
            self.visit(stmt)
        self.stack.pop()
        self.scope.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope.append(self.renamer.name(node.name))
        self.generic_visit(node)
        self.scope.pop()

    def visit_Await(self, node: ast.Await) -> None:
        self._add_site("await", node.value)
        self.generic_visit(node)

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        for item in node.items:
            self._add_site("with", item.context_expr)
        self.generic_visit(node)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        self._add_site("for", node.iter)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        if node.is_async:
            self._add_site("for", node.iter)
        self.generic_visit(node)


def extract(path: Path, renamer: Renamer) -> dict[str, Func]:
    tree = ast.parse(path.read_bytes(), filename=str(path))
    ex = Extractor(renamer)
    ex.visit(tree)
    ex.funcs["<module>"] = ex.module
    return ex.funcs


# -------------------------------------------------------------------------- running


@dataclass
class Package:
    name: str
    conf: dict
    src: Path  # the unpacked sdist
    work: Path  # the migrated copy
    renamer: Renamer
    rules: Path | None


def rule_renames(path: Path) -> dict[str, str]:
    """`replace` of the rule file's calls and methods, read back as the name they replace."""
    with open(path, "rb") as f:
        rule = tomllib.load(f)
    table = {}
    for entry in rule.get("call", []) + rule.get("method", []):
        new = entry.get("replace")
        if not new:
            continue
        olds = entry.get("names", []) + ([entry["name"]] if "name" in entry else [])
        for old in olds:
            old_last, new_last = old.rsplit(".", 1)[-1], new.rsplit(".", 1)[-1]
            if old_last != new_last:
                table[new_last] = old_last
    return table


def rule_callees(path: Path) -> set[str]:
    """The last component of every call, method and type the rule file names."""
    with open(path, "rb") as f:
        rule = tomllib.load(f)
    out = set()
    for entry in rule.get("call", []) + rule.get("method", []):
        for name in entry.get("names", []) + ([entry["name"]] if "name" in entry else []):
            out.add(name.rsplit(".", 1)[-1])
    for entry in rule.get("with", []) + rule.get("iterate", []):
        out.add(entry["type"].rsplit(".", 1)[-1])
    return out


def load_package(name: str, conf: dict) -> Package:
    version = conf["spec"].split("==")[1]
    src = CACHE / "src" / f"{name}-{version}"
    if not src.is_dir():
        print(f"score: {src} is missing; run bench/twins/fetch.sh first", file=sys.stderr)
        sys.exit(2)
    table = dict(conf.get("renames", {}))
    rules = HERE / conf["rules"] if conf.get("rules") else None
    if rules is not None:
        table = {**rule_renames(rules), **table}
    return Package(name, conf, src, CACHE / "work" / name, Renamer(table), rules)


def prepare(pkg: Package) -> None:
    if pkg.work.exists():
        shutil.rmtree(pkg.work)
    for tree in pkg.conf["tree"]:
        shutil.copytree(pkg.src / tree, pkg.work / tree)
    for gone in pkg.conf.get("remove", []):
        path = pkg.work / gone
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def run_awaitify(pkg: Package, binary: str) -> tuple[dict, float]:
    cmd = [binary, "--write", "--format", "json", "--statistics", "--color", "never"]
    if pkg.rules is not None:
        cmd += ["--rules", str(pkg.rules)]
    for path in pkg.conf.get("exclude", []):
        cmd += ["--exclude", path]
    cmd.append(".")
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=pkg.work, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        sys.stderr.write(proc.stderr)
        raise RuntimeError(f"{pkg.name}: awaitify exited {proc.returncode}")
    return json.loads(proc.stdout), elapsed


def pairs(pkg: Package) -> list[tuple[str, str]]:
    out = []
    for sync, twin in pkg.conf["pairs"]:
        if (pkg.src / sync).is_dir():
            for path in sorted((pkg.src / sync).rglob("*.py")):
                rel = path.relative_to(pkg.src / sync).as_posix()
                out.append((f"{sync}/{rel}", f"{twin}/{rel}"))
        else:
            out.append((sync, twin))
    for sync, twin in out:
        for side in (sync, twin):
            if not (pkg.src / side).is_file():
                print(f"score: {pkg.name}: {side} is not in the sdist", file=sys.stderr)
                sys.exit(2)
    return out


# -------------------------------------------------------------------------- scoring


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: PRF) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else (0.0 if p is not None or r is not None else None)


CHAIN = "chain: it awaits only functions that awaitify also left sync"


@dataclass
class Miss:
    """A function or site where the output and the twin disagree."""

    path: str  # the sync file, relative to the sdist
    line: int  # in the original sync file
    qualname: str
    detail: str = ""
    reason: str = ""
    roots: set[str] = field(default_factory=set)  # for a CHAIN miss: the reasons it reaches


@dataclass
class Result:
    name: str
    pairs: int = 0
    lines: int = 0
    seconds: float = 0.0
    matched: int = 0
    only_output: int = 0
    only_twin: int = 0
    twin_async: int = 0
    defs: PRF = field(default_factory=PRF)
    keyed: PRF = field(default_factory=PRF)
    count: PRF = field(default_factory=PRF)
    unmatched_sites: int = 0
    summary: dict = field(default_factory=dict)
    fn_funcs: list[Miss] = field(default_factory=list)
    fp_funcs: list[Miss] = field(default_factory=list)
    fn_sites: list[Miss] = field(default_factory=list)
    fp_sites: list[Miss] = field(default_factory=list)


def score_pair(pkg: Package, sync: str, twin: str, res: Result) -> dict:
    """Adds one file pair to `res`; returns what the diagnosis needs about its functions."""
    original = extract(pkg.src / sync, pkg.renamer)
    output = extract(pkg.work / sync, pkg.renamer)
    truth = extract(pkg.src / twin, pkg.renamer)
    res.pairs += 1
    res.lines += len((pkg.src / sync).read_bytes().splitlines())
    res.only_output += len(output.keys() - truth.keys())
    res.only_twin += len(truth.keys() - output.keys())
    res.unmatched_sites += sum(len(output[k].sites) for k in output.keys() - truth.keys())
    res.unmatched_sites += sum(len(truth[k].sites) for k in truth.keys() - output.keys())
    for key in sorted(output.keys() & truth.keys(), key=lambda k: output[k].line):
        out, tw = output[key], truth[key]
        orig = original.get(key)
        line = orig.line if orig else out.line
        if key != "<module>":
            res.matched += 1
            res.twin_async += tw.is_async
            if out.is_async and tw.is_async:
                res.defs.tp += 1
            elif out.is_async:
                res.defs.fp += 1
                res.fp_funcs.append(Miss(sync, line, key, "; ".join(sorted({c for _, c in out.sites}))[:120]))
            elif tw.is_async:
                res.defs.fn += 1
                res.fn_funcs.append(Miss(sync, line, key))
        got = collections.Counter(out.sites)
        want = collections.Counter(tw.sites)
        hit = got & want
        res.keyed.add(PRF(sum(hit.values()), sum((got - want).values()), sum((want - got).values())))
        both = min(len(out.sites), len(tw.sites))
        res.count.add(PRF(both, len(out.sites) - both, len(tw.sites) - both))
        for (kind, text), n in (want - got).items():
            res.fn_sites += [Miss(sync, line, key, f"{kind} {text}", "function stayed sync" if not out.is_async else "")] * n
        for (kind, text), n in (got - want).items():
            res.fp_sites += [Miss(sync, line, key, f"{kind} {text}")] * n
    return {"original": original, "truth": truth}


# ------------------------------------------------------------------------ diagnosis

PIN = re.compile(r"`([^`]+)` (?:stays sync and keeps its blocking calls: |must stay sync(?:: | because ))(.*)")
TICKS = re.compile(r"`[^`]*`")


def owner(funcs: dict[str, Func], line: int) -> str | None:
    """The innermost function of `funcs` whose lines include `line`."""
    best = None
    for key, f in funcs.items():
        if key != "<module>" and f.line <= line <= f.end and (best is None or f.line >= funcs[best].line):
            best = key
    return best


@dataclass
class Evidence:
    """What a run's diagnostics say about the functions that stayed sync."""

    pins: dict[str, str] = field(default_factory=dict)  # name or "path:name" -> pin's reason
    pin_text: dict[str, str] = field(default_factory=dict)  # same keys -> the pin's message
    below: dict[str, str] = field(default_factory=dict)  # same keys -> the caller keeping it sync
    unresolved: dict = field(default_factory=lambda: collections.defaultdict(list))  # (path, qualname) -> methods
    broken: set[str] = field(default_factory=set)  # files left unchanged after an internal error


def read_diagnostics(diags: list[dict], files: dict[str, dict]) -> Evidence:
    ev = Evidence()
    for d in diags:
        path = d["path"].removeprefix("./")
        if d["code"] == "internal-error":
            ev.broken.add(path)
        m = PIN.search(d["message"])
        if m and d["code"] == "sync-boundary":
            for key in (m.group(1), f"{path}:{m.group(1)}"):
                ev.pins[key] = "sync-boundary: " + TICKS.sub("X", m.group(2))
                ev.pin_text[key] = f"{path}:{d['line']}: {m.group(2)}"
        elif m and d["code"] == "blocking-call-kept":
            caller = re.match(r"`([^`]+)` calls it", m.group(2))
            for key in (m.group(1), f"{path}:{m.group(1)}"):
                if caller:
                    ev.below.setdefault(key, caller.group(1))
                else:
                    ev.pins.setdefault(key, "sync-boundary: " + TICKS.sub("X", m.group(2)))
        if d["code"] == "unresolved-call" and path in files:
            key = owner(files[path]["original"], d["line"])
            if key:
                ev.unresolved[(path, key)].append(d["message"].split("`", 2)[1].strip(".()"))
    return ev


def diagnose(pkg: Package, res: Result, diags: list[dict], files: dict[str, dict]) -> None:
    """Gives every missed function a reason.

    From the diagnostics: an internal error in its file; a `sync-boundary` naming it (it is
    a pin); a `blocking-call-kept` naming it (it is below a pin: followed up through
    "because Y calls it" to the pin's own reason); an `unresolved-call` in its body on a
    call the twin awaits. Without one, from what the twin awaits in it: nothing (a stub), a
    name the rule file maps, a name outside the twin files; else it is a chain miss, and its
    roots are the reasons of the missed functions it reaches (matched by name)."""
    ev = read_diagnostics(diags, files)
    pins, pin_text, below = ev.pins, ev.pin_text, ev.below

    def pinned(name: str) -> str | None:
        pinned.text = ""
        seen = set()
        while name not in pins and name in below and name not in seen:
            seen.add(name)
            name = below[name]
        if name in pins:
            pinned.text = pin_text.get(name, "")
            return pins[name] if not seen else "below a pin, " + pins[name]
        return "below a pin whose own reason awaitify does not report" if seen else None

    by_name: dict[str, list[Miss]] = collections.defaultdict(list)
    for miss in res.fn_funcs:
        by_name[miss.qualname.split("#")[0].rsplit(".", 1)[-1]].append(miss)
    missed_sites = collections.defaultdict(list)
    for s in res.fn_sites:
        missed_sites[(s.path, s.qualname)].append(s.detail.split(" ", 1)[1])
    for miss in res.fn_funcs:
        raw = files[miss.path]["original"].get(miss.qualname)
        name = miss.qualname.split("#")[0].rsplit(".", 1)[-1]
        raw_name = raw.qualname.rsplit(".", 1)[-1].split("#")[0] if raw else name
        # a diagnostic in the function's own file first: short names repeat across files
        reason = pinned(f"{miss.path}:{raw_name}") or pinned(name) or pinned(raw_name)
        # An unresolved call explains the miss only if the twin awaits a call of that name.
        relevant = set(ev.unresolved[(miss.path, miss.qualname)]) & set(missed_sites[(miss.path, miss.qualname)])
        if miss.path in ev.broken:
            miss.reason = "internal-error: awaitify left the file unchanged"
        elif reason:
            miss.reason = reason
            miss.detail = getattr(pinned, "text", "")
        elif relevant:
            miss.reason = "unresolved-call in its body on a call the twin awaits"
            miss.detail = ", ".join(f".{m}()" for m in sorted(relevant))
    twin_async = {k.rsplit(".", 1)[-1].split("#")[0] for f in files.values() for k, v in f["truth"].items() if v.is_async}
    rule_names = {pkg.renamer.name(n) for n in rule_callees(pkg.rules)} if pkg.rules else set()

    for miss in res.fn_funcs:
        if miss.reason:
            continue
        callees = missed_sites[(miss.path, miss.qualname)]
        outside = sorted({c for c in callees if c not in twin_async})
        mapped = sorted(set(outside) & rule_names)
        if not callees:
            miss.reason = "no diagnostic: the twin's function awaits nothing (stub, abstract or kept async for its API)"
        elif mapped:
            miss.reason = "no diagnostic: it calls an API the rule file maps, yet stayed sync"
            miss.detail = ", ".join(mapped)[:160]
        elif outside:
            miss.reason = "no diagnostic: the twin awaits something outside the twin files that no rule names"
            miss.detail = ", ".join(outside)[:160]
    # The rest await only functions that awaitify also left sync: their roots are the
    # reasons of the functions with a reason of their own that they reach.
    for miss in res.fn_funcs:
        if miss.reason:
            continue
        todo, seen = [miss], {id(miss)}
        while todo:
            for c in missed_sites[(todo[-1].path, todo.pop().qualname)]:
                for other in by_name.get(c, []):
                    if id(other) in seen:
                        continue
                    seen.add(id(other))
                    if other.reason and other.reason != CHAIN:
                        miss.roots.add(other.reason)
                    else:
                        todo.append(other)
        miss.reason = CHAIN


# ------------------------------------------------------------------------ reporting


def fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def table(results: list[Result]) -> str:
    head = (
        "| package | pairs | sync lines | functions matched | async in twin | async-def P | R | F1 "
        "| await sites in twin | keyed P | R | count P | R | awaitify |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    rows = []
    for r in results:
        sites = r.keyed.tp + r.keyed.fn
        rows.append(
            f"| {r.name} | {r.pairs} | {r.lines:,} | {r.matched:,} | {r.twin_async:,} | {fmt(r.defs.precision)} "
            f"| {fmt(r.defs.recall)} | {fmt(r.defs.f1)} | {sites:,} | {fmt(r.keyed.precision)} "
            f"| {fmt(r.keyed.recall)} | {fmt(r.count.precision)} | {fmt(r.count.recall)} | {r.seconds:.1f} s |"
        )
    return head + "\n".join(rows) + "\n"


def reasons(results: list[Result]) -> str:
    """Missed async functions per reason and package: those with a reason of their own, and
    the chain misses (awaiting only other missed functions) that reach a function with that
    reason (one chain miss can reach several)."""
    own = collections.defaultdict(collections.Counter)
    reach = collections.defaultdict(collections.Counter)
    for r in results:
        for m in r.fn_funcs:
            if m.reason == CHAIN:
                own[CHAIN][r.name] += 1
                for root in m.roots or {"(none found by name)"}:
                    reach[root][r.name] += 1
            else:
                own[m.reason][r.name] += 1
    names = [r.name for r in results]
    out = [
        "| reason | " + " | ".join(names) + " | all | chain misses reaching it |",
        "|---|" + "--:|" * (len(names) + 2),
    ]
    for reason in sorted(own.keys() | reach.keys(), key=lambda k: (k == CHAIN, -sum(own[k].values()))):
        c = own[reason]
        out.append(
            f"| {reason} | " + " | ".join(str(c[n]) for n in names) + f" | {sum(c.values())} | "
            + (" / ".join(str(reach[reason][n]) for n in names) if reason != CHAIN else "") + " |"
        )
    return "\n".join(out) + "\n"


def details(r: Result, top: int) -> str:
    out = [f"## {r.name}", ""]
    out.append(
        f"async def: {r.defs.tp} TP, {r.defs.fp} FP, {r.defs.fn} FN; await sites (keyed): {r.keyed.tp} TP, "
        f"{r.keyed.fp} FP, {r.keyed.fn} FN; count-based: {r.count.tp} TP, {r.count.fp} FP, {r.count.fn} FN. "
        f"Functions only in the output: {r.only_output}, only in the twin: {r.only_twin} "
        f"({r.unmatched_sites} sites in them, not scored). awaitify summary: "
        + ", ".join(f"{k} {v}" for k, v in r.summary.items() if k in ("functions_made_async", "call_sites_rewritten", "diagnostics"))
        + "."
    )
    out += ["", "### Missed async functions (async in the twin, sync in the output), by reason", ""]
    groups = collections.defaultdict(list)
    for m in r.fn_funcs:
        groups[m.reason].append(m)
    for reason, ms in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        out.append(f"- **{len(ms)}** {reason}")
        for m in ms[:top]:
            out.append(f"  - `{m.path}:{m.line}` `{m.qualname}`" + (f": {m.detail}" if m.detail else ""))
        if len(ms) > top:
            out.append(f"  - … {len(ms) - top} more")
    out += ["", "### Wrongly async functions (sync in the twin, async in the output)", ""]
    for m in r.fp_funcs[: top * 3]:
        out.append(f"- `{m.path}:{m.line}` `{m.qualname}`" + (f": awaits {m.detail}" if m.detail else ""))
    for title, sites in (("Missed await sites", r.fn_sites), ("Extra await sites", r.fp_sites)):
        out += ["", f"### {title} (by callee; in functions that are async in both / all)", ""]
        inside = collections.Counter(s.detail for s in sites if not s.reason)
        total = collections.Counter(s.detail for s in sites)
        out.append(f"{sum(inside.values())} of {len(sites)} are in functions async on both sides.")
        out.append("")
        for detail, n in total.most_common(top * 2):
            out.append(f"- {inside[detail]} / {n} `{detail}`")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="*", help="packages of twins.toml (default: all)")
    parser.add_argument("--awaitify", default=os.environ.get("AWAITIFY_BIN", str(ROOT / "target/release/awaitify")),
                        help="the awaitify binary (default: $AWAITIFY_BIN, else target/release/awaitify)")
    parser.add_argument("--no-rules", action="store_true",
                        help="run without the packages' rule files (and without their exclusions)")
    parser.add_argument("--details", metavar="FILE", help="write the per-package breakdown of misses (Markdown)")
    parser.add_argument("--top", type=int, default=8, help="examples per group in --details (default 8)")
    args = parser.parse_args()
    with open(HERE / "twins.toml", "rb") as f:
        conf = tomllib.load(f)
    names = args.packages or list(conf)
    unknown = [n for n in names if n not in conf]
    if unknown:
        parser.error(f"unknown package(s) {', '.join(unknown)} (known: {', '.join(conf)})")
    if not Path(args.awaitify).is_file():
        parser.error(f"no awaitify binary at {args.awaitify}")
    # awaitify runs inside each package's work tree: a relative path would not resolve there.
    args.awaitify = str(Path(args.awaitify).resolve())
    results = []
    for name in names:
        pkg = load_package(name, conf[name])
        if args.no_rules:  # the exclusions only make sense with the rules that replace them
            pkg.rules = None
            pkg.conf = {k: v for k, v in pkg.conf.items() if k != "exclude"}
        print(f"score: {name}: migrating a copy in {pkg.work.relative_to(ROOT)}", file=sys.stderr)
        prepare(pkg)
        try:
            report, seconds = run_awaitify(pkg, args.awaitify)
        except (RuntimeError, json.JSONDecodeError) as e:
            print(f"score: {e}", file=sys.stderr)
            return 1
        res = Result(name, seconds=seconds, summary=report["summary"])
        files = {sync: score_pair(pkg, sync, twin, res) for sync, twin in pairs(pkg)}
        diagnose(pkg, res, report["diagnostics"], files)
        results.append(res)
    print(table(results), end="")
    if args.details:
        with open(args.details, "w") as f:
            f.write(table(results) + "\n## Missed async functions by reason\n\n" + reasons(results) + "\n")
            f.write("\n".join(details(r, args.top) for r in results))
        print(f"score: details in {args.details}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
