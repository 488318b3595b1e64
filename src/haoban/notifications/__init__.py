"""Outbox (发件箱): side effects after commit. Services write messages in their own transaction; the
worker drains them through a pluggable sender (SMS / e-mail gateways; the default records to a table)."""
