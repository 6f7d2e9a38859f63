"""Every text the bot says: one catalog per language, `bot/texts/<lang>.yaml`, looked up by key.

Ukrainian is the default language and the reference catalog: every key is defined there, and
`tests/test_texts.py` checks that every other language has the same keys and placeholders.

A catalog entry is either a text or a mapping of CLDR plural categories to texts (Ukrainian:
one/few/many/other, English: one/other); the `count` parameter picks the form through Babel's
plural rules, so `t("uk", "count_recipients", count=21)` says "21 отримувач".

Lookup rules:
- an unknown key, or a plural entry called without `count`, is a programming error: `KeyError`;
- a language the bot does not speak falls back to Ukrainian (as a person's language does);
- a translation missing from a known language falls back to the Ukrainian text with a warning,
  so a gap never crashes a conversation; in strict mode (`set_strict(True)`, which the tests
  switch on) it raises `MissingTranslation` instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from babel.plural import PluralRule

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "uk"
LANGUAGES = ("uk", "en")
# The CLDR plural categories a catalog may use; which ones a language needs comes from Babel.
PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})

Entry = str | dict[str, str]

_strict = False
_warned: set[tuple[str, str]] = set()


class MissingTranslation(KeyError):
    """A key (or plural form) that the reference catalog has but `lang`'s catalog lacks."""


@dataclass(frozen=True)
class Catalog:
    """One language's texts and role names, as loaded from `<lang>.yaml`."""

    lang: str
    texts: dict[str, Entry]
    roles: dict[str, str]


def set_strict(enabled: bool) -> None:
    """Strict mode: a missing translation raises instead of falling back to Ukrainian."""
    global _strict
    _strict = enabled


@cache
def catalog(lang: str) -> Catalog:
    """`lang`'s catalog, read from the package once, at first use."""
    if lang not in LANGUAGES:
        raise ValueError(f"no text catalog for language {lang!r}")
    source = resources.files(__name__).joinpath(f"{lang}.yaml").read_text(encoding="utf-8")
    # libyaml's loader when PyYAML has it: the pure-Python one took 0.1 s for uk.yaml, paid
    # by every CLI command that prints a text (the same data either way).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return _parse(lang, yaml.load(source, Loader=loader))


def _parse(lang: str, data: Any) -> Catalog:
    where = f"bot/texts/{lang}.yaml"
    if not isinstance(data, dict) or set(data) != {"roles", "texts"}:
        raise ValueError(f"{where}: expected exactly the sections `roles` and `texts`")
    roles, texts = data["roles"], data["texts"]
    if not isinstance(roles, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in roles.items()
    ):
        raise ValueError(f"{where}: `roles` maps a role to its name")
    if not isinstance(texts, dict):
        raise ValueError(f"{where}: `texts` maps a key to a text")
    for key, entry in texts.items():
        if isinstance(entry, str):
            continue
        if not isinstance(entry, dict) or not entry:
            raise ValueError(f"{where}: {key} is neither a text nor a mapping of plural forms")
        unknown = set(entry) - PLURAL_CATEGORIES
        if unknown or not all(isinstance(v, str) for v in entry.values()):
            raise ValueError(f"{where}: {key} has bad plural forms {sorted(map(str, unknown))}")
    return Catalog(lang, texts, roles)


# CLDR's plural rules of each language, as Babel's locale data states them (tests/test_texts.py
# checks that they still agree): a whole Babel Locale would keep ~6.6 MiB of calendars, currency
# and territory names in the running bot for these three lines (issue 16).
PLURAL_RULES: dict[str, dict[str, str]] = {
    "uk": {
        "one": "v in 0 and i mod 10 in 1 and i mod 100 not in 11",
        "few": "v in 0 and i mod 10 in 2..4 and i mod 100 not in 12..14",
        "many": "v in 0 and i mod 10 in 0 or v in 0 and i mod 10 in 5..9"
        " or v in 0 and i mod 100 in 11..14",
    },
    "en": {"one": "i in 1 and v in 0"},
}


@cache
def _plural_rule(lang: str) -> PluralRule:
    return PluralRule(PLURAL_RULES[lang])


def plural_category(lang: str, count: float) -> str:
    """CLDR plural category of `count` in `lang`: 'one', 'few', 'many' or 'other' (Ukrainian)."""
    return str(_plural_rule(lang)(abs(count)))


def _missing(lang: str, what: str) -> None:
    if _strict:
        raise MissingTranslation(f"{what} has no {lang!r} text")
    if (lang, what) not in _warned:
        _warned.add((lang, what))
        logger.warning("%s has no %r text; using the Ukrainian one", what, lang)


def _entry(lang: str, key: str) -> tuple[str, Entry]:
    """The entry to use and the language it is in (Ukrainian when `lang` lacks one)."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    found = catalog(lang).texts.get(key)
    if found is not None:
        return lang, found
    reference = catalog(DEFAULT_LANGUAGE).texts.get(key)
    if reference is None:
        raise KeyError(f"unknown text key {key!r}")
    _missing(lang, f"text {key!r}")
    return DEFAULT_LANGUAGE, reference


def t(lang: str, key: str, **params: Any) -> str:
    """Look up `key` in `lang` (falling back to Ukrainian) and fill in `params`."""
    lang, entry = _entry(lang, key)
    if isinstance(entry, dict):
        if "count" not in params:
            raise KeyError(f"text {key!r} has plural forms: pass count=")
        category = plural_category(lang, params["count"])
        text = entry.get(category)
        if text is None:
            _missing(lang, f"plural form {category!r} of {key!r}")
            text = entry["other"] if "other" in entry else next(iter(entry.values()))
        return text.format(**params)
    return entry.format(**params) if params else entry


def role_name(lang: str, role: str) -> str:
    """A role's name in `lang` (Ukrainian for other languages); an unknown role as it is."""
    roles = catalog(lang if lang in LANGUAGES else DEFAULT_LANGUAGE).roles
    if role in roles:
        return roles[role]
    fallback = catalog(DEFAULT_LANGUAGE).roles.get(role)
    if fallback is None:
        return role
    _missing(lang, f"role {role!r}")
    return fallback
