"""Imports every model so that metadata (and migrations) see all tables."""

from .audit import AuditEvent  # noqa: F401
from .auth.models import Department, PasswordResetToken, User  # noqa: F401
from .notifications.models import Notification  # noqa: F401
from .organizations.models import Organization  # noqa: F401
