"""The session cookie, cheaper per request.

Flask signs, compresses and sends the whole session cookie again on every response of a
permanent session, so that its expiry slides (SESSION_REFRESH_EACH_REQUEST). Here an
unchanged session is sent again only when the cookie is older than
``SESSION_REFRESH_AFTER`` (a minute by default): the expiry still slides with use, to
within that minute, and the pages in between send no cookie. A changed session is sent at
once, as before. The signing serializer is built once per secret key, not twice a request.
"""

from __future__ import annotations

import time
from datetime import timedelta

from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

#: Default of SESSION_REFRESH_AFTER.
REFRESH_AFTER = timedelta(minutes=1)


class Session(SecureCookieSession):
    #: When the cookie this session came from was signed (epoch seconds; None: new).
    signed_at: float | None = None


class SessionInterface(SecureCookieSessionInterface):
    session_class = Session

    def __init__(self) -> None:
        self._serializers: dict = {}

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        s = self._serializers.get(key)
        if s is None:
            s = self._serializers[key] = super().get_signing_serializer(app)
        return s

    def open_session(self, app, request):
        s = self.get_signing_serializer(app)
        if s is None:
            return None
        val = request.cookies.get(self.get_cookie_name(app))
        if not val:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = s.loads(val, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at.timestamp()
        return session

    def should_set_cookie(self, app, session) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        after = app.config.get("SESSION_REFRESH_AFTER", REFRESH_AFTER)
        return signed_at is None or time.time() - signed_at >= after.total_seconds()
