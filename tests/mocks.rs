//! Tests that mock the sync API (`mock.patch("requests.get")`, `responses`, `requests_mock`,
//! `mocker.patch`, `monkeypatch.setattr`, `patch.object`, a patched `subprocess` function)
//! keep that API sync project-wide, so the migrated test still intercepts it: each project's
//! suite runs before and after the migration with the same result, the mocked calls are
//! unchanged, and the code under test calls a closed local port or a program that does not
//! exist, so a test that reached the real thing would fail loudly. A mocked project function
//! stays sync: the mock's return value cannot be awaited.

mod support;

use support::Equiv;

/// A local port nothing listens on: a real request to it is refused.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    listener.local_addr().expect("local address").port()
}

/// The package under test and one test that is migrated either way (`pause`), with the
/// given test module.
fn project(test: &str) -> String {
    let port = closed_port();
    format!(
        r#"#- pkg/__init__.py
#- pkg/client.py
import subprocess
import time

import requests

URL = "http://127.0.0.1:{port}/status"


def fetch(url=URL):
    r = requests.get(url, timeout=5)
    r.raise_for_status()
    return r.text


def deploy(path):
    subprocess.check_call(["awaitify-no-such-program", path])
    return "deployed " + path


def pause():
    time.sleep(0)
    return "paused"
#- tests/test_pause.py
from pkg import client


def test_pause():
    assert client.pause() == "paused"
#- tests/test_mocked.py
{test}"#
    )
}

/// Which of the package's APIs a test mocks: those stay as they are, the others convert.
#[derive(Clone, Copy)]
enum Mocked {
    Requests,
    Subprocess,
    Both,
}

/// Runs the suite before and after `awaitify --write`, and checks that the mocked calls are
/// left as they are while the rest is migrated.
fn same_result_with_the_mocked_calls_unchanged(test: &str, mocked: Mocked) -> String {
    let spec = project(test);
    let after = support::assert_equivalent(
        &spec,
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        Equiv {
            compare_last_line: true,
            ..Equiv::default()
        },
    );
    let client = &after["pkg/client.py"];
    let (requests, subprocess) = match mocked {
        Mocked::Requests => (true, false),
        Mocked::Subprocess => (false, true),
        Mocked::Both => (true, true),
    };
    let kept_requests =
        client.contains("def fetch(url=URL):\n    r = requests.get(url, timeout=5)\n");
    assert_eq!(kept_requests, requests, "{client}");
    assert_eq!(client.contains("async def fetch("), !requests, "{client}");
    let kept_subprocess = client.contains(
        "def deploy(path):\n    subprocess.check_call([\"awaitify-no-such-program\", path])\n",
    );
    assert_eq!(kept_subprocess, subprocess, "{client}");
    assert_eq!(
        client.contains("async def deploy("),
        !subprocess,
        "{client}"
    );
    assert!(client.contains("async def pause():"), "{client}");
    after["tests/test_mocked.py"].clone()
}

/// The `mocked-api-kept` reports of a fixture, as `path:line message`.
fn kept_reports(spec: &str) -> Vec<String> {
    support::migrate_fixture(spec)
        .diagnostics
        .iter()
        .filter(|d| d.code == "mocked-api-kept")
        .map(|d| format!("{}:{} {}", d.path, d.line, d.message))
        .collect()
}

const REQUESTS_RULES: &str = "the rules `requests-auth`, `requests-call`, `requests-exception`, `requests-response`, `requests-session` stay sync project-wide";
const SUBPROCESS_RULES: &str =
    "the rules `subprocess-popen`, `subprocess-run` stay sync project-wide";

/// The run reports exactly one kept API: the mock at `site` (the message's start), naming
/// `rules`.
fn assert_one_report(test: &str, site: &str, rules: &str) {
    let reports = kept_reports(&project(test));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert!(
        reports[0].starts_with(site) && reports[0].contains(rules),
        "{reports:#?}"
    );
}

#[test]
fn mock_patch_of_requests_get_as_a_decorator() {
    let test = r#"from unittest import mock

from pkg import client


@mock.patch("requests.get")
def test_fetch(get):
    get.return_value.text = "mocked"
    assert client.fetch() == "mocked"
    get.assert_called_once()
"#;
    let after = same_result_with_the_mocked_calls_unchanged(test, Mocked::Requests);
    assert!(after.contains("def test_fetch(get):"), "{after}");
    assert_one_report(
        test,
        "tests/test_mocked.py:6 `mock.patch(\"requests.get\")` mocks `requests.get`: ",
        REQUESTS_RULES,
    );
}

