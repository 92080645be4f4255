from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class CharacterClassValidator:
    """At least three of: upper case, lower case, digits, symbols (等保 password complexity)."""

    def validate(self, password, user=None):
        classes = [
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError(_("密码须包含大写字母、小写字母、数字、符号中的至少三类。"), code="password_classes")

    def get_help_text(self):
        return _("密码须包含大写字母、小写字母、数字、符号中的至少三类。")


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, with its error message in our catalog: Django 5.2's message changed to a form ("%d") that its
    zh-Hans catalog does not translate, so a Chinese page showed it in English."""

    def get_error_message(self):
        return ngettext("密码太短，至少需要 {n} 个字符。", "密码太短，至少需要 {n} 个字符。",
                        self.min_length).format(n=self.min_length)
