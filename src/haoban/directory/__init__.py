"""Departments, districts, the appeal category tree and staff accounts (组织机构与人员)."""
