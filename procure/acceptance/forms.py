"""Acceptance forms: the final report, organizing the evaluation, the declaration, the
scores (an evaluator's or a third party's), the decision."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    FieldList,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..forms import FlaskForm


class FinalReportForm(FlaskForm):
    final_report = TextAreaField(_l("What the project delivered"), validators=[Optional(), Length(max=20000)])
    actuals = FieldList(StringField(_l("Actual value"), validators=[Optional(), Length(max=20)]), min_entries=0,
                        max_entries=100)
    opinion = FileField(_l("Beneficiaries' written opinion (服务对象意见): scan (PNG, JPEG or PDF)"))
    opinion_text = TextAreaField(_l("Or type the opinion from the form"), validators=[Optional(), Length(max=5000)])
    revision = HiddenField()
    save = SubmitField(_l("Save the draft"))
    submit = SubmitField(_l("Submit the final report for acceptance"))


class OrganizeForm(FlaskForm):
    evaluators = SelectMultipleField(_l("Evaluators"), coerce=str, validate_choice=False)
    third_party_name = StringField(_l("Or a third party (name of the firm)"),
                                   validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Start the evaluation"))


class AddEvaluatorForm(FlaskForm):
    evaluator = SelectField(_l("Evaluator"), validate_choice=False, validators=[DataRequired()])
    submit = SubmitField(_l("Add the evaluator"))


class DeclareForm(FlaskForm):
    has_conflict = RadioField(_l("Conflict of interest"), choices=[
        SelectChoice("no", _l("I have no conflict of interest with this organization or project")),
        SelectChoice("yes", _l("I have a conflict of interest"))], validators=[DataRequired()])
    note = TextAreaField(_l("What the conflict is"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Declare"))


class ScoreForm(FlaskForm):
    score_budget_execution = StringField(_l("Budget execution"), validators=[Optional(), Length(max=12)])
    score_outputs = StringField(_l("Outputs"), validators=[Optional(), Length(max=12)])
    score_outcomes = StringField(_l("Outcomes"), validators=[Optional(), Length(max=12)])
    score_satisfaction = StringField(_l("Satisfaction"), validators=[Optional(), Length(max=12)])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Submit the scores"))

    def values(self) -> dict:
        return {g: getattr(self, f"score_{g}").data for g in
                ("budget_execution", "outputs", "outcomes", "satisfaction")}


class DecideForm(FlaskForm):
    note = TextAreaField(_l("Decision note"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Decide from the scores"))
