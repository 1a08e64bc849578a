"""The project's form base classes: every form of every module derives from
:class:`FlaskForm` (or :class:`Form` for a sub-form inside a ``FormField``), so hostile
input is refused in one place, with a message on the field in the user's language:

- a control character (a NUL byte above all: PostgreSQL refuses it with an error) in any
  field typed as text, or in the name of an uploaded file; a text area may hold tab and
  line breaks;
- a number field whose value is beyond any column (a 400-digit year: WTForms' range
  check would overflow converting it to float), or not finite.

The check is put first in each field's validators by ``Meta.bind_field``, so the
field's own validators (``Length``, ``Email``, ``NumberRange`` …) never see such input.
A test walks every form class of the project and checks it derives from these.
"""

from __future__ import annotations

import math
from decimal import Decimal

import flask_wtf
import wtforms
from flask import abort, has_request_context, request
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import fields as wtf_fields
from wtforms.validators import StopValidation

from .parsing import (
    CONTROL_CHARS_MESSAGE,
    MAX_BIGINT,
    NOT_A_NUMBER_MESSAGE,
    NUMBER_TOO_LARGE_MESSAGE,
    has_control_chars,
)

#: Number fields whose value is bounded by the column it goes to.
NUMBER_FIELDS = (wtf_fields.IntegerField, wtf_fields.DecimalField, wtf_fields.FloatField)
#: Largest magnitude of a decimal number field (more than any amount column holds).
MAX_DECIMAL = Decimal(10) ** 18


def _check_text(form, field) -> None:
    multiline = isinstance(field, wtf_fields.TextAreaField)
    for value in field.raw_data or ():
        if isinstance(value, str) and has_control_chars(value, multiline=multiline):
            field.errors[:] = []  # the field's own parse error says less than this
            raise StopValidation(str(CONTROL_CHARS_MESSAGE))


def _check_number(form, field) -> None:
    _check_text(form, field)
    data = field.data
    if isinstance(data, bool) or data is None:
        return
    if isinstance(data, int):
        too_large = abs(data) > MAX_BIGINT
    elif isinstance(data, Decimal):
        if not data.is_finite():
            raise StopValidation(str(NOT_A_NUMBER_MESSAGE))
        too_large = abs(data) > MAX_DECIMAL
    elif isinstance(data, float):
        if not math.isfinite(data):
            raise StopValidation(str(NOT_A_NUMBER_MESSAGE))
        too_large = abs(data) > float(MAX_DECIMAL)
    else:
        return
    if too_large:
        raise StopValidation(str(NUMBER_TOO_LARGE_MESSAGE))


def _check_file_name(form, field) -> None:
    for value in field.raw_data or ():
        name = getattr(value, "filename", None)
        if isinstance(name, str) and has_control_chars(name):
            field.errors[:] = []
            raise StopValidation(str(CONTROL_CHARS_MESSAGE))


def input_guard(field):
    """The validator that goes first on ``field``, or None for fields that carry no
    typed text (files, sub-forms, lists of fields)."""
    if isinstance(field, NUMBER_FIELDS):
        return _check_number
    if isinstance(field, wtf_fields.FileField):
        return _check_file_name  # the name the browser sends with the file
    if isinstance(field, wtf_fields.FormField | wtf_fields.FieldList):
        return None
    return _check_text


def _as_text(formdata):
    """A JSON body as a form would send it: every value text. (Flask-WTF passes a JSON
    object on as form data; a number, list or object where a field expects text would
    reach the validators, or ``int()``, as something else — a 500.)"""
    if not isinstance(formdata, ImmutableMultiDict) or not has_request_context() or not request.is_json \
            or request.form or request.files:
        return formdata
    pairs = []
    for key, value in formdata.items(multi=True):  # a list is a field's several values
        if isinstance(value, dict | list):
            abort(400)  # no form sends a nested object
        if value is not None:
            pairs.append((str(key), value if isinstance(value, str) else str(value)))
    return ImmutableMultiDict(pairs)


class GuardedMeta:
    """Meta mix-in: put :func:`input_guard` first in each bound field's validators, and
    read a JSON body as text."""

    def wrap_formdata(self, form, formdata):
        try:
            wrapped = super().wrap_formdata(form, formdata)
        except (TypeError, ValueError):  # a JSON body that is a list or a string, not an object
            abort(400)
        return _as_text(wrapped)

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        guard = input_guard(field)
        if guard is not None:
            field.validators = [guard, *field.validators]
        return field


class FlaskForm(flask_wtf.FlaskForm):
    """Base of every form of the project (CSRF from Flask-WTF, input guard from here)."""

    class Meta(GuardedMeta):
        pass


class Form(wtforms.Form):
    """Base of sub-forms (the rows of a ``FieldList(FormField(…))``). Their built-in
    messages ("Field cannot be longer than …") are translated as a FlaskForm's are
    (``wtforms.Form`` alone would leave them in English)."""

    class Meta(GuardedMeta):
        def get_translations(self, form):
            from flask import current_app
            from flask_wtf.i18n import translations

            if not has_request_context() or not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return translations
