"""Dispatch (派单): the appeal text classifier, the district gazetteer, training and evaluation.

Pure: no database, web framework or other haoban package is imported here. Modules: `text`
(normalisation), `classifier` (the model and its artifact), `training`, `evaluation`, `gazetteer`,
`cli` (`haoban dispatch ...`).
"""
