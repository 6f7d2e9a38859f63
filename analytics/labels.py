"""Ukrainian names for roles and constructs, and the role groups compared in gaps."""

from __future__ import annotations

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
