"""Departments: city bureaus (市局) and their town branches, and which of them a department type means in a town."""

from gridgov_dispatch.departments.resolve import resolve_department

__all__ = ["resolve_department"]
