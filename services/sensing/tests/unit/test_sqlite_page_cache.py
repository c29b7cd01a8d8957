"""sensing's embedded database gets the page cache its grouping batches were measured with."""

from gridgov_common.settings import CommonSettings
from gridgov_sensing.app import build_runtime
from gridgov_sensing.settings import SensingSettings
from gridgov_sensing.tables import SQLITE_CACHE_KIB


def test_sensing_opens_its_sqlite_database_with_its_page_cache(tmp_path):
    common = CommonSettings(data_dir=tmp_path, jwt_secret="x" * 32, log_json=False)
    settings = SensingSettings(common=common, database_url=f"sqlite:///{tmp_path / 'sensing.db'}", run_relay=False,
                               run_consumers=False)
    runtime = build_runtime(settings)
    assert SQLITE_CACHE_KIB > 2_000  # larger than SQLite's default, or there is nothing to set
    with runtime.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -SQLITE_CACHE_KIB
    runtime.db.engine.dispose()
