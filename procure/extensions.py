"""Flask extensions, created unbound; ``create_app`` binds them."""

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Enum, MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that migrations (and SQLite batch mode) can address them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class _SQLAlchemy(SQLAlchemy):
    def paginate(self, select, *, page=None, per_page=None, max_per_page=None, error_out=True, count=True):
        """Flask-SQLAlchemy's paginate, with ``?page=`` and ``?per_page=`` read through
        procure.parsing (bounded), so a 400-digit page number is no database error."""
        from flask import has_request_context

        from .parsing import MAX_PER_PAGE, page_arg, per_page_arg

        if has_request_context():
            page = page_arg() if page is None else page
            per_page = per_page_arg(20, max_per_page or MAX_PER_PAGE) if per_page is None else per_page
        return super().paginate(select, page=page, per_page=per_page, max_per_page=max_per_page,
                                error_out=error_out, count=count)


db = _SQLAlchemy(model_class=Base)


def str_enum(cls, length: int = 20) -> Enum:
    """A StrEnum stored by its values in a VARCHAR (portable to SQLite, no native type)."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
login_manager = LoginManager()
mail = Mail()
babel = Babel()
bootstrap = Bootstrap5()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
