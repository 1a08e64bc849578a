"""Forms of the evaluation pages: the draw, the qualification review, the declaration,
the scores (one field per bid and criterion, built per tender), the award decisions,
challenges and their answers."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
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
from .evaluation import DISQUALIFY_REASONS
from .models import ChallengeRemedy


class DrawForm(FlaskForm):
    size = StringField(_l("Committee size (odd; empty: the method's minimum)"),
                       validators=[Optional(), Length(max=3)])
    submit = SubmitField(_l("Draw the committee"))


class ReviewForm(FlaskForm):
    decision = RadioField(_l("Decision"), validate_choice=False,
                          choices=[SelectChoice("qualified", _l("Qualified")),
                                   SelectChoice("disqualified", _l("Disqualified"))])
    reason = SelectField(_l("Reason for the disqualification"), validate_choice=False,
                         choices=[SelectChoice("", "—")] + [SelectChoice(k, v) for k, v in DISQUALIFY_REASONS.items()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Record the review"))


class DeclareForm(FlaskForm):
    has_conflict = BooleanField(_l("I have a conflict of interest with one of these bidders"))
    note = TextAreaField(_l("What the conflict is"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Declare"))


class ReplaceForm(FlaskForm):
    reason = StringField(_l("Why the member is replaced"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Replace"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Pass over this bid"))


class ChallengeForm(FlaskForm):
    reason = TextAreaField(_l("Reasons of the challenge"), validators=[DataRequired(), Length(max=8000)])
    files = MultipleFileField(_l("Supporting files"))
    submit = SubmitField(_l("Lodge the challenge"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=8000)])
    outcome = RadioField(_l("Outcome"), validate_choice=False, default="dismissed",
                         choices=[SelectChoice("dismissed", _l("Dismissed: the award stands")),
                                  SelectChoice("upheld", _l("Upheld: the award is set aside"))])
    remedy = SelectField(_l("Remedy (when upheld)"), validate_choice=False,
                         choices=[SelectChoice("", "—")] + [SelectChoice(r.value, r.label) for r in ChallengeRemedy])
    submit = SubmitField(_l("Send the answer"))


def score_form(bids, criteria, existing: dict, formdata=None):
    """A form with one text field per (bid, criterion): ``s_<bid id>_<criterion id>``."""

    class ScoreForm(FlaskForm):
        save = SubmitField(_l("Save a draft"))
        submit = SubmitField(_l("Submit and lock my scores"))

    for b in bids:
        for c in criteria:
            setattr(ScoreForm, f"s_{b.id}_{c.id}", StringField(c.name, validators=[Optional(), Length(max=12)]))
    form = ScoreForm() if formdata is None else ScoreForm(formdata=formdata)
    if formdata is None:
        for (bid_id, crit_id), s in existing.items():
            name = f"s_{bid_id}_{crit_id}"
            if name in form and form[name].data in (None, ""):
                form[name].data = str(s.score)
    return form


class EvaluatorFieldsForm(FlaskForm):
    categories = SelectMultipleField(_l("Fields (service categories)"), validate_choice=False)
    is_expert = BooleanField(_l("Sits as an expert in these fields"), default=True)
    submit = SubmitField(_l("Save"))
