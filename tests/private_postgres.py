"""A private PostgreSQL cluster for fault tests: ours to stop and restart, never the
machine's shared server."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from petition import create_app
from petition.core import schema_migrations
from petition.extensions import db
from tests.conftest import base_config, skip_or_fail
from tests.smtp_server import free_port

OWNER = "postgres"  # initdb refuses to run as root


def _bin_dir() -> Path | None:
    """The newest installed PostgreSQL's binaries (Debian keeps them out of PATH)."""
    versions = [Path(path).parent for path in glob("/usr/lib/postgresql/*/bin/initdb")]
    versions.sort(key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0)
    return versions[-1] if versions else None


@dataclass
class Cluster:
    bin_dir: Path
    data: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{OWNER}@127.0.0.1:{self.port}/postgres"

    def url_of(self, database: str) -> str:
        return self.url.rsplit("/", 1)[0] + f"/{database}"

    def pg_ctl(self, *args: str, timeout: float = 60) -> None:
        """Run pg_ctl on this cluster as its owner; fail with its log on an error."""
        result = subprocess.run(
            ["runuser", "-u", OWNER, "--", str(self.bin_dir / "pg_ctl"), "-D", str(self.data),
             "-l", str(self.log), *args],
            capture_output=True, text=True, timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {result.stderr}\n"
                               + self.log.read_text(errors="replace")[-2000:])

    def start(self) -> None:
        # wal_recycle=off, as docs/deployment/README.md asks: WAL segments done with are
        # removed, not renamed for reuse with the rows they held.
        options = (f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 "
                   "-c wal_recycle=off")
        self.pg_ctl("start", "-w", "-o", options)

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-w", "-m", mode)


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """initdb a throw-away cluster on a free loopback port, start it, remove it after."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        skip_or_fail("PostgreSQL's initdb not found under /usr/lib/postgresql/*/bin "
                     "(apt-get install postgresql)")
    if os.geteuid() != 0 or not shutil.which("runuser"):
        skip_or_fail("a private PostgreSQL cluster needs root, to run initdb as postgres")
    try:
        owner = pwd.getpwnam(OWNER)
    except KeyError:
        skip_or_fail(f"no {OWNER} user to own a private PostgreSQL cluster")
    # Not under pytest's tmp_path: its folders are root's alone, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="petition-pg-"))
    os.chown(root, owner.pw_uid, owner.pw_gid)
    cluster = Cluster(bin_dir, root / "data", free_port(), root / "server.log")
    try:
        subprocess.run(["runuser", "-u", OWNER, "--", str(bin_dir / "initdb"), "-D",
                        str(cluster.data), "-A", "trust", "-U", OWNER, "-E", "UTF8",
                        "--no-sync", "--no-instructions"],
                       check=True, capture_output=True, timeout=120)
        cluster.start()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                cluster.stop("immediate")  # removed below all the same
        shutil.rmtree(root, ignore_errors=True)


def migrated_database(cluster: Cluster, tmp_path: Path) -> str:
    """Create the database "petition" in the cluster, migrated to the newest revision."""
    admin = sa.create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text('CREATE DATABASE "petition"'))
    admin.dispose()
    url = cluster.url_of("petition")
    app = create_app(base_config(url, tmp_path))
    schema_migrations.bind(app)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url
