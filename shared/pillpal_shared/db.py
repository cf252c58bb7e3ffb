"""SQLAlchemy 2 engine and sessions: one pooled engine per process, MySQL/MariaDB or SQLite."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (DATETIME(6) on MySQL), returned as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):  # type: ignore[no-untyped-def]
        if dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Database:
    """The engine and session factory of one service. Built once, by the service's factory."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False, read_ping_idle: float = 10.0) -> None:
        self._url, self._pool_size, self._echo, self._read_ping_idle = url, pool_size, echo, read_ping_idle
        self._reader: Engine | None = None
        self._reader_lock = threading.Lock()
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(
                url,
                echo=echo,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                pool_recycle=1800,
                isolation_level="READ COMMITTED",
            )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any exception."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A Core connection for hot read paths: about half the cost of an ORM Session per request.

        On MySQL/MariaDB it comes from `reader`, whose connections autocommit: under READ COMMITTED
        each statement sees the latest commits either way, and there is no ROLLBACK round trip on
        release. Only for reads: a write made here is committed at once."""
        with self.reader.connect() as connection:
            yield connection

    @property
    def reader(self) -> Engine:
        """The engine behind `read()`: a second, autocommit pool (the main engine on SQLite). Its
        connections are pinged only after sitting idle `read_ping_idle` seconds, not on every checkout."""
        if self.engine.dialect.name == "sqlite":
            return self.engine
        with self._reader_lock:
            if self._reader is None:
                self._reader = create_engine(
                    self._url,
                    echo=self._echo,
                    pool_size=self._pool_size,
                    max_overflow=self._pool_size,
                    pool_recycle=1800,
                    isolation_level="AUTOCOMMIT",
                    skip_autocommit_rollback=True,
                )
                _ping_when_idle(self._reader, self._read_ping_idle)
            return self._reader

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except (OperationalError, DBAPIError):
            return False

    def dispose(self) -> None:
        self.engine.dispose()
        if self._reader is not None:
            self._reader.dispose()


def _ping_when_idle(engine: Engine, idle: float) -> None:
    """Pessimistic disconnect handling without a ping per checkout: a connection that sat idle longer
    than `idle` seconds is pinged, and replaced by the pool if the server dropped it."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        if time.monotonic() - record.info.get("idle_since", time.monotonic()) <= idle:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("pooled connection was dropped by the server") from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def is_outage(exc: BaseException) -> bool:
    """True when a database error means the database is unreachable, not that the data is wrong."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
