"""Federation between instances (跨省通办 and 12345 transfers between cities), in the spirit of X-Road:
each instance has a region code and an Ed25519 key pair; partners and agreements are registered by an
admin; messages are canonical JSON, signed, timestamped and carry a nonce; delivery goes through an
outbox with retries (at-least-once) and the receiver is idempotent by message id (exactly-once in
effect), in order per case."""
