"""What leaving nothing of deleted rows in PostgreSQL's files costs: core/remnants.rewrite()
on a 100,000-signature letter (VACUUM FULL of the private tables, a WAL switch, a CHECKPOINT).

The worker runs it hourly, and after retention and a key rotation; each table is locked for
its own rewrite, so a request touching it waits that long. Printed: the whole rewrite, and
each table's VACUUM FULL, three times (the first after building, the others on a table with
nothing dead). Needs the PostgreSQL server of the tests (127.0.0.1:5432).

Usage: python bench/remnants.py
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from dataset import build, config  # noqa: E402
from harness import machine, pg_database, pg_settings  # noqa: E402

from petition import create_app  # noqa: E402
from petition.core import remnants  # noqa: E402
from petition.extensions import db  # noqa: E402

ROUNDS = 3


def _table_seconds(table: str) -> float:
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        started = time.perf_counter()
        connection.exec_driver_sql(f"VACUUM FULL {table}")
        return time.perf_counter() - started


def main() -> None:
    print(f"rewriting the private tables of 100,000 signatures; {machine()}")
    with pg_database("petition_bench_remnants") as url, tempfile.TemporaryDirectory() as folder:
        if url is None:
            raise SystemExit("PostgreSQL unreachable at 127.0.0.1:5432")
        print(f"  PostgreSQL: {pg_settings()}")
        seconds = build(Path(folder) / "unused", url=url)
        print(f"  built in {seconds:.1f} s")
        settings = dict(config(Path(folder) / "unused"), SQLALCHEMY_DATABASE_URI=url)
        app = create_app(settings)
        with app.app_context():
            wholes = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                assert remnants.rewrite(), "the rewrite failed: see the log"
                wholes.append(time.perf_counter() - started)
            print(f"  rewrite(): {', '.join(f'{s:.2f}' for s in wholes)} s "
                  f"(median {statistics.median(wholes):.2f} s)")
            for table in remnants.SECRET_TABLES:
                times = [_table_seconds(table) for _ in range(ROUNDS)]
                print(f"    VACUUM FULL {table:18} median {statistics.median(times):.3f} s, "
                      f"max {max(times):.3f} s")
            db.engine.dispose()


if __name__ == "__main__":
    main()
