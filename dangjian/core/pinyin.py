"""Pinyin keys stored beside names, so 张三 is found by "zhangsan" and "zs"."""

from pypinyin import Style, lazy_pinyin


def name_keys(name: str) -> tuple[str, str]:
    name = (name or "").strip()
    full = "".join(lazy_pinyin(name, style=Style.NORMAL, errors="default")).lower().replace(" ", "")
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")).lower().replace(" ", "")
    return full[:120], initials[:40]
