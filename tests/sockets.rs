//! TCP client sockets become asyncio streams: the programs start their own echo server on
//! 127.0.0.1 in a thread, and run before and after the migration.

mod support;

use awaitify::rules::Catalog;
use awaitify::run::migrate_texts;
use support::{Equiv, assert_equivalent};

const ECHO_CLIENT: &str = r#"
import socket
import socketserver
import threading
import time


class Upper(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line.upper())


def start_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Upper)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def shout(port, words):
    replies = []
    with socket.create_connection(("127.0.0.1", port)) as s:
        f = s.makefile("rb")
        for w in words:
            s.sendall(w.encode() + b"\n")
            replies.append(f.readline().decode().strip())
            time.sleep(0.001)
    return replies


def drain(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"one\ntwo\n")
    sock.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = sock.recv(3)
        if not chunk:
            break
        data += chunk
    sock.close()
    return data


def main():
    server = start_server()
    port = server.server_address[1]
    print(shout(port, ["hello", "async"]))
    print(drain(port))
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
"#;

#[test]
fn echo_client_runs_the_same() {
    let tree = assert_equivalent(ECHO_CLIENT, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    assert!(
        main.contains("await asyncio.open_connection(\"127.0.0.1\", port)"),
        "{main}"
    );
    assert!(!main.contains("s.recv("), "{main}");
    // A connection with a timeout stays a socket: the timeout bounds each read too, which a
    // `wait_for` around the connect alone would not.
    assert!(
        main.contains("sock = socket.create_connection((\"127.0.0.1\", port), timeout=5)")
            && main.contains("chunk = sock.recv(3)"),
        "{main}"
    );
    // The server thread runs sync code: it stays a thread.
    assert!(
        main.contains("threading.Thread(target=server.serve_forever"),
        "{main}"
    );
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("sockets-echo-client", main);
    });
}

#[test]
fn sockets_used_otherwise_are_kept_and_reported() {
    let src = "import socket\nimport time\n\n\ndef ping(addr, log):\n    time.sleep(0)\n    s = socket.create_connection(addr)\n    s.settimeout(1)\n    s.sendall(b\"x\")\n    log(s)\n    return s.recv(1)\n";
    let m = migrate_texts(&[("main.py", src)], &Catalog::builtin().unwrap());
    assert_eq!(
        m.files[0].new.as_deref().unwrap(),
        "import asyncio\nimport socket\n\n\nasync def ping(addr, log):\n    await asyncio.sleep(0)\n    s = socket.create_connection(addr)\n    s.settimeout(1)\n    s.sendall(b\"x\")\n    log(s)\n    return s.recv(1)\n"
    );
    let codes: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}", d.line, d.code))
        .collect();
    assert!(codes.contains(&"7:socket-kept".to_string()), "{codes:?}");
}
