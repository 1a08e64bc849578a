"""Registry forms. Validation of rules (credit code, uniqueness) is in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from ..forms import FlaskForm
from .models import KIND_LABELS, CreditList, RegStatus


def _kind_choices():
    return [(k.value, label) for k, label in KIND_LABELS.items()]


class RegistrationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Type"), choices=_kind_choices, validators=[DataRequired()])
    credit_code = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=40)],
                              description=_l("18 characters; filed community organizations have none."))
    registration_date = DateField(_l("Registration date"), validators=[Optional()])
    registration_authority = StringField(_l("Registration authority"), validators=[Optional(), Length(max=120)])
    supervisor = StringField(_l("Business supervisor"), validators=[Optional(), Length(max=120)])
    legal_representative = StringField(_l("Legal representative"), validators=[Optional(), Length(max=60)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    status = SelectField(_l("Registration status"),
                         choices=lambda: [(s.value, s.label) for s in RegStatus], default=RegStatus.NORMAL.value)
    submit = SubmitField(_l("Save"))

    def data_dict(self) -> dict:
        return {k: getattr(self, k).data for k in (
            "name", "kind", "credit_code", "registration_date", "registration_authority", "supervisor",
            "legal_representative", "address", "status")}


class ProfileForm(FlaskForm):
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=60)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    contact_email = EmailField(_l("Contact email"), validators=[Optional(), Email(check_deliverability=False),
                                                                 Length(max=254)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("About the organization"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Save"))

    def data_dict(self) -> dict:
        return {k: getattr(self, k).data for k in
                ("contact_name", "contact_phone", "contact_email", "website", "description")}


class RatingForm(FlaskForm):
    level = SelectField(_l("Rating"), choices=[(str(i), f"{i}A") for i in range(1, 6)], validators=[DataRequired()])
    rated_on = DateField(_l("Rated on"), validators=[InputRequired()])
    submit = SubmitField(_l("Record rating"))


class AnnualReportForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=1990, max=2100)])
    filed_on = DateField(_l("Filed on"), validators=[Optional()],
                         description=_l("Leave empty to record the report as not filed."))
    submit = SubmitField(_l("Record annual report"))


class CreditEntryForm(FlaskForm):
    list = SelectField(_l("List"), choices=lambda: [(c.value, c.label) for c in CreditList])
    listed_on = DateField(_l("Listed on"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Add to list"))


class EntryDecisionForm(FlaskForm):
    removed_on = DateField(_l("Removed on"), validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class ImportForm(FlaskForm):
    file = FileField(_l("Registry file (.csv or .xlsx)"), validators=[FileRequired()])
    only_good = BooleanField(_l("Import only the good rows (skip the bad ones)"))
    submit = SubmitField(_l("Import"))


class BaseForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    operator = StringField(_l("Run by (credit code or exact name of the organization)"),
                           validators=[DataRequired(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    area_sqm = IntegerField(_l("Area (m²)"), validators=[Optional(), NumberRange(min=1, max=10_000_000)])
    facilities = TextAreaField(_l("Facilities"), validators=[Optional(), Length(max=5000)])
    opened_on = DateField(_l("Opened on"), validators=[Optional()])
    submit = SubmitField(_l("Save"))

    def data_dict(self) -> dict:
        return {k: getattr(self, k).data for k in ("name", "operator", "address", "area_sqm", "facilities",
                                                   "opened_on")}


class ResidentForm(FlaskForm):
    credit_code = StringField(_l("Credit code or exact name of the organization"),
                              validators=[DataRequired(), Length(max=200)])
    moved_in_on = DateField(_l("Moved in on"), validators=[InputRequired()])
    submit = SubmitField(_l("Add resident"))


class GraduateForm(FlaskForm):
    graduated_on = DateField(_l("Graduated on"), validators=[InputRequired()])
