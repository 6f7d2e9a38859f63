"""The text catalogs: same keys, placeholders and plural forms in every language; lookup rules."""

from __future__ import annotations

import ast
import logging
import string
import tomllib
from pathlib import Path

import pytest
from babel import Locale

from bot import texts
from bot.texts import LANGUAGES, Catalog, MissingTranslation, catalog, role_name, t

ROOT = Path(__file__).resolve().parent.parent


def forms(entry: texts.Entry) -> list[str]:
    return [entry] if isinstance(entry, str) else list(entry.values())


def placeholders(text: str) -> set[str]:
    return {
        field.split(".")[0].split("[")[0]
        for _, field, _, _ in string.Formatter().parse(text)
        if field
    }


def test_every_key_exists_in_every_language() -> None:
    reference = catalog("uk")
    for lang in LANGUAGES:
        assert set(catalog(lang).texts) == set(reference.texts), lang
        assert set(catalog(lang).roles) == set(reference.roles), lang


def test_no_text_is_empty() -> None:
    for lang in LANGUAGES:
        for key, entry in catalog(lang).texts.items():
            assert all(text.strip() for text in forms(entry)), (lang, key)
        assert all(name.strip() for name in catalog(lang).roles.values()), lang


def test_every_language_uses_the_same_placeholders() -> None:
    # A plural form may leave out {count} ("a minute"); every other placeholder is in every text.
    for key, reference in catalog("uk").texts.items():
        expected = placeholders(forms(reference)[0]) - {"count"}
        for lang in LANGUAGES:
            for text in forms(catalog(lang).texts[key]):
                assert placeholders(text) - {"count"} == expected, (lang, key, text)


def test_every_plural_entry_has_the_forms_its_language_needs() -> None:
    for lang in LANGUAGES:
        needed = set(Locale.parse(lang).plural_form.tags) | {"other"}
        plural = {k: e for k, e in catalog(lang).texts.items() if isinstance(e, dict)}
        assert plural, lang
        for key, entry in plural.items():
            assert set(entry) == needed, (lang, key)  # none missing, none the language never uses


@pytest.mark.parametrize(
    ("n", "category", "text"),
    [
        (1, "one", "1 отримувач"),
        (2, "few", "2 отримувачі"),
        (5, "many", "5 отримувачів"),
        (11, "many", "11 отримувачів"),
        (21, "one", "21 отримувач"),
        (22, "few", "22 отримувачі"),
        (25, "many", "25 отримувачів"),
        (111, "many", "111 отримувачів"),
        (0, "many", "0 отримувачів"),
        (1.5, "other", "1.5 отримувача"),
    ],
)
def test_ukrainian_plurals_follow_cldr(n: float, category: str, text: str) -> None:
    assert texts.plural_category("uk", n) == category
    assert t("uk", "count_recipients", count=n) == text


@pytest.mark.parametrize(("n", "text"), [(0, "0 messages"), (1, "1 message"), (2, "2 messages")])
def test_english_plurals(n: int, text: str) -> None:
    assert t("en", "count_messages", count=n) == text


def test_plural_texts_in_the_dialogs() -> None:
    assert t("uk", "text_too_long", count=2001, limit=2000).startswith(
        "Відповідь задовга: 2001 символ. Максимум — 2000."
    )
    assert t("uk", "cr_too_long", count=1003, limit=1000).startswith(
        "Задовге повідомлення: 1003 символи, максимум — 1000."
    )
    assert t("uk", "message_too_long", count=4005, limit=4000).startswith(
        "Повідомлення задовге (4005 символів)."
    )
    assert t("en", "text_too_long", count=2001, limit=2000).startswith(
        "The answer is too long: 2001 characters."
    )


def test_an_unknown_key_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(KeyError, match="no_such_text"):
        t("uk", "no_such_text")
    monkeypatch.setattr(texts, "_strict", False)  # not even production guesses a text
    with pytest.raises(KeyError, match="no_such_text"):
        t("en", "no_such_text")


def test_a_plural_entry_needs_a_count() -> None:
    with pytest.raises(KeyError, match="count"):
        t("uk", "count_messages")


def _without(lang: str, key: str) -> Catalog:
    full = catalog(lang)
    return Catalog(lang, {k: v for k, v in full.texts.items() if k != key}, full.roles)


@pytest.fixture
def en_lacks_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    gappy = {"uk": catalog("uk"), "en": _without("en", "cancelled")}
    monkeypatch.setattr(texts, "catalog", gappy.__getitem__)
    monkeypatch.setattr(texts, "_warned", set())


@pytest.mark.usefixtures("en_lacks_cancelled")
def test_a_missing_translation_fails_in_tests() -> None:
    with pytest.raises(MissingTranslation, match="cancelled"):
        t("en", "cancelled")


@pytest.mark.usefixtures("en_lacks_cancelled")
def test_a_missing_translation_falls_back_to_ukrainian_in_production(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(texts, "_strict", False)
    with caplog.at_level(logging.WARNING, logger="bot.texts"):
        assert t("en", "cancelled") == "Скасовано."
        assert t("en", "cancelled") == "Скасовано."
    assert t("en", "btn_cancel") == "Cancel"  # the rest of English is untouched
    warnings = [r for r in caplog.records if "cancelled" in r.getMessage()]
    assert len(warnings) == 1  # once, not on every message


def test_other_languages_get_ukrainian() -> None:
    assert t("de", "cancelled") == "Скасовано."
    assert role_name("de", "parent") == "батьки"
    assert role_name("en", "class_teacher") == "class teacher"
    assert role_name("en", "janitor") == "janitor"


def test_texts_are_filled_in() -> None:
    assert t("en", "progress", n=2, total=7) == "Step 2 of 7"
    assert t("uk", "in_class", klass="7-А") == ", клас 7-А"


def _literal_keys() -> set[tuple[str, str]]:
    """Keys written out in the bot's code: t(lang, "key"), ctx.t("key"), PublishError("key")."""
    found = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else ""
            method = func.attr if isinstance(func, ast.Attribute) else ""
            if name == "t":
                index = 1  # t(lang, key)
            elif method == "t" or name == "PublishError":
                index = 0  # ctx.t(key), PublishError(key)
            else:
                continue
            if len(node.args) > index and isinstance(node.args[index], ast.Constant):
                found.add((str(path.relative_to(ROOT)), str(node.args[index].value)))
    return found


def test_every_key_the_code_names_is_in_the_catalog() -> None:
    used = _literal_keys()
    assert len(used) > 100
    missing = sorted((where, key) for where, key in used if key not in catalog("uk").texts)
    assert missing == []


def test_the_catalogs_ship_with_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["bot.texts"]
    shipped = {p.name for pattern in patterns for p in (ROOT / "bot" / "texts").glob(pattern)}
    assert shipped == {f"{lang}.yaml" for lang in LANGUAGES}


@pytest.mark.parametrize("lang", texts.LANGUAGES)
def test_the_plural_rules_are_babels(lang: str) -> None:
    """bot/texts keeps only CLDR's plural rules, not a whole Babel Locale: they must agree."""
    cldr = Locale.parse(lang).plural_form
    counts = [*range(0, 1001), 0.5, 1.0, 1.5, 2.25, 11.0, 21.5, 101.0]
    assert [texts.plural_category(lang, n) for n in counts] == [cldr(n) for n in counts]
