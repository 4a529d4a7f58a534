//! A family added as one rule file (`transforms/blocking-smtp.toml`, the README's
//! "Adding a family"): an SMTP client talks to a local server before and after the
//! migration, with the same transcript.

mod support;

use support::{Equiv, assert_equivalent};

const SMTP_CLIENT: &str = r#"import smtplib
import socketserver
import threading
from email.message import EmailMessage

RECEIVED = []


class Handler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greets, acknowledges, and keeps each message."""

    def handle(self):
        self.wfile.write(b"220 localhost ready\r\n")
        data = None
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if data is not None:
                if line == b".\r\n":
                    RECEIVED.append(b"".join(data).decode())
                    data = None
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-localhost\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                data = []
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def message(to, body):
    msg = EmailMessage()
    msg["From"] = "awaitify@example.com"
    msg["To"] = to
    msg["Subject"] = "report"
    msg.set_content(body)
    return msg


def send_all(host, port, bodies):
    with smtplib.SMTP(host, port, timeout=5) as server:
        code, _ = server.ehlo()
        print("ehlo", code)
        for i, body in enumerate(bodies):
            server.send_message(message(f"user{i}@example.com", body))
        print("noop", server.noop()[0])


def send_one(host, port, body):
    server = smtplib.SMTP(host, port, timeout=5)
    try:
        refused = server.sendmail("a@example.com", ["b@example.com"], body)
        print("refused", refused)
    finally:
        print("quit", server.quit()[0])


def main():
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    host, port = srv.server_address
    send_all(host, port, ["first", "second"])
    send_one(host, port, "Subject: plain\r\n\r\nthird")
    srv.shutdown()
    for text in RECEIVED:
        print([l for l in text.splitlines() if l.startswith(("To:", "Subject:")) or l in ("first", "second", "third")])


if __name__ == "__main__":
    main()
"#;

#[test]
fn smtp_client_runs_the_same_with_its_commands_in_worker_threads() {
    let tree = assert_equivalent(SMTP_CLIENT, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    for line in [
        "    with await asyncio.to_thread(smtplib.SMTP, host, port, timeout=5) as server:\n",
        "        code, _ = await asyncio.to_thread(server.ehlo)\n",
        "            await asyncio.to_thread(server.send_message, message(f\"user{i}@example.com\", body))\n",
        "        print(\"noop\", (await asyncio.to_thread(server.noop))[0])\n",
        "        print(\"quit\", (await asyncio.to_thread(server.quit))[0])\n",
        // The server's thread is a daemon nothing joins, running sync code: it stays.
        "    threading.Thread(target=srv.serve_forever, daemon=True).start()\n",
    ] {
        assert!(main.contains(line), "missing {line:?} in:\n{main}");
    }
    // The request handler overrides a stdlib method: it stays sync.
    assert!(main.contains("    def handle(self):\n"), "{main}");
}
