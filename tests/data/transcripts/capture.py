"""Capture the transcripts in this folder again from the lab and a throwaway Postfix.

Run as root from the repository root (Postfix starts as root), with swaks, openssl
and strace installed:

    .venv/bin/python tests/data/transcripts/capture.py

Every swaks and openssl run happens under ``strace``, and the script stops when a
client connects anywhere but loopback. The lab and Postfix passwords are new on
every start, so each capture replaces the password, and every base64 form of it that
a client sent, with FAKE_PASSWORD before the file is written.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from smtplab.lab import Lab, LabServer  # noqa: E402

from postfix_server import PostfixServer, start_postfix, stop_postfix  # noqa: E402

FAKE_PASSWORD = "fake-Passw0rd-4-tests"
EHLO_NAME = "client.smtplab.test"
FOREIGN_RCPT = "smtplab@example.net"
SENDER = "smtplab@example.com"

_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_FINAL_REPLY = re.compile(rb"(?m)^\d{3}(?: [^\r\n]*)?\r*$")


def main() -> None:
    with Lab() as lab:
        postfix = start_postfix()
        try:
            capture_all(lab, postfix)
        finally:
            stop_postfix(postfix)


def capture_all(lab: Lab, postfix: PostfixServer) -> None:
    healthy, broken = lab.servers["healthy"], lab.servers["broken"]
    write("swaks-healthy-starttls.txt", swaks(
        healthy, port_of(healthy, 1), "--tls", "--quit-after", "AUTH", "--tls-get-peer-cert",
        "--to", "x@healthy.test", "--from", "y@example.com",
    ))
    write("swaks-broken-starttls.txt", swaks(
        broken, port_of(broken, 1), "--tls", "--quit-after", "RCPT",
        "--to", FOREIGN_RCPT, "--from", SENDER,
    ))
    write("swaks-healthy-relay-denied.txt", swaks(
        healthy, port_of(healthy, 0), "--tls", "--quit-after", "RCPT",
        "--to", FOREIGN_RCPT, "--from", SENDER,
    ))
    write("swaks-healthy-auth-rejected.txt", swaks(
        healthy, port_of(healthy, 1), "--tls", "--quit-after", "AUTH",
        "--auth", "LOGIN", "--auth-user", "alice@healthy.test", "--auth-password", FAKE_PASSWORD,
        "--to", FOREIGN_RCPT, "--from", SENDER,
    ))
    submission, smtps = postfix.ports["submission"], postfix.ports["smtps"]
    plain = swaks_postfix(
        postfix, submission, "--tls", "--quit-after", "RCPT", "--auth", "PLAIN",
        "--auth-user", postfix.username, "--auth-password", postfix.password,
        "--to", FOREIGN_RCPT, "--from", SENDER,
    )
    write("swaks-postfix-auth-plain.txt", sanitize(plain, postfix.username, postfix.password))
    login = swaks_postfix(
        postfix, submission, "--tls", "--auth", "LOGIN", "--auth-user", postfix.username,
        "--auth-password", postfix.password, "--to", FOREIGN_RCPT, "--from", SENDER,
        "--header", "Subject: smtplab transcript capture", "--body", "Queued, never delivered.",
    )
    write("swaks-postfix-auth-login.txt", sanitize(login, postfix.username, postfix.password))
    write("swaks-postfix-smtps.txt", swaks_postfix(
        postfix, smtps, "--tls-on-connect", "--quit-after", "RCPT",
        "--to", FOREIGN_RCPT, "--from", SENDER,
    ))
    postfix.delete_queued_messages()

    capture_openssl(lab, postfix)
    write("dialogue-broken-starttls.txt", to_dialogue((HERE / "swaks-broken-starttls.txt").read_text()))


def capture_openssl(lab: Lab, postfix: PostfixServer) -> None:
    healthy, broken = lab.servers["healthy"], lab.servers["broken"]
    assert healthy.username and healthy.password
    typed = [
        f"EHLO {EHLO_NAME}",
        "AUTH LOGIN",
        b64(healthy.username),
        b64(healthy.password),
        f"MAIL FROM:<{SENDER}>",
        # The s_client manual reads R or Q at the start of a typed line as a command
        # letter, so RCPT and QUIT are typed in lower case, as people do at its prompt.
        f"rcpt to:<{FOREIGN_RCPT}>",
        "quit",
    ]
    text = openssl_typed(
        [*s_client(healthy.address, port_of(healthy, 1), healthy.host, starttls=True),
         "-CAfile", str(lab.cafile)],
        typed,
    )
    write("openssl-healthy-starttls-typed.txt", sanitize(text, healthy.username, healthy.password))

    piped = f"EHLO {EHLO_NAME}\nMAIL FROM:<{SENDER}>\nRCPT TO:<{FOREIGN_RCPT}>\nQUIT\n"
    write("openssl-broken-starttls-piped.txt", openssl_piped(
        [*s_client(broken.address, port_of(broken, 1), broken.host, starttls=True),
         "-CAfile", str(lab.cafile)],
        piped,
    ))

    typed = [f"ehlo {EHLO_NAME}", f"mail from:<{SENDER}>", f"rcpt to:<{FOREIGN_RCPT}>", "quit"]
    write("openssl-postfix-smtps-typed.txt", openssl_typed(
        s_client(postfix.host, postfix.ports["smtps"], "mail.postfix.test", starttls=False), typed
    ))


def port_of(server: LabServer, index: int) -> int:
    return int(server.endpoints[index].split("/")[0])


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def swaks(server: LabServer, port: int, *options: str) -> str:
    return traced(["swaks", "--server", server.address, "--port", str(port),
                   "--helo", EHLO_NAME, *options])


def swaks_postfix(postfix: PostfixServer, port: int, *options: str) -> str:
    return traced(["swaks", "--server", postfix.host, "--port", str(port),
                   "--helo", EHLO_NAME, *options])


def s_client(address: str, port: int, server_name: str, *, starttls: bool) -> list[str]:
    command = ["openssl", "s_client", "-connect", f"{address}:{port}", "-servername", server_name,
               "-crlf"]
    if starttls:
        command += ["-starttls", "smtp", "-name", EHLO_NAME]
    return command


def traced(command: Sequence[str], stdin: str | None = None) -> str:
    """Run a client under strace, stdout and stderr in one stream, loopback only."""
    with tempfile.NamedTemporaryFile(prefix="capture-strace-") as trace:
        result = subprocess.run(
            strace_prefix(trace.name) + list(command), input=stdin, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60, check=False,
        )
        check_loopback_only(Path(trace.name), command[0])
    return result.stdout


def strace_prefix(path: str) -> list[str]:
    return ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", path]


def openssl_piped(command: Sequence[str], stdin: str) -> str:
    # The pause keeps s_client running after the commands until the server closes.
    shell = f"{{ printf '%s' {quote(stdin)}; sleep 2; }} | {' '.join(map(quote, command))} 2>&1"
    return traced(["sh", "-c", shell])


def quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def openssl_typed(command: Sequence[str], lines: Sequence[str]) -> str:
    """Run s_client on a pseudo-terminal and type each line after the previous reply.

    The terminal echoes the typed lines, so the output contains them between the
    server's replies, as a copy of a terminal session does.
    """
    master, slave = pty.openpty()
    with tempfile.NamedTemporaryFile(prefix="capture-strace-") as trace:
        process = subprocess.Popen(strace_prefix(trace.name) + list(command),
                                   stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        output = bytearray()
        read_until(master, output, lambda: b"Verify return code" in output)
        time.sleep(0.5)
        read_available(master, output)
        for line in lines:
            start = len(output)
            os.write(master, line.encode() + b"\n")
            read_until(master, output, lambda start=start: _reply_after(output, start))
        read_until(master, output, lambda: process.poll() is not None)
        process.wait(timeout=10)
        os.close(master)
        check_loopback_only(Path(trace.name), command[0])
    # The terminal turns each "\n" into "\r\n", so a server's "\r\n" arrives as "\r\r\n".
    return re.sub(r"\r+\n", "\n", output.decode())


def _reply_after(output: bytearray, start: int) -> bool:
    return _FINAL_REPLY.search(bytes(output[start:])) is not None


def read_until(fd: int, output: bytearray, done: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no expected output; got so far:\n{output.decode(errors='replace')}")
        read_available(fd, output, 0.1)


def read_available(fd: int, output: bytearray, wait: float = 0.0) -> bool:
    readable, _, _ = select.select([fd], [], [], wait)
    if not readable:
        return False
    try:
        chunk = os.read(fd, 65536)
    except OSError:  # the pseudo-terminal reports EIO once the client has exited
        return False
    output.extend(chunk)
    return bool(chunk)


def check_loopback_only(trace: Path, client: str) -> None:
    """Raise unless every connect and send in the strace log goes to loopback.

    A UDP connect to port 0 of the unspecified address sends nothing: the C library
    uses it to pick a source address while it resolves names.
    """
    for line in trace.read_text().splitlines():
        if "AF_INET" not in line:
            continue
        match = _ADDRESS.search(line)
        port = _PORT.search(line)
        if match is None:
            raise RuntimeError(f"{client}: unreadable address in strace line: {line}")
        address = ipaddress.ip_address(match.group(1) or match.group(2))
        if address.is_loopback:
            continue
        if address.is_unspecified and port is not None and port.group(1) == "0":
            continue
        raise RuntimeError(f"{client} reached a non-loopback address: {line}")


def sanitize(text: str, username: str, password: str) -> str:
    """Replace the password and each base64 form a client sent with FAKE_PASSWORD's."""
    forms = {
        b64(f"\0{username}\0{password}"): b64(f"\0{username}\0{FAKE_PASSWORD}"),
        b64(f"{username}\0{username}\0{password}"): b64(f"{username}\0{username}\0{FAKE_PASSWORD}"),
        b64(password): b64(FAKE_PASSWORD),
        password: FAKE_PASSWORD,
    }
    for real, fake in forms.items():
        text = text.replace(real, fake)
    check_no_password(text, password)
    return text


def check_no_password(text: str, password: str) -> None:
    if password in text:
        raise RuntimeError("the real password is still in a capture")
    for token in re.findall(r"[A-Za-z0-9+/=]{8,}", text):
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            continue
        if password.encode() in decoded:
            raise RuntimeError("a base64 form of the real password is still in a capture")


def to_dialogue(swaks_text: str) -> str:
    """Rewrite a swaks capture as an S:/C: dialogue with no TLS marker line."""
    lines = []
    for line in swaks_text.splitlines():
        if line.startswith(("<-  ", "<~  ", "<** ", "<~* ")):
            lines.append("S: " + line[4:])
        elif line.startswith((" -> ", " ~> ", "**> ", "*~> ")):
            lines.append("C: " + line[4:])
    return "\n".join(lines) + "\n"


def write(name: str, text: str) -> None:
    (HERE / name).write_text(text)
    print(f"wrote {name}: {len(text.splitlines())} lines")  # noqa: T201


if __name__ == "__main__":
    main()