#[test]
fn mock_patch_of_subprocess_check_call_in_a_with() {
    let test = r#"from unittest import mock

from pkg import client


def test_deploy():
    with mock.patch("subprocess.check_call") as check_call:
        assert client.deploy("app") == "deployed app"
    check_call.assert_called_once_with(["awaitify-no-such-program", "app"])
"#;
    same_result_with_the_mocked_calls_unchanged(test, Mocked::Subprocess);
    let reports = kept_reports(&project(test));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert!(
        reports[0].starts_with("tests/test_mocked.py:7 `mock.patch(\"subprocess.check_call\")` mocks `subprocess.check_call`: ")
            && reports[0].contains(SUBPROCESS_RULES),
        "{reports:#?}"
    );
}

#[test]
fn responses_activate_mocks_all_of_requests() {
    let test = r#"import responses

from pkg import client


@responses.activate
def test_fetch():
    responses.add(responses.GET, client.URL, body="mocked")
    assert client.fetch() == "mocked"
"#;
    same_result_with_the_mocked_calls_unchanged(test, Mocked::Requests);
    assert_one_report(
        test,
        "tests/test_mocked.py:1 the import of `responses` mocks all of `requests`: ",
        REQUESTS_RULES,
    );
}

#[test]
fn the_requests_mock_fixture_mocks_all_of_requests() {
    let test = r#"from pkg import client


def test_fetch(requests_mock):
    requests_mock.get(client.URL, text="mocked")
    assert client.fetch() == "mocked"
"#;
    same_result_with_the_mocked_calls_unchanged(test, Mocked::Requests);
    let reports = kept_reports(&project(test));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert!(
        reports[0].starts_with(
            "tests/test_mocked.py:4 the `requests_mock` fixture mocks all of `requests`: "
        ),
        "{reports:#?}"
    );
}

#[test]
fn pytest_mock_mocker_patch() {
    let test = r#"from pkg import client


def test_fetch(mocker):
    get = mocker.patch("requests.get")
    get.return_value.text = "mocked"
    assert client.fetch() == "mocked"


def test_deploy(mocker):
    mocker.patch("subprocess.check_call")
    assert client.deploy("app") == "deployed app"
"#;
    same_result_with_the_mocked_calls_unchanged(test, Mocked::Both);
    let reports = kept_reports(&project(test));
    assert_eq!(reports.len(), 2, "{reports:#?}");
    assert!(reports[0].contains(REQUESTS_RULES), "{reports:#?}");
    assert!(reports[1].contains(SUBPROCESS_RULES), "{reports:#?}");
}

#[test]
fn monkeypatch_setattr_by_string_and_by_object() {
    let test = r#"import subprocess

import requests

from pkg import client


class Response:
    text = "faked"

    def raise_for_status(self):
        pass


def test_fetch(monkeypatch):
    monkeypatch.setattr("requests.get", lambda url, timeout: Response())
    assert client.fetch() == "faked"


def test_deploy(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "check_call", calls.append)
    assert client.deploy("app") == "deployed app"
    assert calls == [["awaitify-no-such-program", "app"]]


def test_fetch_by_object(monkeypatch):
    monkeypatch.setattr(requests, "get", lambda url, timeout: Response())
    assert client.fetch() == "faked"
"#;
    same_result_with_the_mocked_calls_unchanged(test, Mocked::Both);
    let reports = kept_reports(&project(test));
    assert_eq!(reports.len(), 3, "{reports:#?}");
    assert!(
        reports[1].contains("mocks `subprocess.check_call`"),
        "{reports:#?}"
    );
    assert!(reports[2].contains("mocks `requests.get`"), "{reports:#?}");
}

