"""Ukrainian names for roles and constructs, and the role groups compared in gaps."""

from __future__ import annotations

from analytics.plural import count_uk

# Roles compared across surveys; a class teacher answers the teachers' survey as a teacher.
ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "teacher": ("teacher", "class_teacher"),
    "student": ("student",),
    "parent": ("parent",),
}
COMPARED_ROLES = tuple(ROLE_GROUPS)

ROLE_UK = {"teacher": "вчителі", "student": "учні", "parent": "батьки"}
ROLE_UK_GENITIVE = {"teacher": "вчителів", "student": "учнів", "parent": "батьків"}

CONSTRUCT_UK = {
    "criteria_understanding": "Розуміння критеріїв оцінювання",
    "criteria_informed": "Інформування про критерії оцінювання",
    "criteria_sources": "Джерела інформації про критерії",
    "criteria_timing": "Коли повідомляють критерії",
    "fairness": "Справедливість і задоволеність оцінюванням",
    "outcomes": "Вплив оцінювання на результати",
    "confidence": "Впевненість у власних можливостях",
    "self_assessment": "Самооцінювання",
    "support": "Підтримка здобувачів освіти",
    "formative": "Формувальне оцінювання",
    "suggestions": "Зауваження та пропозиції",
}


def role_group(role: str) -> str:
    """The compared group of a stored role (class_teacher -> teacher); others stay as they are."""
    for group, roles in ROLE_GROUPS.items():
        if role in roles:
            return group
    return role


def construct_uk(construct: str) -> str:
    return CONSTRUCT_UK.get(construct, construct.replace("_", " "))


def role_uk(group: str) -> str:
    return ROLE_UK.get(group, group)


def small_group_uk(k: int) -> str:
    """Why a group is hidden: "група менша за 5 осіб"."""
    return f"група менша за {count_uk(k, 'особу', 'особи', 'осіб')}"


def group_uk(class_name: str | None, role: str) -> str:
    """A group of respondents: "7-А, учні"; "вчителі (без класу)" when it has no class."""
    return f"{class_name}, {role_uk(role)}" if class_name else f"{role_uk(role)} (без класу)"


_UK_ALPHABET = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
_UK_ORDER = {c: 0x400 + i for i, c in enumerate(_UK_ALPHABET)}


def uk_sort_key(text: str) -> tuple[int, ...]:
    """Alphabetical order of Ukrainian text (і, ї, є, ґ in their places, not after я)."""
    return tuple(_UK_ORDER.get(c, ord(c)) for c in text.casefold())
