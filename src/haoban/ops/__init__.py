"""Operations: health and readiness, Prometheus metrics at ``/metrics``, structured JSON logs with
request ids, the identity of the process that answered. Wiring only: no business rules here."""
