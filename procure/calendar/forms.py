"""Holiday calendar form."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import FlaskForm
from .models import DayKind


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired(message=_l("Please give a date."))])
    kind = SelectField(_l("Kind"), choices=[(k.value, k.label) for k in DayKind],
                       validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))
