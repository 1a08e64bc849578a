"""Project forms: the project with its target rows, the budget check, cancel, served."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..forms import FlaskForm, Form
from .models import METHOD_LABELS


class TargetForm(Form):
    indicator = StringField(_l("Indicator"), validators=[Optional(), Length(max=200)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=40)])
    target_value = StringField(_l("Target"), validators=[Optional(), Length(max=20)])
    is_beneficiaries = BooleanField(_l("Counts beneficiaries"))


class ProjectForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    category_id = SelectField(_l("Service category (guiding catalogue)"), validate_choice=False)
    fiscal_year = StringField(_l("Fiscal year"), validators=[DataRequired(), Length(max=4)])
    service_area = StringField(_l("Service area"), validators=[DataRequired(), Length(max=200)])
    target_group = StringField(_l("Target group"), validators=[DataRequired(), Length(max=200)])
    budget_ceiling = StringField(_l("Budget ceiling (yuan)"), validators=[DataRequired(), Length(max=20)])
    method = SelectField(_l("Procurement method"), validate_choice=False,
                         choices=[SelectChoice(m.value, label) for m, label in METHOD_LABELS.items()])
    period_start = DateField(_l("Planned start"), validators=[DataRequired()])
    period_end = DateField(_l("Planned end"), validators=[DataRequired()])
    targets = FieldList(FormField(TargetForm), min_entries=4, max_entries=20)
    #: The revision the form was loaded at (a save over a newer one is refused).
    revision = HiddenField()
    submit = SubmitField(_l("Save"))


class AllocationLineForm(Form):
    appropriation_id = SelectField(_l("Appropriation"), validate_choice=False)
    amount = StringField(_l("Amount (yuan)"), validators=[Optional(), Length(max=20)])


class BudgetCheckForm(FlaskForm):
    allocations = FieldList(FormField(AllocationLineForm), min_entries=3, max_entries=10)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Approve and reserve funds"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Confirm"))


class ServedForm(FlaskForm):
    beneficiaries_served = StringField(_l("Beneficiaries served"), validators=[DataRequired(), Length(max=10)])
    submit = SubmitField(_l("Save"))


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    is_active = BooleanField(_l("Can be chosen for new projects"), default=True)
    submit = SubmitField(_l("Save"))
