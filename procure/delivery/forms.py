"""Milestone report forms: the report (actuals, narrative, spending lines, evidence),
submitting it, and the officer's review."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import FieldList, FormField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from ..forms import FlaskForm, Form
from ..tenders.bidding import BREAKDOWN_CATEGORIES


class ActualForm(Form):
    actual = StringField(_l("Actual"), validators=[Optional(), Length(max=30)])


class SpendingForm(Form):
    category = SelectField(_l("Budget category"), validate_choice=False,
                           choices=[SelectChoice("", "—"),
                                    *(SelectChoice(k, v) for k, v in BREAKDOWN_CATEGORIES.items())])
    amount = StringField(_l("Amount (yuan)"), validators=[Optional(), Length(max=30)])
    detail = StringField(_l("Purpose of the spending"), validators=[Optional(), Length(max=200)])


class ReportForm(FlaskForm):
    revision = HiddenField()
    narrative = TextAreaField(_l("Narrative: what was done in this period"), validators=[Optional(),
                                                                                         Length(max=20000)])
    actuals = FieldList(FormField(ActualForm), min_entries=0, max_entries=100)
    spending = FieldList(FormField(SpendingForm), min_entries=0, max_entries=60)
    evidence_file = FileField(_l("Add an evidence file (photo, sign-in sheet, receipt: PNG, JPEG, PDF, Excel, Word)"))
    evidence_caption = StringField(_l("Caption of the file"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save the draft"))


class SubmitReportForm(FlaskForm):
    revision = HiddenField()
    submit = SubmitField(_l("Submit the report for review"))


class ApproveForm(FlaskForm):
    revision = HiddenField()
    comment = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Approve the report"))


class RevisionForm(FlaskForm):
    revision = HiddenField()
    comment = TextAreaField(_l("What must be revised"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Request a revision"))
