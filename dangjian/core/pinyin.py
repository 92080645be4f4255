"""Pinyin keys stored beside names, so 张三 is found by "zhangsan" and "zs".

A name starts with a surname, and several surnames read differently from the everyday character (曾 is zeng,
not ceng; 单 is shan). The surname is read from the table below; the given name by pypinyin."""

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Surnames (compound first) whose reading as a surname differs from pypinyin's everyday reading.
SURNAME_READINGS = {
    "尉迟": ["yu", "chi"], "万俟": ["mo", "qi"], "澹台": ["tan", "tai"],
    "曾": ["zeng"], "单": ["shan"], "解": ["xie"], "查": ["zha"], "仇": ["qiu"], "翟": ["zhai"], "覃": ["qin"],
    "区": ["ou"], "朴": ["piao"], "缪": ["miao"], "盖": ["ge"], "乐": ["yue"], "繁": ["po"], "黑": ["he"],
    "员": ["yun"], "洗": ["xian"], "召": ["shao"], "秘": ["bi"], "种": ["chong"], "祭": ["zhai"],
}


@lru_cache(maxsize=65536)
def _syllables(text: str) -> tuple[str, ...]:
    return tuple(s.lower() for s in lazy_pinyin(text, style=Style.NORMAL, errors="default"))


def name_keys(name: str) -> tuple[str, str]:
    name = (name or "").strip().replace(" ", "")
    syllables: list[str] = []
    rest = name
    for surname, reading in SURNAME_READINGS.items():
        if name.startswith(surname) and len(name) > len(surname):
            syllables, rest = list(reading), name[len(surname):]
            break
    syllables += _syllables(rest)
    full = "".join(syllables)
    initials = "".join(s[0] for s in syllables if s)
    return full[:120], initials[:40]
