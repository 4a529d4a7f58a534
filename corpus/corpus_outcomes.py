"""pytest plugin of the corpus harness: records each test's outcome as JSON lines.

run.py copies this file next to the work trees, puts its folder on PYTHONPATH and
loads it with `-p corpus_outcomes`; the file to write is named by $CORPUS_OUTCOMES.
Every record is flushed as soon as it is written, so a suite killed by its timeout
still leaves the outcomes of the tests that finished and the id of the one that
was running.

Records (one JSON object a line), keyed by "event":
  start          {"id"}                                  a test began
  report         {"id", "when", "outcome", "duration", "longrepr"?, "wasxfail"?}
  warning        {"id", "category", "message"}           a warning raised inside a test
  collect-error  {"id", "longrepr"}                      a module or class failed to collect
  collected      {"count"}
  finish         {"exitstatus"}
"""

import json
import os

# Warnings that mean a coroutine never ran: a test that passes with one of them
# passed without doing its work (unittest, for one, "passes" an async test method).
HOLLOW_MARKERS = (
    "was never awaited",
    "It is deprecated to return a value that is not None from a test case",
)


class Recorder:
    def __init__(self, path):
        self.out = open(path, "a", encoding="utf-8", buffering=1)

    def write(self, **record):
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()

    def pytest_runtest_logstart(self, nodeid, location):
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
        if not nodeid:
            return
        message = str(warning_message.message)
        self.write(
            event="warning",
            id=nodeid,
            category=warning_message.category.__name__,
            message=message[:2000],
            hollow=any(marker in message for marker in HOLLOW_MARKERS),
        )

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
        config.pluginmanager.register(Recorder(path), "corpus-recorder")
