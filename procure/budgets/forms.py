"""Finance forms. Amounts are text fields: the services parse them (Decimal, fen) and
attach a clear message to the field, keeping what was typed."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import FlaskForm


class AppropriationForm(FlaskForm):
    source_id = SelectField(_l("Funding source"), validators=[DataRequired()])
    fiscal_year = StringField(_l("Fiscal year"), validators=[DataRequired(), Length(max=4)])
    department_id = SelectField(_l("Department"), validators=[DataRequired()])
    amount = StringField(_l("Amount (yuan)"), validators=[DataRequired(), Length(max=20)])
    reference = StringField(_l("Budget document number"), validators=[Optional(), Length(max=100)])
    submit = SubmitField(_l("Record appropriation"))


class AdjustmentForm(FlaskForm):
    delta = StringField(_l("Change (yuan, negative to decrease)"), validators=[DataRequired(), Length(max=21)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Record adjustment"))
