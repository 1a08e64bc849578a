"""Imports every model so that metadata (and migrations) see all tables."""

from .audit import AuditEvent  # noqa: F401
from .modules import submodules
from .permissions import Grant  # noqa: F401
from .signing import SigningCredential  # noqa: F401

MODEL_MODULES = submodules("models")
