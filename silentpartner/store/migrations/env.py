"""Alembic environment: always handed a live connection by `silentpartner.store.migrate`."""

from alembic import context

from silentpartner.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `silentpartner db upgrade`, which passes the connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
