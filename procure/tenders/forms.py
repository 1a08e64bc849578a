"""Tender and bid forms (times are typed in Beijing time)."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    FileField,
    FormField,
    HiddenField,
    MultipleFileField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..forms import FlaskForm, Form
from ..projects.models import METHOD_LABELS
from .bidding import BREAKDOWN_CATEGORIES

FMT = "%Y-%m-%dT%H:%M"


class CriterionForm(Form):
    name = StringField(_l("Criterion"), validators=[Optional(), Length(max=200)])
    weight = StringField(_l("Weight"), validators=[Optional(), Length(max=10)])
    max_score = StringField(_l("Maximum score"), validators=[Optional(), Length(max=10)])


class TenderForm(FlaskForm):
    project_id = SelectField(_l("Project"), validate_choice=False)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("The call's text"), validators=[Optional(), Length(max=20000)])
    method = SelectField(_l("Procurement method"), validate_choice=False,
                         choices=[SelectChoice(m.value, label) for m, label in METHOD_LABELS.items()])
    single_source_organization_id = StringField(_l("Single source organization (its number in the registry)"),
                                                validators=[Optional(), Length(max=12)])
    published_at = DateTimeLocalField(_l("Publication (Beijing time)"), format=FMT, validators=[DataRequired()])
    deadline_at = DateTimeLocalField(_l("Bid deadline (Beijing time)"), format=FMT, validators=[DataRequired()])
    opening_at = DateTimeLocalField(_l("Opening of bids (Beijing time)"), format=FMT, validators=[DataRequired()])
    min_rating = SelectField(_l("Minimum rating"), validate_choice=False,
                             choices=[SelectChoice("", "—")] + [SelectChoice(str(n), f"{n}A") for n in range(1, 6)])
    min_years_registered = StringField(_l("Minimum years registered (empty: the policy value)"),
                                       validators=[Optional(), Length(max=3)])
    require_annual_report = BooleanField(_l("Annual report filed"), default=True)
    require_good_credit = BooleanField(_l("On no credit list"), default=True)
    bar_failed_grade = BooleanField(_l("No failed performance grade last year"), default=True)
    admit_filed = BooleanField(_l("Filed community organizations admitted"))
    price_weight = StringField(_l("Price weight (%)"), validators=[DataRequired(), Length(max=10)], default="10")
    criteria = FieldList(FormField(CriterionForm), min_entries=4, max_entries=20)
    submit = SubmitField(_l("Save"))


class DocumentForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    file = FileField(_l("File (PDF, Word or Excel)"))
    submit = SubmitField(_l("Add the document"))


class ClarifyForm(FlaskForm):
    text = TextAreaField(_l("Clarification"), validators=[DataRequired(), Length(max=20000)])
    affects_bids = BooleanField(_l("May affect how bids are written"))
    new_deadline_at = DateTimeLocalField(_l("New bid deadline (Beijing time, optional)"), format=FMT,
                                         validators=[Optional()])
    files = MultipleFileField(_l("Documents (PDF, Word or Excel; optional)"))
    submit = SubmitField(_l("Publish the clarification"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Cancel the call"))


class LineForm(Form):
    category = SelectField(_l("Category"), validate_choice=False,
                           choices=[SelectChoice("", "—")]
                           + [SelectChoice(k, v) for k, v in BREAKDOWN_CATEGORIES.items()])
    amount = StringField(_l("Amount (yuan)"), validators=[Optional(), Length(max=20)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


class BidForm(FlaskForm):
    price = StringField(_l("Price (yuan)"), validators=[Optional(), Length(max=20)])
    proposal = TextAreaField(_l("Proposal"), validators=[Optional(), Length(max=20000)])
    breakdown = FieldList(FormField(LineForm), min_entries=5, max_entries=50)
    attachments = MultipleFileField(_l("Attachments (PDF, Word, Excel, PNG, JPEG)"))
    remove = HiddenField()
    save = SubmitField(_l("Save the draft"))
    submit_bid = SubmitField(_l("Submit the bid"))


class ActionForm(FlaskForm):
    """A bare POST button (CSRF only)."""
