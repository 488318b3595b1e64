"""“一件事” applications: bundles run by the engine (``haoban.bundles``), stored, scoped and swept.

- ``models``: definitions (versioned uploads), applications, department tasks, case file, materials,
  deliveries;
- ``workflow``: the task and application state tables; ``gate``: the only place a status changes;
- ``events``: the hash-chained case file; ``access``: who sees and acts on what;
- ``registry``: bundle definitions (upload, versions, the parsed cache); ``items``: item → department;
- ``materials``: uploads (size, sha256, type by content); ``service``: submit, act, resubmit, withdraw;
- ``sweep``: timers, overdue tasks and bundles (督办), 容缺 promises.
"""
