"""The server's store: SQLAlchemy Core tables, engine set-up and Alembic migrations."""
