"""Holiday calendar forms: one day, a batch of days, marking a year complete or un-marking it."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..forms import FlaskForm
from .models import DayKind


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired(message=_l("Please give a date."))])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, k.label) for k in DayKind],
                       validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class CalendarBatchForm(FlaskForm):
    lines = TextAreaField(
        _l("Days from the notice"), validators=[DataRequired(message=_l("Enter at least one line.")),
                                                Length(max=20000)],
        description=_l("One line per day or range: date, 休 (rest day) or 班 (make-up working day), name. "
                       "E.g. “2027-10-01~2027-10-07 休 国庆节” and “2027-09-26 班 国庆节调休”. "
                       "All lines are saved together or none."),
        render_kw={"rows": 12})
    submit = SubmitField(_l("Enter these days"))


class CompleteYearForm(FlaskForm):
    notice_ref = StringField(_l("Notice (文号 or title)"), validators=[DataRequired(), Length(max=300)],
                             description=_l("E.g. 国办发明电〔2025〕7号《国务院办公厅关于2026年部分节假日安排的通知》"))
    notice_date = DateField(_l("Date issued"), validators=[DataRequired(message=_l("Please give a date."))])
    submit = SubmitField(_l("Mark the year complete"))


class ReopenYearForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)], render_kw={"rows": 2})
    submit = SubmitField(_l("Un-mark to change its days"))
