from django import template

register = template.Library()


@register.filter
def add_invalid(field):
    css = field.field.widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{css} is-invalid".strip()})


@register.filter
def mask_phone(value):
    from dangjian.core.validators import mask_phone as _mask

    return _mask(value)
