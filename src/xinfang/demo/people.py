"""Synthetic people: names, resident ID numbers with a correct check character, mobile numbers.

All values are drawn from the caller's random.Random, so the same seed gives the same people. Characters are
kept inside GBK so that sample files can be written in the encodings counties really use.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from xinfang.text.ids import id_checksum_char

# Weighted towards surnames common in northern Fujian (林, 陈, 黄, 廖, 肖, 余 ...).
SURNAMES = (
    "林林林陈陈陈黄黄黄张张李李王王吴吴郑郑刘刘廖廖肖肖余余杨杨罗邱曾江钟谢赖朱"
    "徐胡何高周叶蔡许游魏邓温兰傅沈范卢严危池童揭上官欧阳"
)
_DOUBLE_SURNAMES = ("上官", "欧阳")
_MALE_CHARS = "建国志明伟强军平华文东海金水春生荣富贵德永良家兴福清忠林斌勇杰涛宏"
_FEMALE_CHARS = "秀英丽萍美兰玉珍红梅芳燕霞娟琴桂凤春花淑雪慧婷静莲翠云"
_NEUTRAL_CHARS = "小晓新开文宇子锦嘉"

# Counties around 将乐 (三明市) for the few petitioners registered elsewhere.
NEARBY_REGIONS = ("350428", "350428", "350428", "350428", "350428", "350428", "350427", "350429", "350402")


@dataclass(frozen=True)
class Person:
    """A synthetic petitioner. `key` is stable within one generated history."""

    key: str
    name: str
    is_male: bool
    birth_on: date
    id_number: str
    phone: str


def surname(rng: random.Random) -> str:
    if rng.random() < 0.01:
        return rng.choice(_DOUBLE_SURNAMES)
    return rng.choice(SURNAMES[: len(SURNAMES) - 4])


def given_name(rng: random.Random, *, is_male: bool) -> str:
    pool = _MALE_CHARS if is_male else _FEMALE_CHARS
    if rng.random() < 0.25:
        return rng.choice(pool)
    first = rng.choice(_NEUTRAL_CHARS) if rng.random() < 0.15 else rng.choice(pool)
    return first + rng.choice(pool)


def full_name(rng: random.Random, *, is_male: bool) -> str:
    return surname(rng) + given_name(rng, is_male=is_male)


def id_number(rng: random.Random, *, birth_on: date, is_male: bool, region: str = "350428") -> str:
    """An 18-character resident ID number: region, birth date, sequence (odd for men), GB 11643 check."""
    sequence = rng.randrange(0, 100)
    gender_digit = rng.choice("13579" if is_male else "02468")
    first17 = f"{region}{birth_on:%Y%m%d}{sequence:02d}{gender_digit}"
    return first17 + id_checksum_char(first17)


def mobile(rng: random.Random) -> str:
    """A well-formed mainland mobile number (1[3-9] + 9 digits)."""
    return "1" + rng.choice("35789") + "".join(str(rng.randrange(10)) for _ in range(9))


def birth_date(rng: random.Random, *, on: date, min_age: int = 20, max_age: int = 78) -> date:
    age_days = rng.randrange(min_age * 365, max_age * 365)
    return on - timedelta(days=age_days)


def make_person(rng: random.Random, *, key: str, on: date, min_age: int = 20, max_age: int = 78) -> Person:
    is_male = rng.random() < 0.6
    born = birth_date(rng, on=on, min_age=min_age, max_age=max_age)
    return Person(
        key=key,
        name=full_name(rng, is_male=is_male),
        is_male=is_male,
        birth_on=born,
        id_number=id_number(rng, birth_on=born, is_male=is_male, region=rng.choice(NEARBY_REGIONS)),
        phone=mobile(rng),
    )


def courtesy_name(person: Person) -> str:
    """How a hotline operator records an anonymous caller: 王先生 / 林女士."""
    family = person.name[:2] if person.name[:2] in _DOUBLE_SURNAMES else person.name[0]
    return family + ("先生" if person.is_male else "女士")
