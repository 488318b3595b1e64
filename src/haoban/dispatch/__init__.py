"""Dispatch (派单): routing work orders to departments.

The machine-learning part is pure (no database, web framework or other haoban package):
`text` (normalisation), `classifier` (the model and its artifact), `training`, `evaluation`,
`gazetteer` (district names) and `cli` (`haoban dispatch train / evaluate / explain`).
"""
