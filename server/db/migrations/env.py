"""Alembic environment: runs against the engine handed in by ``peacewatch.server.db.migrate``.

On SQLite, batch migrations rebuild a table (copy, drop, rename) to change its columns; with
foreign keys enforced, dropping ``users`` while ``versions`` rows point at it fails. So foreign
keys are switched off for the run (SQLite ignores the pragma inside a transaction, hence before
BEGIN), checked whole with ``PRAGMA foreign_key_check`` before the commit, and switched back on.
"""

from __future__ import annotations

from alembic import context

from peacewatch.server.db.tables import metadata

engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"
with engine.connect() as connection:
    raw = connection.connection.driver_connection  # no autobegin: the pragma must precede BEGIN
    if sqlite:
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=metadata, render_as_batch=sqlite,
                              compare_type=True)
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")
    finally:
        if sqlite:
            raw.execute("PRAGMA foreign_keys=ON")
