"""Account forms."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from ..forms import FlaskForm
from ..roles import ROLE_LABELS, Role


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this computer"))
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))])
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(check_deliverability=False),
                                                        Length(max=254)])
    submit = SubmitField(_l("Send me a reset link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])
    submit = SubmitField(_l("Set password"))


def _coerce_int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[
        DataRequired(), Length(min=3, max=64),
        Regexp(r"^[A-Za-z0-9_.\-]+$", message=_l("Use letters, digits, dots, dashes and underscores only."))])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(check_deliverability=False),
                                                        Length(max=254)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role])
    department_id = SelectField(_l("Department"), coerce=_coerce_int_or_none, validators=[Optional()])
    organization_id = SelectField(_l("Organization"), coerce=_coerce_int_or_none, validators=[Optional()])
    locale = SelectField(_l("Language"), choices=[SelectChoice("zh_CN", "简体中文"), SelectChoice("en", "English")])
    password = PasswordField(_l("Initial password"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    code = StringField(_l("Code"), validators=[
        DataRequired(), Length(max=20),
        Regexp(r"^[A-Za-z0-9_\-]+$", message=_l("Use Latin letters, digits, dashes and underscores only."))])
    submit = SubmitField(_l("Save"))
