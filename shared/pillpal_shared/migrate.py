"""Schema migrations: each service owns its slice and its own Alembic version table.

`pillpal-migrate` (or `make migrate`) brings every service's slice to head, on MySQL/MariaDB or SQLite.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from .config import ConfigError, Env, database_url

SERVICES = ("auth", "meds", "device-gateway", "adherence")


def migrations_root() -> Path:
    configured = os.environ.get("PILLPAL_MIGRATIONS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "db" / "migrations"


def version_table(service: str) -> str:
    return f"alembic_version_{service.replace('-', '_')}"


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_root() / service))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(service, url), revision)


@contextmanager
def scratch_database(server_url: str, prefix: str, *, migrate: bool = True) -> Iterator[str]:
    """A throwaway database on a MySQL/MariaDB server (tests, benchmarks): created with a unique name,
    migrated to head for every service unless `migrate` is false, dropped afterwards; yields its URL."""
    import pymysql

    server = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    connection = pymysql.connect(
        host=server.host, port=server.port or 3306, user=server.username, password=server.password or ""
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        url = server.set(database=name, query={"charset": "utf8mb4"}).render_as_string(hide_password=False)
        if migrate:
            for service in available_services():
                upgrade(service, url)
        yield url
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        connection.close()


def downgrade(service: str, url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(service, url), revision)


def available_services() -> list[str]:
    return [s for s in SERVICES if (migrations_root() / s / "env.py").exists()]


def run_env(service: str) -> None:
    """The body of every service's Alembic env.py."""
    from alembic import context
    from sqlalchemy import create_engine, pool

    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            version_table=version_table(service),
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bring each service's schema slice to head.")
    parser.add_argument("services", nargs="*", help="services to migrate (default: all)")
    args = parser.parse_args(argv)
    env = Env()
    try:
        for service in args.services or available_services():
            url = database_url(env, service)
            upgrade(service, url)
            sys.stderr.write(f"migrated {service}\n")
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    return 0


def create_bus_tables(prefix: str) -> None:
    """In a migration: the service's outbox and processed-event tables (version 1 of their shape)."""
    from alembic import op
    from sqlalchemy import MetaData

    from .outbox import outbox_table, processed_events_table

    metadata = MetaData()
    outbox_table(metadata, prefix)
    processed_events_table(metadata, prefix)
    metadata.create_all(op.get_bind())


def drop_bus_tables(prefix: str) -> None:
    from alembic import op

    op.drop_table(f"{prefix}_processed_events")
    op.drop_table(f"{prefix}_outbox")


def sqlite_autoincrement(table: str, enabled: bool = True) -> None:
    """In a migration: on SQLite, rebuilds `table` with AUTOINCREMENT (or without it, to downgrade), so the
    id of a deleted row is never given to a new one (plain SQLite hands out max(id) + 1). The other
    services keep tombstones of deleted ids; a reused id would inherit them. Elsewhere nothing:
    MySQL/MariaDB never reuse ids. Foreign keys are not enforced on the migration's connection, so the
    rows that refer to the table keep their ids."""
    from alembic import op

    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": enabled}):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
