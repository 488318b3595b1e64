"""haoban 好办: an open-source platform for a city's government services."""

__version__ = "0.1.0"
