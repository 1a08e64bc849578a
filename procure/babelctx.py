"""Flask-Babel's look-ups made cheap: translation is the most frequent call of a page.

Flask-Babel (4.0) finds the translations of every ``gettext`` call through ``flask.g``
(a werkzeug ``LocalProxy``) about ten times: ``get_domain`` → ``_get_current_context``
(``not g``, ``hasattr(g, …)``, ``g._flask_babel``), then ``get_translations`` → the same
context again, ``get_locale`` → again, and ``str(locale)`` for the cache key. A dashboard
translates ~330 strings (labels, nav items, lazy strings of forms and history), so this
was about a quarter of its CPU time (bench/profile_page.py, docs/benchmarks.md).

:func:`install` replaces two functions of the library, keeping their behaviour:

- ``_get_current_context`` reads the app context from Flask's context variable instead of
  through the ``g`` proxy (same object: ``g._flask_babel`` on the current app context);
- ``Domain.get_translations`` keeps the translations it found on that context together
  with the locale object and domain they are for, and returns them while both are the same
  objects. ``force_locale`` and ``refresh`` set a new locale (or none) on the context, so
  the next call looks them up again: e-mails rendered in the recipient's language inside a
  request still get their language (tests/test_i18n_speed.py).

Installed once per process by ``create_app``; idempotent.
"""

from __future__ import annotations

from types import SimpleNamespace

import flask_babel
from flask.globals import _cv_app

_installed = False


def _current_context():
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return None
    g = app_ctx.g
    try:
        return g._flask_babel
    except AttributeError:
        ns = g._flask_babel = SimpleNamespace()
        return ns


def install() -> None:
    global _installed
    if _installed:
        return
    original = flask_babel.Domain.get_translations

    def get_translations(self):
        ctx = _current_context()
        if ctx is None:
            return original(self)
        locale = getattr(ctx, "babel_locale", None)
        if locale is None:
            locale = flask_babel.get_locale()
        kept = getattr(ctx, "procure_translations", None)
        if kept is not None and kept[0] is locale and kept[1] is self:
            return kept[2]
        translations = original(self)
        ctx.procure_translations = (locale, self, translations)
        return translations

    flask_babel._get_current_context = _current_context
    flask_babel.Domain.get_translations = get_translations
    _installed = True
