"""A throwaway PostgreSQL server for the tests: initdb in a fresh folder, pg_ctl on a free port.

The binaries must be there (the CI image has PostgreSQL 15 in /usr/local/bin; Debian's package
puts them in /usr/lib/postgresql/N/bin): without them the tests fail, they do not skip.
PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise AssertionError(f"PostgreSQL's {name} is not installed (apt-get install postgresql): "
                             "the PostgreSQL review-database tests need it")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="fw-pg-"))  # not tmp_path: the postgres user must reach it
        self.port = _free_port()
        self.as_user = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = self.root / "data"

    def run(self, *cmd):
        done = subprocess.run([*self.as_user, *cmd], capture_output=True, text=True)
        if done.returncode:
            raise AssertionError(f"{' '.join(cmd)} failed: {done.stderr or done.stdout}")

    def start(self) -> Server:
        self.run(binary("initdb"), "-D", str(self.data), "-U", "fw", "-A", "trust", "-E", "UTF8", "--no-locale")
        self.run(binary("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o",
                 f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        return self

    def stop(self) -> None:
        try:
            self.run(binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://fw@127.0.0.1:{self.port}/{database}"

    def new_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
