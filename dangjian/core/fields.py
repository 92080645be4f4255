"""EncryptedCharField: a CharField whose column holds the value sealed by core.crypto.

Python code, forms and validators see the clear value: ``max_length`` and the validators apply to it, and the
form field is the ordinary text input. The column is of type text (a sealed value is longer than the clear one).
The value is sealed whenever it is written (save, bulk_create, update) and opened when read (instances,
``values()``, ``values_list()``).

A sealed value cannot be searched: only ``isnull`` and comparison with the empty string are allowed, any other
lookup raises FieldError. With ``blind_index="<field name>"`` the field fills that companion column with
crypto.blind_index of the value on every save (and bulk_create), for exact lookups and a unique constraint.
"""

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

from dangjian.core import crypto


class EncryptedCharField(models.CharField):
    description = "Encrypted text (AES-256-GCM)"

    def __init__(self, *args, blind_index: str | None = None, **kwargs):
        self.blind_index = blind_index
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.blind_index:
            kwargs["blind_index"] = self.blind_index
        return name, path, args, kwargs

    def db_type(self, connection):
        return connection.data_types["TextField"] % self.db_type_parameters(connection)

    def cast_db_type(self, connection):
        return self.db_type(connection)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        if self.blind_index:
            setattr(model_instance, self.blind_index, crypto.blind_index(value) if value else None)
        return value

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return EncryptedEmptyExact
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(
            f"加密字段 {self.model.__name__}.{self.name} 不能按“{lookup_name}”查询："
            "密文无法比较，请按盲索引字段查询（如 Member.objects.by_id_number()）。")


class EncryptedEmptyExact(Exact):
    """``field=""`` (is it empty?) is the only comparison a sealed column allows."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise FieldError("加密字段只能与空字符串比较；按值查询请使用盲索引字段。")
        return super().get_prep_lookup()
