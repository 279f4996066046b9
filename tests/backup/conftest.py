"""Backups on real Postgres clusters and the real stack (tools/conduit_dev)."""
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from conduit_common.testing.postgres import free_port  # noqa: E402
from conduit_dev.config import DEFAULT_PORTS, StackConfig  # noqa: E402


@pytest.fixture
def run_dir():
    """A run directory of our own (not pytest's tmp_path: nginx workers and the
    postgres user must reach it when we are root)."""
    path = Path(tempfile.mkdtemp(prefix="conduit-backup-"))
    path.chmod(0o755)
    yield path
    pg = path / "pg"
    if pg.is_symlink():  # data moved where the postgres user can reach it
        shutil.rmtree(pg.resolve(), ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def config(run_dir):
    """make run's settings on free ports, its private cluster kept in run_dir/pg."""
    return StackConfig(run_dir=run_dir, ports={name: free_port() for name in DEFAULT_PORTS},
                       pg_port=free_port(), persistent_pg=True, web_concurrency=1,
                       login_rate="600r/m", login_burst=100)
