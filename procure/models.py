"""Imports every model so that metadata (and migrations) see all tables."""

from .audit import AuditEvent  # noqa: F401
from .modules import submodules

MODEL_MODULES = submodules("models")
