"""Payment forms: the steps of the chain, rejection and recording paid (both
irreversible: confirmed, with a reason or a voucher), raising an installment by hand."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import FlaskForm


class ApproveForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
    revision = HiddenField()
    submit = SubmitField(_l("Approve"))


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    confirm = BooleanField(_l("I understand that a rejection cannot be undone"), validators=[DataRequired()])
    revision = HiddenField()
    submit = SubmitField(_l("Reject the payment"))


class RecordForm(FlaskForm):
    voucher_number = StringField(_l("Voucher number"), validators=[DataRequired(), Length(max=60)])
    paid_on = DateField(_l("Paid on"), validators=[DataRequired()])
    confirm = BooleanField(_l("I confirm the money was paid; this writes the ledger and cannot be undone"),
                           validators=[DataRequired()])
    revision = HiddenField()
    submit = SubmitField(_l("Record as paid"))


class RequestForm(FlaskForm):
    submit = SubmitField(_l("Request payment"))
