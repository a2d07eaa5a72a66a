"""Connection: where the database is, opening it, and checking it is one we can read.

Resolution order for the URL: ``REGISTRY_DB_URL``, then ``[connections.registry]
url`` in ``.streamlit/secrets.toml``, then the embedded SQLite file
``data/registry.db`` (created with the demo county on first start by the app).
Every failure is raised as a :class:`RegistryError` whose message is Chinese and
meant to be shown to the user as it is.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from . import schema

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "registry.db"
DEFAULT_URL = f"sqlite:///{DEFAULT_SQLITE_PATH}"
SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"


class RegistryError(RuntimeError):
    """A problem with the database, explained in Chinese for the page."""

    title = "数据库错误"

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail


class BadUrl(RegistryError):
    title = "数据库地址无效"


class Unreachable(RegistryError):
    title = "无法连接数据库"


class EmptyDatabase(RegistryError):
    title = "数据库为空"


class SchemaMismatch(RegistryError):
    title = "数据库结构版本不符"


def read_secrets(path: Path = SECRETS_PATH) -> dict:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise BadUrl(f"配置文件 {path.name} 无法读取:{exc}") from exc


def resolve_url() -> str:
    url = os.environ.get("REGISTRY_DB_URL", "").strip()
    if url:
        return url
    url = read_secrets().get("connections", {}).get("registry", {}).get("url", "")
    return url.strip() or DEFAULT_URL


def is_default_sqlite(url: str) -> bool:
    return url == DEFAULT_URL


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


@lru_cache(maxsize=16)
def get_engine(url: str) -> Engine:
    """One pooled engine per URL for the whole process."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise BadUrl(f"数据库地址格式不正确:{_redact(url)}", str(exc)) from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            if is_default_sqlite(url):
                DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            engine = create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise BadUrl(f"不支持的数据库类型:{parsed.drivername}(支持 sqlite 与 postgresql)", str(exc)) from exc
    return engine


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url[:80]


_columns_ready: set[str] = set()


def ensure_added_columns(engine: Engine) -> list[str]:
    """Add ``schema.ADDED_COLUMNS`` missing from an older database (once per engine; safe when racing).
    Returns the columns added ("table.column")."""
    key = engine.url.render_as_string(hide_password=False)
    added: list[str] = []
    if key in _columns_ready:
        return added
    for table, name in schema.ADDED_COLUMNS:
        with engine.begin() as conn:
            if table.name not in inspect(conn).get_table_names():
                continue
            if name in {c["name"] for c in inspect(conn).get_columns(table.name)}:
                continue
            column = table.c[name]
            ddl = f"ALTER TABLE {table.name} ADD COLUMN {name} {column.type.compile(dialect=engine.dialect)}"
            try:
                with conn.begin_nested():
                    conn.execute(text(ddl))
                added.append(f"{table.name}.{name}")
            except SQLAlchemyError:  # another process added it in between
                if name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                    raise
    _columns_ready.add(key)
    return added


def create_schema(engine: Engine) -> None:
    """Create every table and record the schema version (idempotent)."""
    schema.metadata.create_all(engine)
    ensure_added_columns(engine)
    with engine.begin() as conn:
        existing = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")).scalar()
        if existing is None:
            conn.execute(schema.meta.insert().values(key="schema_version", value=str(schema.SCHEMA_VERSION)))


def upgrade_schema(engine: Engine) -> list[str]:
    """Bring an older database of this schema version up to date at start-up: the later columns
    (``ensure_added_columns``, blank) and village_population (empty). Returns what was added."""
    added = ensure_added_columns(engine)
    tables = set(inspect(engine).get_table_names())
    if schema.village_population.name not in tables and "meta" in tables:
        schema.village_population.create(engine, checkfirst=True)
        added.append(schema.village_population.name)
    return added


def check_database(engine: Engine) -> dict[str, str]:
    """Verify the database is reachable, filled and of our schema version.

    Returns the ``meta`` table as a dict. Raises a RegistryError otherwise.
    """
    where = _redact(str(engine.url.render_as_string(hide_password=False)))
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database and database != ":memory:" \
            and not Path(database).exists():
        raise Unreachable(f"无法连接数据库 {where}:数据库文件不存在。请检查 REGISTRY_DB_URL 或 secrets.toml 中的地址。")
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            if "meta" not in tables:
                if not tables:
                    raise EmptyDatabase(f"数据库 {where} 中没有任何数据表。请先生成演示数据或导入数据。")
                raise SchemaMismatch(f"数据库 {where} 不是扶贫数据驾驶舱的数据库(缺少 meta 表)。")
            meta = dict(conn.execute(select(schema.meta.c.key, schema.meta.c.value)).all())
            version = meta.get("schema_version")
            if version != str(schema.SCHEMA_VERSION):
                raise SchemaMismatch(
                    f"数据库结构版本为 {version or '未知'},本程序需要版本 {schema.SCHEMA_VERSION}。"
                    "请使用对应版本的程序,或重新生成/迁移数据库。"
                )
            if conn.execute(text("SELECT 1 FROM region LIMIT 1")).first() is None:
                raise EmptyDatabase(f"数据库 {where} 中还没有区划数据。请先生成演示数据或导入数据。")
        upgrade_schema(engine)
        return meta
    except RegistryError:
        raise
    except OperationalError as exc:
        raise Unreachable(f"无法连接数据库 {where}。请检查地址、网络与权限。", str(exc.orig)[:300]) from exc
    except SQLAlchemyError as exc:
        raise RegistryError(f"读取数据库 {where} 时出错。", str(exc)[:300]) from exc


def read_meta(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(schema.meta.c.key, schema.meta.c.value)).all())


def set_meta(conn, **values: str) -> None:
    """Upsert meta keys inside the caller's transaction."""
    for key, value in values.items():
        updated = conn.execute(
            schema.meta.update().where(schema.meta.c.key == key).values(value=str(value))
        ).rowcount
        if not updated:
            conn.execute(schema.meta.insert().values(key=key, value=str(value)))


def bump_data_version(conn) -> None:
    """Mark the data as changed so cached figures are recomputed."""
    import time

    set_meta(conn, data_version=str(time.time_ns()))
