"""Forms of the wall: the public feedback form (from the QR code) and the secretary's reply.

The public form carries the guards of ``core.public.PublicFormMixin`` besides CSRF: a honeypot field people never
see and a signed token with the time the form was shown: a post too soon after, or a day later, or for another
wall, is refused. The sentences about the text
and the contact are the service's (appraisal.wall), so the page and the service say the same thing.
"""


from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.appraisal import wall as services
from dangjian.appraisal.models import FeedbackKind
from dangjian.core import public
from dangjian.core.errors import DomainError

TOKEN_SALT = "dangjian.appraisal.wall.feedback"


def form_token(key: str) -> str:
    return public.form_token(TOKEN_SALT, key)


class FeedbackForm(public.PublicFormMixin, forms.Form):
    token_salt = TOKEN_SALT

    kind = forms.ChoiceField(label=gettext_lazy("留言类型"), choices=FeedbackKind.choices,
                             initial=FeedbackKind.SUGGESTION, widget=forms.RadioSelect)
    member = forms.TypedChoiceField(label=gettext_lazy("涉及党员"), required=False, coerce=int, empty_value=None,
                                    help_text=gettext_lazy("可不选：留言针对整个党支部"))
    text = forms.CharField(
        label=gettext_lazy("留言内容"), strip=True,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": services.TEXT_MAX, "class": "form-control"}),
        help_text=gettext_lazy("5–500字；请勿填写网址或链接"),
    )
    contact = forms.CharField(
        label=gettext_lazy("联系方式"), required=False,
        widget=forms.TextInput(attrs={"maxlength": public.CONTACT_MAX, "class": "form-control",
                                      "autocomplete": "tel", "inputmode": "email"}),
        help_text=gettext_lazy("选填，手机号或电子邮箱，仅支部书记可见，便于回复您"),
    )

    def __init__(self, *args, wall_key: str, members: list[tuple[int, str]], **kwargs):
        super().__init__(*args, public_key=wall_key, **kwargs)
        self.wall_key = wall_key
        self.fields["member"].choices = [("", _("（不针对具体党员）"))] + [(str(pk), name) for pk, name in members]
        self.fields["member"].widget.attrs["class"] = "form-select"

    def clean_text(self):
        try:
            return services.clean_text(self.cleaned_data.get("text"))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_contact(self):
        try:
            return services.clean_contact(self.cleaned_data.get("contact"))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label=gettext_lazy("处理情况"), strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": services.REPLY_MAX, "class": "form-control"}),
        help_text=gettext_lazy("记录核实和处理的结果；保存后该留言标记为已处理"),
    )
