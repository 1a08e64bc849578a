"""Organization model. The foundation keeps only what accounts need; the registry issue
adds ratings, annual reports, credit lists and incubation bases."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, Enum, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow


class OrgKind(enum.StrEnum):
    SOCIAL_GROUP = "social_group"  # 社会团体
    SERVICE_ORG = "service_org"  # 社会服务机构 (民办非企业单位)
    FOUNDATION = "foundation"  # 基金会
    FILED = "filed"  # 备案的社区社会组织, no credit code

    @property
    def label(self):
        return KIND_LABELS[self]


KIND_LABELS = {
    OrgKind.SOCIAL_GROUP: _l("Social group"),
    OrgKind.SERVICE_ORG: _l("Social service organization"),
    OrgKind.FOUNDATION: _l("Foundation"),
    OrgKind.FILED: _l("Filed community organization"),
}


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    #: 统一社会信用代码 (GB 32100-2015); NULL for filed community organizations.
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    kind: Mapped[OrgKind] = mapped_column(
        Enum(OrgKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    users = relationship("User", back_populates="organization", order_by="User.name")

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name}>"
