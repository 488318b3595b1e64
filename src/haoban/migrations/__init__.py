"""Alembic migration scripts (``versions/``) and their environment; run them with ``haoban.db.upgrade``."""
