"""“一件事” bundles: BPMN 2.0 definitions run by SpiffWorkflow (高效办成一件事).

Pure layer (no database, no web), bottom to top:

- ``graph``: structural checks on a sequence-flow graph (reachability, joins, what certainly ran);
- ``expressions``: the vetted expression subset used by conditions and timers;
- ``forms``: the shared applicant form (JSON Schema) with field-named errors in zh and en;
- ``spiff``: SpiffWorkflow adapted (clock-driven timers, safe expressions, spec-less state);
- ``definitions``: load and validate a bundle's four files; the shipped bundles live in
  ``definitions/<code>/`` and the catalogue items they reference in ``definitions/ITEMS.yaml``;
- ``engine``: start, ready tasks, approve/reject, 补正, timers, withdraw, dumps/loads.
"""
