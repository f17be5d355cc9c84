"""Real mail servers on loopback, started by the tests: aiosmtpd (SMTP with STARTTLS
and AUTH) and Dovecot (IMAP over TLS) with a throwaway configuration."""
from __future__ import annotations

import datetime
import os
import shutil
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

USER, PASSWORD = "secretariat", "s3cret-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, seconds: float = 20) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xltool test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class SmtpServer:
    """aiosmtpd with STARTTLS and AUTH. ``behaviour`` maps a recipient to what the
    server does with it: "refuse" (550 at RCPT), "reject" (554 after DATA) or
    "drop" (the connection is closed without a reply). ``smtputf8`` offers SMTPUTF8.

    ``after_data`` (settable while it runs) is what the server does once it has stored
    a message, before its reply: "ok" (250), "drop" (the connection closed, no reply)
    or "hang" (no reply, ever). ``drop_next_mail`` closes the connection at the next
    MAIL FROM, before anything is stored (a server closing an idle connection), once."""

    def __init__(self, folder: Path, behaviour: dict[str, str] | None = None,
                 smtputf8: bool = False, after_data: str = "ok", drop_next_mail: bool = False):
        import asyncio
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.cert, key = make_certificate(folder)
        self.received: list[dict] = []
        self.behaviour = dict(behaviour or {})
        self.after_data = after_data
        self.drop_next_mail = drop_next_mail
        outer = self

        class Handler:
            async def handle_MAIL(self, server, session, envelope, address, mail_options):
                if outer.drop_next_mail:
                    outer.drop_next_mail = False
                    server.transport.close()
                envelope.mail_from = address
                envelope.mail_options.extend(mail_options)
                return "250 OK"

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                what = outer.behaviour.get(address)
                if what == "refuse":
                    return "550 5.1.1 No such user here"
                if what == "drop":
                    server.transport.close()
                    return "250 OK"  # never reaches the client
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                if any(outer.behaviour.get(a) == "reject" for a in envelope.rcpt_tos):
                    return "554 5.7.1 Message rejected as spam"
                outer.received.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                       "data": envelope.original_content or envelope.content,
                                       "smtputf8": envelope.smtp_utf8})
                if outer.after_data == "drop":
                    server.transport.close()
                elif outer.after_data == "hang":
                    await asyncio.sleep(3600)
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
            return AuthResult(success=ok, handled=False)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     tls_context=context, require_starttls=True,
                                     authenticator=authenticator, auth_require_tls=True,
                                     auth_exclude_mechanism=["LOGIN"], enable_SMTPUTF8=smtputf8)
        self.controller.start()

    def copies(self) -> Counter:
        """How many messages each recipient got."""
        return Counter(got["to"][0] for got in self.received)

    def stop(self):
        self.controller.stop()


class SilentServer:
    """A loopback server that accepts connections and never answers; with
    ``greet_tls`` it completes TLS and sends an IMAP greeting, then falls silent."""

    def __init__(self, folder: Path | None = None, greet_tls: bool = False):
        import ssl
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.context = None
        if greet_tls:
            self.cert, key = make_certificate(folder)
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.context.load_cert_chain(self.cert, key)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                if self.context is not None:
                    conn = self.context.wrap_socket(conn, server_side=True)
                    conn.sendall(b"* OK IMAP4rev1 ready\r\n")
            except OSError:
                conn.close()
                continue
            self.held.append(conn)  # kept open, never read, never answered

    def stop(self):
        stop_listening(self.sock, self.thread)
        for conn in self.held:
            conn.close()


def stop_listening(sock: socket.socket, thread) -> None:
    """Close a listening socket and wait for the thread accepting on it to end: a
    plain close leaves the accept blocked, and a thread left over in the test
    process changes what later tests meet (the merge forks its report only when no
    other thread runs)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes the accept (Linux)
    except OSError:
        pass
    sock.close()
    thread.join(timeout=10)


class Dovecot:
    """Dovecot IMAP over TLS on a free loopback port, its mail in a temporary folder."""

    def __init__(self, folder: Path):
        exe = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(exe).exists():
            if os.environ.get("XLTOOL_REQUIRE_ALL"):
                pytest.fail("Dovecot is required here (dovecot-imapd) but is not installed")
            pytest.skip("Dovecot (dovecot-imapd) is not installed; .ci/run installs it")
        self.cert, key = make_certificate(folder)
        self.port = free_port()
        # The mail processes run as another user, who must reach the mail folder:
        # pytest's own temporary folders are private to this user.
        import tempfile

        self.public = Path(tempfile.mkdtemp(prefix="xltool-dovecot-"))
        self.public.chmod(0o711)
        mail = self.public / "mail"
        mail.mkdir()
        if os.geteuid() == 0:  # Dovecot will not run its login or mail processes as root
            import grp
            import pwd

            uid, gid = pwd.getpwnam("dovecot").pw_uid, grp.getgrnam("dovecot").gr_gid
            users = ("dovenull", "dovecot", "dovecot")
            shutil.chown(mail, uid, gid)
        else:
            import grp
            import pwd

            uid, gid = os.geteuid(), os.getegid()
            me, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
            users = (me, me, group)
        conf = folder / "dovecot.conf"
        conf.write_text(f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{self.cert}
ssl_key = <{key}
auth_mechanisms = plain login
mail_location = maildir:{mail}/%u
first_valid_uid = {min(uid, 1)}
default_login_user = {users[0]}
default_internal_user = {users[1]}
default_internal_group = {users[2]}
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {users[1]}
}}
""", encoding="utf-8")
        self.proc = subprocess.Popen([exe, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.log = folder / "dovecot.log"
        try:
            wait_for(self.port)
        except RuntimeError:
            self.stop()
            raise RuntimeError("Dovecot did not start: " + (
                self.log.read_text(errors="replace") if self.log.exists() else ""))

    def client(self):
        import imaplib
        import ssl

        conn = imaplib.IMAP4_SSL("127.0.0.1", self.port,
                                 ssl_context=ssl.create_default_context(cafile=str(self.cert)))
        conn.login(USER, PASSWORD)
        return conn

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.public, ignore_errors=True)
