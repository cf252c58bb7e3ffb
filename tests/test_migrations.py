"""Every service's migrations go up and down on MariaDB, and up on SQLite, each with its own version table."""

import pytest
from sqlalchemy import create_engine, inspect

from pillpal_shared.migrate import available_services, downgrade, scratch_database, upgrade, version_table


@pytest.fixture
def empty_mariadb(mysql_server_url):
    with scratch_database(mysql_server_url, "pillpal_mig", migrate=False) as url:
        yield url


def tables(url):
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("service", available_services())
def test_up_and_down_on_mariadb(empty_mariadb, service):
    upgrade(service, empty_mariadb)
    created = tables(empty_mariadb)
    assert version_table(service) in created
    assert len(created) > 1
    downgrade(service, empty_mariadb)
    assert tables(empty_mariadb) == {version_table(service)}
    upgrade(service, empty_mariadb)  # and up again
    assert tables(empty_mariadb) == created


def test_all_services_share_one_schema_without_clashing(empty_mariadb):
    for service in available_services():
        upgrade(service, empty_mariadb)
    created = tables(empty_mariadb)
    for service in available_services():
        assert version_table(service) in created


@pytest.mark.parametrize("service", available_services())
def test_up_on_sqlite(tmp_path, service):
    url = f"sqlite:///{tmp_path / 'pillpal.db'}"
    upgrade(service, url)
    assert version_table(service) in tables(url)


def test_migrate_command_creates_the_sqlite_folder(tmp_path, monkeypatch):
    from pillpal_shared.migrate import main

    var = tmp_path / "fresh" / "var"
    monkeypatch.setenv("PILLPAL_VAR_DIR", str(var))
    for name in ("DATABASE_URL", "DB_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0
    assert {p.name for p in var.glob("*.db")} == {f"{s.replace('-', '_')}.db" for s in available_services()}