#[test]
fn mock_patch_object_on_the_module() {
    let test = r#"from unittest.mock import patch

import requests
import subprocess

from pkg import client


def test_fetch():
    with patch.object(requests, "get") as get:
        get.return_value.text = "mocked"
        assert client.fetch() == "mocked"


@patch.object(subprocess, "check_call")
def test_deploy(check_call):
    assert client.deploy("app") == "deployed app"
"#;
    same_result_with_the_mocked_calls_unchanged(test, Mocked::Both);
    let reports = kept_reports(&project(test));
    assert_eq!(reports.len(), 2, "{reports:#?}");
    assert!(reports[0].contains("mocks `requests.get`"), "{reports:#?}");
    assert!(
        reports[1].contains("mocks `subprocess.check_call`"),
        "{reports:#?}"
    );
}

#[test]
fn a_patch_of_the_name_the_module_imported() {
    // `pkg.client.requests` is the module `requests` as `pkg.client` sees it.
    let test = r#"from unittest import mock

from pkg import client


@mock.patch("pkg.client.requests")
def test_fetch(requests):
    requests.get.return_value.text = "mocked"
    assert client.fetch() == "mocked"


@mock.patch("pkg.client.subprocess.check_call")
def test_deploy(check_call):
    assert client.deploy("app") == "deployed app"
"#;
    same_result_with_the_mocked_calls_unchanged(test, Mocked::Both);
    let reports = kept_reports(&project(test));
    assert_eq!(reports.len(), 2, "{reports:#?}");
    assert!(
        reports[0].contains("mocks `pkg.client.requests`") && reports[0].contains(REQUESTS_RULES),
        "{reports:#?}"
    );
    assert!(
        reports[1].contains("mocks `pkg.client.subprocess.check_call`")
            && reports[1].contains(SUBPROCESS_RULES),
        "{reports:#?}"
    );
}

const PROJECT_FUNCTION: &str = r#"#- pkg/__init__.py
#- pkg/service.py
import time


def slow_lookup(key):
    time.sleep(0)
    return "real " + key


def describe(key):
    return "value: " + slow_lookup(key)


class Store:
    def get(self, key):
        time.sleep(0)
        return "real " + key


def read(store, key):
    return "read " + store.get(key)


def pause():
    time.sleep(0)
    return "paused"
#- tests/test_service.py
from unittest.mock import patch

from pkg import service


@patch("pkg.service.slow_lookup", return_value="mocked")
def test_describe(lookup):
    assert service.describe("k") == "value: mocked"


def test_read():
    with patch.object(service.Store, "get", return_value="mocked"):
        assert service.read(service.Store(), "k") == "read mocked"


def test_pause():
    assert service.pause() == "paused"
"#;

#[test]
fn a_mocked_project_function_stays_sync() {
    let after = support::assert_equivalent(
        PROJECT_FUNCTION,
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        Equiv {
            compare_last_line: true,
            ..Equiv::default()
        },
    );
    let service = &after["pkg/service.py"];
    for kept in [
        "def slow_lookup(key):\n    time.sleep(0)\n",
        "\ndef describe(key):",
        "    def get(self, key):\n        time.sleep(0)\n",
        "\ndef read(store, key):",
    ] {
        assert!(service.contains(kept), "{kept:?} in\n{service}");
    }
    assert!(service.contains("async def pause():"), "{service}");
    let reports: Vec<String> = support::migrate_fixture(PROJECT_FUNCTION)
        .diagnostics
        .iter()
        .filter(|d| d.code == "mocked-function-kept")
        .map(|d| format!("{}:{} {}", d.path, d.line, d.message))
        .collect();
    assert_eq!(
        reports,
        [
            "tests/test_service.py:6 `slow_lookup` stays sync and keeps its blocking calls: `slow_lookup` is replaced by the mock `patch(\"pkg.service.slow_lookup\", return_value=\"mocked\")`, whose return value cannot be awaited",
            "tests/test_service.py:12 `get` stays sync and keeps its blocking calls: `get` is replaced by the mock `patch.object(service.Store, \"get\", return_value=\"mocked\")`, whose return value cannot be awaited",
        ]
    );
}

#[test]
fn explain_shows_the_mock_that_keeps_a_function_sync() {
    let dir = tempfile::tempdir().expect("temp dir");
    support::write_fixture(dir.path(), PROJECT_FUNCTION);
    let run = support::run_awaitify(dir.path(), &["--explain", "slow_lookup", "."]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        "pkg.service.slow_lookup stays sync: `slow_lookup` is replaced by the mock `patch(\"pkg.service.slow_lookup\", return_value=\"mocked\")`, whose return value cannot be awaited (./tests/test_service.py:6)"
    );
}

