"""Hotline intelligence: near-duplicate orders (并单, `neardup`) and hotspot ranking (热点, `clustering`).

Pure algorithms over plain dataclasses; import the submodules directly (no re-exports, so importing
the package stays cheap).
"""
