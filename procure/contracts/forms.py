"""Contract forms: the draft with its payment schedule, signing, the public verification."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..forms import FlaskForm, Form
from .models import Release


class InstallmentForm(Form):
    share = StringField(_l("Share (%)"), validators=[Optional(), Length(max=10)])
    releases_on = SelectField(_l("Released when"), validate_choice=False,
                              choices=[SelectChoice(r.value, r.label) for r in Release])
    title = StringField(_l("Milestone"), validators=[Optional(), Length(max=200)])
    due_on = DateField(_l("Due on"), validators=[Optional()])
    deliverables = TextAreaField(_l("Deliverables"), validators=[Optional(), Length(max=2000)])


class DraftForm(FlaskForm):
    service_content = TextAreaField(_l("Service content"), validators=[DataRequired(), Length(max=20000)])
    period_start = DateField(_l("Service period starts"), validators=[DataRequired()])
    period_end = DateField(_l("Service period ends"), validators=[DataRequired()])
    is_continuous = BooleanField(_l("Continuous, stably funded service (longer term allowed)"))
    installments = FieldList(FormField(InstallmentForm), min_entries=4, max_entries=12)
    submit = SubmitField(_l("Draft the contract and render its PDF"))


class SignForm(FlaskForm):
    #: The version number the page showed (compare-and-set: a newer one is refused).
    version = HiddenField(validators=[Optional(), Length(max=10)])
    password = PasswordField(_l("Your password (to confirm your signature)"), validators=[DataRequired(),
                                                                                        Length(max=200)])
    submit = SubmitField(_l("Sign the contract"))


class VerifyForm(FlaskForm):
    sha256 = StringField(_l("SHA-256 (from the footer, or of the file)"), validators=[Optional(), Length(max=100)])
    pdf = FileField(_l("Or upload the PDF"))
    submit = SubmitField(_l("Verify"))


class AmendForm(DraftForm):
    reason = TextAreaField(_l("Reason for the amendment"), validators=[DataRequired(), Length(max=2000)])
    amount = StringField(_l("New contract amount (yuan)"), validators=[DataRequired(), Length(max=20)])
    submit = SubmitField(_l("Amend: render the new version for signatures"))


class TerminateForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    settlement = StringField(_l("Settlement (yuan)"), validators=[DataRequired(), Length(max=20)])
    submit = SubmitField(_l("Terminate the contract"))
