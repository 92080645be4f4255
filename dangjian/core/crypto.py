"""Personal data encrypted at rest (QUALITY.md S6): 身份证号, 手机号 and TOTP secrets.

Each value is sealed with AES-256-GCM (authenticated: a changed byte fails to open) under a fresh random 96-bit
nonce, so equal values give different ciphertexts, and stored as text::

    v1:<key id>:<base64 of nonce + ciphertext + tag>

The key id (six hex digits, a fingerprint of the key) says which key sealed the value, so keys can rotate: the
first key of ``settings.FIELD_ENCRYPTION_KEYS`` seals, every listed key opens, and ``manage.py rotate_field_key``
re-seals everything with the first key. The keys live outside the database (environment or a key file, see
settings.py and docs/security.md); a database dump or backup alone reveals nothing.

Exact lookups and uniqueness use a blind index: HMAC-SHA256 of the clear value, truncated to 128 bits, under a
key derived from the master key separately from the encryption key (HKDF with another label), so the index says
nothing about the value and cannot be used to open it. ``blind_indexes()`` gives the index under every key, for
lookups that must also find rows not yet rotated.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
NONCE_BYTES = 12
INDEX_BYTES = 16  # HMAC-SHA256 truncated to 128 bits: 32 hex digits
KEY_BYTES = 32
_ENC_INFO = b"dangjian field encryption v1"
_IDX_INFO = b"dangjian blind index v1"


class FieldKeyError(ImproperlyConfigured):
    """A key is missing, malformed, or not the one a stored value was sealed with."""


class Key:
    """One master key: its id, its AES-256-GCM cipher and its blind-index key, both derived by HKDF."""

    __slots__ = ("kid", "aead", "index_key", "prefix")

    def __init__(self, raw: bytes):
        self.kid = hashlib.sha256(b"dangjian key id" + raw).hexdigest()[:6]
        self.prefix = f"{VERSION}:{self.kid}:"
        self.aead = AESGCM(_derive(raw, _ENC_INFO))
        self.index_key = _derive(raw, _IDX_INFO)


def _derive(raw: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(raw)


def parse_key(text: str, position: int = 1) -> bytes:
    """A key as written in the environment or the key file: urlsafe base64 of 32 random bytes."""
    text = (text or "").strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise FieldKeyError(
            f"字段加密密钥第{position}个无效：应为32字节随机数的 URL 安全 Base64 编码（44个字符），"
            "可用 manage.py rotate_field_key --new-key 生成。")
    return raw


def new_key() -> str:
    """A fresh key in the form the settings read."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


@functools.lru_cache(maxsize=8)
def _keyring_of(texts: tuple[str, ...]) -> tuple[Key, ...]:
    if not texts:
        raise FieldKeyError("未配置字段加密密钥：请设置环境变量 FIELD_ENCRYPTION_KEYS 或 FIELD_ENCRYPTION_KEY_FILE。")
    keys = tuple(Key(parse_key(t, i)) for i, t in enumerate(texts, 1))
    if len({k.kid for k in keys}) != len(keys):
        raise FieldKeyError("字段加密密钥重复：FIELD_ENCRYPTION_KEYS 中同一密钥出现了多次。")
    return keys


