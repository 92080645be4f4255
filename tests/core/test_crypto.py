"""core.crypto and EncryptedCharField: AES-256-GCM sealing, blind indexes, keys from outside the database,
rotation, and what happens when a key is missing or wrong (docs/security.md S6)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from dangjian.core import crypto, totp
from dangjian.core.models import AuditEvent, TOTPDevice
from dangjian.orgs.models import Member
from tests.factories import make_member, make_org, make_user

ROOT = Path(__file__).resolve().parents[2]
KEY_A = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
KEY_B = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="


def raw(sql, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def test_a_value_round_trips_and_equal_values_seal_differently():
    sealed = {crypto.encrypt("110101199003070011") for _ in range(20)}
    assert len(sealed) == 20  # a fresh nonce each time: no constant ciphertext to match on
    for s in sealed:
        assert s.startswith(crypto.current_prefix()) and "110101" not in s
        assert crypto.decrypt(s) == "110101199003070011"
    assert crypto.decrypt(crypto.encrypt("张三 13800138000")) == "张三 13800138000"


def test_a_changed_byte_is_refused():
    sealed = crypto.encrypt("13800138000")
    head, body = sealed.rsplit(":", 1)
    flipped = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    with pytest.raises(crypto.FieldKeyError, match="无法解密"):
        crypto.decrypt(f"{head}:{flipped}")
    with pytest.raises(crypto.FieldKeyError, match="格式不正确"):
        crypto.decrypt("13800138000")


def test_a_value_sealed_with_a_key_no_longer_configured_fails_clearly():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        sealed = crypto.encrypt("13800138000")
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]), \
            pytest.raises(crypto.FieldKeyError, match="当前配置的字段加密密钥中没有它"):
        crypto.decrypt(sealed)


@pytest.mark.parametrize("keys, message", [
    ([], "未配置字段加密密钥"),
    (["not-a-key"], "第1个无效"),
    ([KEY_A, KEY_A[:-4] + "QQ=="], "第2个无效"),
    ([KEY_A, KEY_A], "重复"),
])
def test_missing_or_malformed_keys_fail_clearly(keys, message):
    with override_settings(FIELD_ENCRYPTION_KEYS=keys):
        with pytest.raises(crypto.FieldKeyError, match=message):
            crypto.encrypt("x")
        errors = crypto.check_keys()
        assert [e.id for e in errors] == ["dangjian.E101"] and message in errors[0].msg


def test_the_blind_index_is_keyed_stable_and_not_the_value():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        a = crypto.blind_index("110101199003070011")
        assert a == crypto.blind_index("110101199003070011") and len(a) == 32
        assert a != crypto.blind_index("110101199003070038")
        key = crypto.keyring()[0]
        assert key.index_key != crypto._derive(crypto.parse_key(KEY_A), b"dangjian field encryption v1")
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        both = crypto.blind_indexes("110101199003070011")
        assert both[1] == a and both[0] != a


def test_check_deploy_warns_about_the_development_key(settings):
    assert settings.FIELD_ENCRYPTION_KEYS == [settings.FIELD_ENCRYPTION_DEV_KEY]
    assert [w.id for w in crypto.check_dev_key()] == ["dangjian.W101"]
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        assert crypto.check_dev_key() == []


def _settings_in_child(env_over, code="from django.conf import settings; print(settings.FIELD_ENCRYPTION_KEYS)"):
    env = {k: v for k, v in os.environ.items() if k not in ("DANGJIAN_ALLOW_DEV_KEY", "DEBUG",
                                                              "FIELD_ENCRYPTION_KEYS", "FIELD_ENCRYPTION_KEY_FILE")}
    env.update(DEBUG="0", SECRET_KEY="k" * 60, DJANGO_SETTINGS_MODULE="dangjian.settings", **env_over)
    return subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_production_without_a_key_does_not_start_and_a_key_file_is_read(tmp_path):
    result = _settings_in_child({})
    assert result.returncode != 0
    assert "生产环境必须设置字段加密密钥 FIELD_ENCRYPTION_KEYS 或 FIELD_ENCRYPTION_KEY_FILE" in result.stderr
    key_file = tmp_path / "field.keys"
    key_file.write_text(f"# new key first\n{KEY_B}\n\n{KEY_A}\n", encoding="utf-8")
    result = _settings_in_child({"FIELD_ENCRYPTION_KEY_FILE": str(key_file)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str([KEY_B, KEY_A])
    result = _settings_in_child({"FIELD_ENCRYPTION_KEY_FILE": str(tmp_path / "missing")})
    assert result.returncode != 0 and "无法读取字段加密密钥文件" in result.stderr


@pytest.mark.django_db
def test_sealed_columns_allow_no_value_lookups():
    with pytest.raises(FieldError, match="盲索引"):
        Member.objects.filter(id_number__startswith="110101").exists()
    with pytest.raises(FieldError, match="盲索引"):
        Member.objects.filter(phone="13800138000").exists()
    assert not Member.objects.filter(phone="").exists()  # "is it empty?" is allowed


@pytest.mark.django_db
def test_the_totp_secret_is_sealed_in_the_database_and_still_checks_codes():
    import pyotp

    user = make_user("totp_user")
    secret = totp.new_secret()
    device = TOTPDevice.objects.create(user=user, secret=secret)
    (stored,) = raw("SELECT secret FROM core_totpdevice WHERE id = %s", [device.pk])[0]
    assert secret not in stored and crypto.is_sealed(stored)
    device = TOTPDevice.objects.get(pk=device.pk)
    assert device.secret == secret
    assert totp.verify(device, pyotp.TOTP(secret).now())


@pytest.mark.django_db
def test_rotation_reseals_everything_with_the_first_key_and_is_idempotent(company, settings):
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        branch = make_org("轮换党支部", parent=company.committee)
        members = [make_member(branch, f"轮换{i}") for i in range(5)]
        device = TOTPDevice.objects.create(user=make_user("rot"), secret=totp.new_secret())
    old = dict(raw("SELECT id, id_number FROM orgs_member WHERE org_id = %s", [branch.pk]))
    # The new key first; the old ones (KEY_A, and the development key of the other fixtures' rows) after it.
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A, settings.FIELD_ENCRYPTION_DEV_KEY]):
        # Before the rotation rows sealed with the old key are found by ID number all the same.
        assert Member.objects.by_id_number(members[0].id_number).get() == members[0]
        call_command("rotate_field_key", batch=2, stdout=open(os.devnull, "w"))
        new_prefix = crypto.current_prefix()
        rows = raw("SELECT id, id_number, phone, id_number_index FROM orgs_member")
        assert all(r[1].startswith(new_prefix) and r[2].startswith(new_prefix) for r in rows)
        assert all(old[r[0]] != r[1] for r in rows if r[0] in old)
        assert raw("SELECT secret FROM core_totpdevice WHERE id = %s", [device.pk])[0][0].startswith(new_prefix)
        before = raw("SELECT id, id_number, phone, id_number_index FROM orgs_member ORDER BY id")
        out = open(os.devnull, "w")
        call_command("rotate_field_key", stdout=out)
        assert raw("SELECT id, id_number, phone, id_number_index FROM orgs_member ORDER BY id") == before
        event = AuditEvent.objects.filter(action="system.field_key_rotated").latest("id")
        assert event.data["key_id"] == crypto.keyring()[0].kid and event.data["rows"]["orgs.Member"] == 0
    # The old key can go: everything opens with the new one alone, and lookups use its index.
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        for m in members:
            fresh = Member.objects.get(pk=m.pk)
            assert (fresh.id_number, fresh.phone) == (m.id_number, m.phone)
            assert Member.objects.by_id_number(m.id_number).get() == m
        assert TOTPDevice.objects.get(pk=device.pk).secret == device.secret


def test_rotate_field_key_prints_a_new_key(capsys):
    call_command("rotate_field_key", new_key=True)
    key = capsys.readouterr().out.strip()
    assert len(crypto.parse_key(key)) == 32
