"""A scriptable hostile IMAP server over TLS on loopback, for collect's tests.

``behaviour`` maps a UID to what the server does when that message is fetched:
"drop" (half the literal, then the connection closes), "huge" (announces a
3 GB literal, sends a little of it, then falls silent), "drip" (one byte every
``drip_seconds``). Every other message is sent as it is. ``lie_size`` is the
RFC822.SIZE announced for every message, whatever its real size."""
from __future__ import annotations

import re
import socket
import ssl
import threading
import time

from mailservers import make_certificate, stop_listening


class FakeImap:
    def __init__(self, folder, messages: list[bytes], behaviour: dict[int, str] | None = None,
                 lie_size: int | None = None, drip_seconds: float = 0.05):
        self.cert, key = make_certificate(folder)
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(self.cert, key)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.messages = messages
        self.behaviour = behaviour or {}
        self.lie_size = lie_size
        self.drip_seconds = drip_seconds
        self.fetched: list[int] = []  # UIDs asked for, in order
        self.connections = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, raw):
        try:
            conn = self.ctx.wrap_socket(raw, server_side=True)
            reader = conn.makefile("rb")
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1] fake ready\r\n")
            while not self._stop.is_set():
                line = reader.readline()
                if not line:
                    return
                tag, cmd, *rest = line.decode().rstrip("\r\n").split(" ", 2)
                arg, t = (rest[0] if rest else ""), tag.encode()
                cmd = cmd.upper()
                if cmd == "CAPABILITY":
                    conn.sendall(b"* CAPABILITY IMAP4rev1\r\n" + t + b" OK done\r\n")
                elif cmd == "LOGIN":
                    conn.sendall(t + b" OK logged in\r\n")
                elif cmd in ("SELECT", "EXAMINE"):
                    conn.sendall(b"* %d EXISTS\r\n%s OK [READ-ONLY] done\r\n" % (len(self.messages), t))
                elif cmd == "UID" and arg.upper().startswith("SEARCH"):
                    ids = " ".join(str(i + 1) for i in range(len(self.messages))).encode()
                    conn.sendall(b"* SEARCH " + ids + b"\r\n" + t + b" OK done\r\n")
                elif cmd == "UID" and "RFC822.SIZE" in arg:
                    out = b"".join(b"* %d FETCH (UID %d RFC822.SIZE %d)\r\n" % (
                        i + 1, i + 1, len(m) if self.lie_size is None else self.lie_size)
                        for i, m in enumerate(self.messages))
                    conn.sendall(out + t + b" OK done\r\n")
                elif cmd == "UID" and "BODY.PEEK" in arg:
                    uid = int(re.search(r"FETCH (\d+)", arg).group(1))
                    self.fetched.append(uid)
                    if not self._fetch(conn, t, uid):
                        return
                elif cmd == "LOGOUT":
                    conn.sendall(b"* BYE\r\n" + t + b" OK bye\r\n")
                    return
                else:
                    conn.sendall(t + b" BAD what\r\n")
        except (OSError, ssl.SSLError):
            return

    def _fetch(self, conn, tag, uid) -> bool:
        """Answer one FETCH; False when the connection is done for."""
        m = self.messages[uid - 1]
        how = self.behaviour.get(uid, "ok")
        head = b"* %d FETCH (UID %d BODY[] {%d}\r\n"
        if how == "drop":
            conn.sendall(head % (uid, uid, len(m)) + m[:len(m) // 2])
            conn.close()
            return False
        if how == "huge":
            conn.sendall(head % (uid, uid, 3 * 1024 ** 3) + b"x" * (1 << 20))
            self._stop.wait(30)  # then nothing: a client reading it all would wait for ever
            return False
        if how == "drip":
            conn.sendall(head % (uid, uid, len(m)))
            for byte in m:
                if self._stop.is_set():
                    return False
                conn.sendall(bytes([byte]))
                time.sleep(self.drip_seconds)
            return False
        conn.sendall(head % (uid, uid, len(m)) + m + b")\r\n" + tag + b" OK done\r\n")
        return True

    def stop(self):
        self._stop.set()
        stop_listening(self.sock, self.thread)