def keyring() -> tuple[Key, ...]:
    """The configured keys, the sealing one first (parsed once per distinct setting)."""
    return _keyring_of(tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", ()) or ()))


def current_prefix() -> str:
    return keyring()[0].prefix


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(VERSION + ":")


def encrypt(text: str) -> str:
    key = keyring()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.aead.encrypt(nonce, text.encode(), None)
    return key.prefix + binascii.b2a_base64(nonce + sealed, newline=False).decode()


def _nonces():
    """Random nonces drawn from the OS 48 kB at a time (one system call per 4,096 values)."""
    while True:
        block = os.urandom(NONCE_BYTES * 4096)
        for i in range(0, len(block), NONCE_BYTES):
            yield block[i:i + NONCE_BYTES]


def encrypter():
    """A fast ``encrypt`` for bulk loads in one thread: the key looked up once, nonces drawn in blocks."""
    key = keyring()[0]
    seal, prefix, b64, next_nonce = key.aead.encrypt, key.prefix, binascii.b2a_base64, _nonces().__next__

    def encrypt_one(text: str) -> str:
        nonce = next_nonce()
        return prefix + b64(nonce + seal(nonce, text.encode(), None), newline=False).decode()

    return encrypt_one


def decrypt(value: str) -> str:
    """Open a stored value; a value sealed with a key not configured, or tampered with, fails clearly."""
    try:
        version, kid, body = value.split(":", 2)
    except (AttributeError, ValueError):
        raise FieldKeyError("数据库中的加密字段格式不正确（不是本系统加密的值）；请确认数据迁移已完成。") from None
    if version != VERSION:
        raise FieldKeyError(f"数据库中的加密字段版本“{version}”无法识别。")
    for key in keyring():
        if key.kid == kid:
            break
    else:
        raise FieldKeyError(
            f"数据库中的值由密钥 {kid} 加密，但当前配置的字段加密密钥中没有它：请把原密钥加入 FIELD_ENCRYPTION_KEYS"
            "（或密钥文件），轮换完成后才能移除。")
    try:
        raw = binascii.a2b_base64(body, strict_mode=True)
        return key.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()
    except (InvalidTag, binascii.Error, ValueError):
        raise FieldKeyError(f"加密字段无法解密（密钥 {kid}）：数据被篡改或密钥不正确。") from None


def blind_index(text: str, key: Key | None = None) -> str:
    """The lookup key of a clear value under the sealing key (or ``key``)."""
    key = key or keyring()[0]
    return hmac.digest(key.index_key, text.encode(), "sha256")[:INDEX_BYTES].hex()


def indexer():
    """A fast ``blind_index`` for bulk loads."""
    index_key = keyring()[0].index_key
    digest = hmac.digest

    def index_one(text: str) -> str:
        return digest(index_key, text.encode(), "sha256")[:INDEX_BYTES].hex()

    return index_one


def blind_indexes(text: str) -> list[str]:
    """The lookup key under every configured key: finds rows sealed before a rotation finished."""
    return [blind_index(text, k) for k in keyring()]


# ---- system checks -----------------------------------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_keys(app_configs=None, **kwargs):
    try:
        keyring()
    except FieldKeyError as exc:
        return [checks.Error(str(exc), id="dangjian.E101")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_dev_key(app_configs=None, **kwargs):
    dev = getattr(settings, "FIELD_ENCRYPTION_DEV_KEY", None)
    if dev and dev in (getattr(settings, "FIELD_ENCRYPTION_KEYS", ()) or ()):
        return [checks.Warning(
            "身份证号、手机号等字段正在使用开发用的固定加密密钥：生产环境请设置 FIELD_ENCRYPTION_KEYS 或 "
            "FIELD_ENCRYPTION_KEY_FILE（密钥保存在数据库之外，并单独备份）。",
            id="dangjian.W101")]
    return []


# ---- sealing whole tables (migrations, rotate_field_key) ----------------------------------------------------


def reseal_table(connection, table: str, columns: list[str], *, mode: str, index: tuple[str, str] | None = None,
                 pk: str = "id", batch: int = 2000, atomic_batches: bool = False) -> int:
    """Walk ``table`` in primary-key batches and bring the ``columns`` to the state ``mode`` asks for:

    - ``seal``: clear values are sealed with the first key (sealed ones are left as they are);
    - ``rotate``: every value not sealed with the first key is (re-)sealed with it;
    - ``open``: sealed values are opened back to clear text (the reverse migrations).

    ``index=(index_column, source_column)`` also sets the blind index of the source's clear value (the first key),
    or NULL with ``open``. Raw SQL on the caller's connection; one executemany UPDATE per batch, only for rows that
    change, so a second run changes nothing. With ``atomic_batches`` each batch commits on its own (a long
    rotation can be interrupted and run again). Returns the number of rows changed."""
    from django.db import transaction

    if mode not in ("seal", "rotate", "open"):
        raise ValueError(mode)
    qn = connection.ops.quote_name
    cols = list(columns)
    read_cols = cols + ([index[0]] if index else [])
    select = (f"SELECT {qn(pk)}, {', '.join(qn(c) for c in read_cols)} FROM {qn(table)} "
              f"WHERE {qn(pk)} > %s ORDER BY {qn(pk)} LIMIT %s")
    update = (f"UPDATE {qn(table)} SET {', '.join(f'{qn(c)} = %s' for c in read_cols)} WHERE {qn(pk)} = %s")
    prefix = current_prefix()
    seal = encrypter()
    index_of = indexer()
    changed = 0
    last = None
    while True:
        with connection.cursor() as cur:
            cur.execute(select, [last if last is not None else -(2 ** 62), batch])
            rows = cur.fetchall()
        if not rows:
            return changed
        last = rows[-1][0]
        updates = []
        for row in rows:
            values = list(row[1:1 + len(cols)])
            clear = [decrypt(v) if is_sealed(v) else v for v in values]
            new = []
            for v, c in zip(values, clear, strict=True):
                if not v:
                    new.append(v)
                elif mode == "open":
                    new.append(c)
                elif mode == "seal" and is_sealed(v):
                    new.append(v)
                elif mode == "rotate" and v.startswith(prefix):
                    new.append(v)
                else:
                    new.append(seal(c))
            if index:
                source = clear[cols.index(index[1])]
                new.append(None if mode == "open" or not source else index_of(source))
            old = values + ([row[-1]] if index else [])
            if new != old:
                updates.append((*new, row[0]))
        if updates:
            if atomic_batches:
                with transaction.atomic(using=connection.alias), connection.cursor() as cur:
                    cur.executemany(update, updates)
            else:
                with connection.cursor() as cur:
                    cur.executemany(update, updates)
            changed += len(updates)