#[test]
fn without_mocks_requests_and_subprocess_still_convert() {
    let test = r#"from pkg import client


def test_url():
    assert client.URL.startswith("http://127.0.0.1:")
"#;
    let m = support::migrate_fixture(&project(test));
    assert!(
        m.diagnostics.iter().all(|d| !d.code.starts_with("mock")),
        "{:#?}",
        m.diagnostics
    );
    let after = support::fixture_after(&project(test));
    assert!(after.contains("async def fetch(url=URL):"), "{after}");
    assert!(
        after.contains("await client.get(url, timeout=5)"),
        "{after}"
    );
    assert!(after.contains("async def deploy(path):"), "{after}");
    assert!(after.contains("asyncio.create_subprocess_exec"), "{after}");
}

#[test]
fn a_mock_target_awaitify_cannot_read_keeps_every_api_sync() {
    let test = r#"from unittest import mock

from pkg import client

TARGET = "requests.get"
TARGET = "requests.post"


def test_fetch():
    with mock.patch(TARGET) as get:
        get.return_value.text = "mocked"
        assert client.fetch() == "mocked"
"#;
    let reports: Vec<String> = support::migrate_fixture(&project(test))
        .diagnostics
        .iter()
        .filter(|d| d.code.starts_with("mock"))
        .map(|d| format!("{}:{} {} {}", d.path, d.line, d.code, d.message))
        .collect();
    assert_eq!(
        reports,
        [
            "tests/test_mocked.py:10 mock-target-unknown awaitify cannot tell what `mock.patch(TARGET)` replaces (its target is not a string it can read), so every API of the catalog stays sync in this run and the mock still intercepts whatever it replaces; write the target as a string to let the migration go on"
        ]
    );
    // Nothing converts, so the mock still intercepts what it replaces.
    let m = support::migrate_fixture(&project(test));
    assert!(
        m.files.iter().all(|f| f.new.is_none()),
        "{:?}",
        m.files
            .iter()
            .filter(|f| f.new.is_some())
            .map(|f| &f.display)
            .collect::<Vec<_>>()
    );
}

#[test]
fn patch_dict_and_other_setattr_methods_are_not_mocks_of_an_api() {
    let test = r#"import os
from unittest import mock

from pkg import client


class Config:
    def setattr(self, name, value):
        setattr(self, name, value)


def test_env():
    with mock.patch.dict(os.environ, {"X": "1"}):
        Config().setattr("x", 1)
        assert client.URL
"#;
    let m = support::migrate_fixture(&project(test));
    assert!(
        m.diagnostics.iter().all(|d| !d.code.starts_with("mock")),
        "{:#?}",
        m.diagnostics
    );
}

#[test]
fn a_patch_of_builtins_open_keeps_files_sync() {
    let spec = r#"#- pkg/__init__.py
#- pkg/files.py
import time


def load(path):
    with open(path) as f:
        return f.read()


def pause():
    time.sleep(0)
    return "paused"
#- tests/test_files.py
from unittest import mock

from pkg import files


def test_load():
    with mock.patch("builtins.open", mock.mock_open(read_data="mocked")):
        assert files.load("/nonexistent/awaitify-mocks") == "mocked"


def test_pause():
    assert files.pause() == "paused"
"#;
    let after = support::assert_equivalent(
        spec,
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        Equiv {
            compare_last_line: true,
            ..Equiv::default()
        },
    );
    let files = &after["pkg/files.py"];
    assert!(
        files.contains("def load(path):\n    with open(path) as f:\n"),
        "{files}"
    );
    assert!(files.contains("async def pause():"), "{files}");
    let reports = kept_reports(spec);
    assert_eq!(
        reports,
        [
            "tests/test_files.py:7 `mock.patch(\"builtins.open\", mock.mock_open(read_data=\"mocked\"))` mocks `builtins.open`: the rules `blocking-open` stay sync project-wide (their calls are left as they are), so the mock still intercepts them"
        ]
    );
}

