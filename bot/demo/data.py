"""Answer frequencies for the demo's simulated people, from the school's report.

Counts per option come from the report where it gives them (see questionnaires.md, "The
report's figures, as counts"); questions the report does not quantify get plausible weights.
`answered` < respondents means some people skipped that (optional) question.
"""

from __future__ import annotations

# survey id -> question id -> (answered, respondents, counts per option)
SEED_COUNTS: dict[str, dict[str, tuple[int, int, list[int]]]] = {
    "assessment-teachers": {
        "q2": (22, 31, [13, 14, 15, 14, 5, 16, 9, 15, 19]),
        "q3": (31, 31, [19, 13, 24, 27]),
        "q4": (22, 31, [20, 16, 3, 4]),
        "q6": (31, 31, [29, 21, 24, 17, 15, 11]),
        "q7": (31, 31, [25, 6, 0, 0]),
        "q8": (31, 31, [9, 14, 8, 0]),
    },
    "assessment-students": {
        "q2": (71, 71, [18, 24, 13, 16]),
        "q3": (71, 71, [16, 27, 18, 10]),
        "q5": (71, 71, [18, 15, 14, 24]),
        "q6": (71, 71, [12, 13, 24, 22]),
        "q9": (71, 71, [52, 20, 14, 17, 9, 8]),
        "q10": (71, 71, [30, 21, 38, 9, 12]),
        "q11": (67, 71, [19, 36, 12]),
        "q12": (71, 71, [11, 26, 20, 14]),
    },
    "assessment-parents": {
        "q1": (80, 80, [29, 24, 4, 23]),
        "q2": (80, 80, [12, 49, 3, 16]),
        "q4": (80, 80, [55, 31, 22, 38, 26, 9]),
        "q5": (80, 80, [23, 29, 11, 17]),
        "q6": (80, 80, [7, 34, 18, 21]),
        "q7": (80, 80, [14, 33, 22, 11]),
        "q8": (30, 80, []),
    },
}

PARENT_SUGGESTIONS = [
    "Більше індивідуального підходу до кожної дитини.",
    "Чітко пояснювати дітям критерії оцінювання перед контрольною.",
    "Оцінювати об'єктивно і пояснювати, за що поставлена оцінка.",
    "Надсилати критерії у групу класу, щоб ми теж їх бачили.",
    "Більше розуміти учнів і підтримувати їх.",
    "Претензій немає, все влаштовує.",
]

# The seed school's head counts; the demo scales families to --families.
TEACHERS = 31
STUDENTS_PER_80_PARENTS = 71
CLASSES = ["5-А", "6-А", "7-А", "7-Б", "8-А", "9-А"]
