"""pytest plugin of the corpus harness: records each test's outcome as JSON lines.

run.py copies this file next to the work trees, puts its folder on PYTHONPATH and
loads it with `-p corpus_outcomes`; the file to write is named by $CORPUS_OUTCOMES.
Every record is flushed as soon as it is written, so a suite killed by its timeout
still leaves the outcomes of the tests that finished and the id of the one that
was running.

Records (one JSON object a line), keyed by "event":
  start          {"id"}                                  a test began
  report         {"id", "when", "outcome", "duration", "longrepr"?, "wasxfail"?}
  warning        {"id", "category", "message", "hollow"}  a warning raised inside a test; for
                 "never awaited", id is the test that created the coroutine (or null)
  collect-error  {"id", "longrepr"}                      a module or class failed to collect
  collected      {"count"}
  finish         {"exitstatus"}
"""

import json
import os
import re
import sys

# Warnings that mean a coroutine never ran: a test that passes with one of them
# passed without doing its work (unittest, for one, "passes" an async test method).
NEVER_AWAITED = "was never awaited"
RETURNED_VALUE = "It is deprecated to return a value that is not None from a test case"

# "coroutine ... was never awaited" is raised when the coroutine is collected, which
# may be during a later test (a traceback kept it alive until a gc pass). With origin
# tracking the warning names where the coroutine was created, and the test whose
# function is on that stack is the one that lost its work.
ORIGIN_DEPTH = 200
FRAME = re.compile(r'^\s*File "([^"]+)", line \d+, in (\S+)$', re.M)


class Recorder:
    def __init__(self, path, rootdir):
        self.out = open(path, "a", encoding="utf-8", buffering=1)
        self.rootdir = rootdir
        self.by_function = {}  # (absolute file, function name) -> last test id started

    def test_key(self, nodeid):
        parts = nodeid.split("::")
        func = parts[-1].split("[", 1)[0]
        return os.path.normpath(os.path.join(self.rootdir, parts[0])), func

    def write(self, **record):
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()

    def pytest_runtest_logstart(self, nodeid, location):
        self.by_function[self.test_key(nodeid)] = nodeid
        self.write(event="start", id=nodeid)

    def pytest_runtest_logreport(self, report):
        record = {"id": report.nodeid, "when": report.when, "outcome": report.outcome,
                  "duration": round(getattr(report, "duration", 0.0), 3)}
        if hasattr(report, "wasxfail"):
            record["wasxfail"] = True
        if report.failed or (report.skipped and report.longrepr is not None):
            try:
                text = str(report.longrepr)
            except Exception as exc:  # a broken repr must not hide the outcome
                text = "<longrepr could not be rendered: %r>" % (exc,)
            record["longrepr"] = text[-6000:]
        self.write(event="report", **record)

    def pytest_warning_recorded(self, warning_message, when, nodeid, location):
        message = str(warning_message.message)
        category = warning_message.category.__name__
        if NEVER_AWAITED in message:
            # Blame the test on the coroutine's creation stack, innermost first.
            owner = None
            frames = FRAME.findall(message)
            for path, func in reversed(frames):
                owner = self.by_function.get((os.path.normpath(path), func))
                if owner:
                    break
            if owner is None and nodeid and any("/_pytest/" in path for path, _ in frames):
                # Created by pytest itself for the running test, not inside a test
                # function: an async setup_method/teardown_method, which pytest calls
                # without awaiting and drops at once.
                owner = nodeid
            if len(message) > 3000:  # keep the first line and the innermost frames
                first, _, rest = message.partition("\n")
                message = first + "\n  ...\n" + rest[-2800:]
            self.write(event="warning", id=owner, seen_in=nodeid, category=category,
                       message=message, hollow=owner is not None)
        elif nodeid:
            self.write(event="warning", id=nodeid, category=category, message=message[:2000],
                       hollow=RETURNED_VALUE in message)

    def pytest_collectreport(self, report):
        if report.failed:
            self.write(event="collect-error", id=report.nodeid, longrepr=str(report.longrepr)[-6000:])

    def pytest_collection_finish(self, session):
        self.write(event="collected", count=len(session.items))

    def pytest_sessionfinish(self, session, exitstatus):
        self.write(event="finish", exitstatus=int(exitstatus))


def pytest_configure(config):
    path = os.environ.get("CORPUS_OUTCOMES")
    if path and not config.pluginmanager.has_plugin("corpus-recorder"):
        sys.set_coroutine_origin_tracking_depth(ORIGIN_DEPTH)
        config.pluginmanager.register(Recorder(path, str(config.rootpath)), "corpus-recorder")