#[test]
fn patch_multiple_pins_each_function_it_names() {
    let spec = PROJECT_FUNCTION
        .replace(
            "@patch(\"pkg.service.slow_lookup\", return_value=\"mocked\")\ndef test_describe(lookup):\n",
            "def test_describe():\n    with patch.multiple(\"pkg.service\", slow_lookup=DEFAULT) as mocks:\n        mocks[\"slow_lookup\"].return_value = \"mocked\"\n",
        )
        .replace(
            "    assert service.describe(\"k\") == \"value: mocked\"\n",
            "        assert service.describe(\"k\") == \"value: mocked\"\n",
        )
        .replace(
            "from unittest.mock import patch\n",
            "from unittest.mock import DEFAULT, patch\n",
        );
    assert!(spec.contains("patch.multiple"), "{spec}");
    let after = support::assert_equivalent(
        &spec,
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        Equiv {
            compare_last_line: true,
            ..Equiv::default()
        },
    );
    let service = &after["pkg/service.py"];
    assert!(service.contains("\ndef slow_lookup(key):"), "{service}");
    assert!(service.contains("\ndef describe(key):"), "{service}");
}

#[test]
fn a_mocked_call_stays_in_a_function_that_becomes_async_for_another_reason() {
    let spec = format!(
        r#"#- pkg/__init__.py
#- pkg/client.py
import time

import requests


def fetch(url):
    time.sleep(0)
    r = requests.get(url, timeout=5)
    return r.text
#- tests/test_client.py
from unittest import mock

from pkg import client


@mock.patch("requests.get")
def test_fetch(get):
    get.return_value.text = "mocked"
    assert client.fetch("http://127.0.0.1:{}/") == "mocked"
"#,
        closed_port()
    );
    let after = support::assert_equivalent(
        &spec,
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        Equiv {
            compare_last_line: true,
            ..Equiv::default()
        },
    );
    let client = &after["pkg/client.py"];
    assert!(
        client.contains(
            "async def fetch(url):\n    await asyncio.sleep(0)\n    r = requests.get(url, timeout=5)\n"
        ),
        "{client}"
    );
    // It blocks the event loop there, and says so.
    let codes: Vec<&str> = support::migrate_fixture(&spec)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect();
    assert_eq!(
        codes,
        ["blocking-call-in-coroutine", "mocked-api-kept"],
        "{codes:?}"
    );
}

#[test]
fn a_mocked_project_class_keeps_every_method_sync() {
    let spec = r#"#- pkg/__init__.py
#- pkg/store.py
import time


class Base:
    def load(self, key):
        time.sleep(0)
        return "real " + key


class Store(Base):
    def get(self, key):
        return self.load(key)


def read(key):
    return Store().get(key)
#- tests/test_store.py
from unittest import mock

from pkg import store


@mock.patch("pkg.store.Store")
def test_read(cls):
    cls.return_value.get.return_value = "mocked"
    assert store.read("k") == "mocked"
"#;
    let after = support::assert_equivalent(
        spec,
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        Equiv {
            compare_last_line: true,
            expect_unchanged: true,
            ..Equiv::default()
        },
    );
    assert!(after["pkg/store.py"].contains("\ndef read(key):"));
    let mut pinned: Vec<String> = support::migrate_fixture(spec)
        .diagnostics
        .iter()
        .filter(|d| d.code == "mocked-function-kept")
        .map(|d| d.message.split(':').next().unwrap_or_default().to_string())
        .collect();
    pinned.sort();
    assert_eq!(
        pinned,
        [
            "`get` stays sync and keeps its blocking calls",
            "`load` stays sync and keeps its blocking calls",
        ]
    );
}

#[test]
fn a_target_built_from_module_constants_is_read() {
    let test = r#"from unittest import mock

from pkg import client

MODULE = "pkg.client"
GET = "requests" + ".get"


@mock.patch(f"{MODULE}.requests.get")
def test_fetch(get):
    get.return_value.text = "mocked"
    assert client.fetch() == "mocked"


def test_fetch_again():
    with mock.patch(GET) as get:
        get.return_value.text = "mocked"
        assert client.fetch() == "mocked"
"#;
    same_result_with_the_mocked_calls_unchanged(test, Mocked::Requests);
    let reports = kept_reports(&project(test));
    assert_eq!(reports.len(), 2, "{reports:#?}");
    assert!(
        reports[0].contains("mocks `pkg.client.requests.get`"),
        "{reports:#?}"
    );
    assert!(reports[1].contains("mocks `requests.get`"), "{reports:#?}");
}
