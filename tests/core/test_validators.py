import datetime

import pytest
from django.core.exceptions import ValidationError

from dangjian.core.pinyin import name_keys
from dangjian.core.validators import mask_id_number, mask_phone, validate_id_number, validate_phone
from tests.factories import valid_id


def test_a_valid_id_number_passes():
    validate_id_number("11010519491231002X")
    validate_id_number(valid_id(datetime.date(1990, 2, 28), 123))


@pytest.mark.parametrize(("value", "code"), [
    ("110105194912310021", "id_checksum"),
    ("11010519491331002X", "id_birth"),
    ("1101051949123100", "id_format"),
    ("11010519491231002Y", "id_format"),
])
def test_a_bad_id_number_is_refused_with_a_chinese_message(value, code):
    with pytest.raises(ValidationError) as exc:
        validate_id_number(value)
    assert exc.value.code == code
    assert "身份证号" in exc.value.messages[0]


def test_lower_case_x_is_accepted():
    validate_id_number("11010519491231002x")


@pytest.mark.parametrize("value", ["1391234567", "23912345678", "139123456789", "1391234567a"])
def test_a_bad_phone_is_refused(value):
    with pytest.raises(ValidationError, match="手机号"):
        validate_phone(value)


def test_masks_keep_only_the_ends():
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert mask_phone("13912345678") == "139****5678"


def test_pinyin_keys():
    assert name_keys("张三") == ("zhangsan", "zs")
    assert name_keys("欧阳娜娜")[1] == "oynn"


def test_surnames_are_read_as_surnames():
    assert name_keys("曾国藩") == ("zengguofan", "zgf")
    assert name_keys("单田芳")[0] == "shantianfang"
    assert name_keys("尉迟敬德")[1] == "ycjd"
