"""JSON rendering of a Report (machine-checked shape).

    {"school", "generated_at", "min_group_size", "class", "role", "respondents",
     "surveys": [{"id", "title", "wave", "status", "source",
                  "respondents" (null when suppressed), "suppressed",
                  "respondents_by_role": {role: n},
                  "hidden_groups": [{"class", "role", "reason", "note"}],
                  "questions": [{"id", "number", "title", "kind", "construct", "answered",
                                 "positive_percent",
                                 "options": [{"label", "count", "percent"}],
                                 "other": {...} (only allow_other questions),
                                 "texts": [{"text", "count"}], "texts_hidden": n}]}],
     "gaps": [{"construct", "title", "positive": {"teacher", "student", "parent"},
               "answered": {...}, "questions": {role: [numbers]}, "max_gap_pp", "high", "low"}],
     "response_rates": [{"survey", "wave", "class", "role", "registered", "completed",
                         "rate", "suppressed", "note", "excluded"}],
     "trend": [{"survey", "wave", "previous_wave",
                "options": [{"question_id", "number", "label", "previous", "current",
                             "change_pp"}],
                "constructs": [{"construct", "role", "previous", "current", "change_pp"}]}],
     "criteria_vs_understanding": [{"class_name", "families", "confirmed",
                                    "confirmed_percent", "understanding_answered",
                                    "understanding_percent", "gap_pp", "confirmed_hidden"}]}

"criteria_vs_understanding" (per class, largest gap first): family members who confirmed (✅)
every current criteria notice they received, beside the positive share on
`criteria_understanding`; a class with fewer family recipients than `min_group_size` has
"confirmed_hidden": true and nulls (analytics/criteria_gap.py).

Percentages are 0-100 with one decimal. Every number is over the shown groups of respondents:
a group (class x role) smaller than `min_group_size` is listed in "hidden_groups" ("reason":
"small_group", "note": "група менша за 5 осіб") and counts in no number at all; a survey whose
every group is hidden has "suppressed": true, "respondents": null and no questions. A response
rate row of a hidden class has "completed" and "rate" null with "suppressed": true, and a total
row lists the classes it leaves out in "excluded"; null with "suppressed": false means "not
applicable" (e.g. no rate for an imported wave, note "import").
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from analytics.labels import construct_uk, small_group_uk
from analytics.records import OptionResult, QuestionResult, Report, SurveyResult


def _option(option: OptionResult) -> dict[str, Any]:
    return asdict(option)


def _question(q: QuestionResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": q.id,
        "number": q.number,
        "title": q.title,
        "kind": q.kind,
        "construct": q.construct,
        "answered": q.answered,
        "positive_percent": q.positive_percent,
        "options": [_option(o) for o in q.options],
    }
    if q.other is not None:
        data["other"] = _option(q.other)
    if q.kind == "text" or q.other is not None:
        data["texts"] = [{"text": t.text, "count": t.count} for t in q.texts]
        data["texts_hidden"] = q.texts_hidden
    return data


def _survey(s: SurveyResult, k: int) -> dict[str, Any]:
    return {
        "id": s.id,
        "title": s.title,
        "wave": s.wave,
        "status": s.status,
        "source": s.source,
        "respondents": None if s.suppressed else s.respondents,
        "suppressed": s.suppressed,
        "respondents_by_role": s.respondents_by_role,
        "hidden_groups": [
            {"class": g.class_name, "role": g.role, "reason": g.reason, "note": small_group_uk(k)}
            for g in s.hidden_groups
        ],
        "questions": [_question(q) for q in s.questions],
    }


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "school": report.school_name,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "min_group_size": report.min_group_size,
        "class": report.class_name,
        "role": report.role,
        "respondents": None if all(s.suppressed for s in report.surveys) else report.respondents,
        "surveys": [_survey(s, report.min_group_size) for s in report.surveys],
        "gaps": [{**asdict(g), "title": construct_uk(g.construct)} for g in report.gaps],
        "response_rates": [
            {
                "survey": r.survey,
                "wave": r.wave,
                "class": r.class_name,
                "role": r.role,
                "registered": r.registered,
                "completed": r.completed,
                "rate": r.rate,
                "suppressed": r.suppressed,
                "note": r.note,
                "excluded": list(r.excluded),
            }
            for r in report.response_rates
        ],
        "trend": [asdict(t) for t in report.trend],
        "criteria_vs_understanding": [asdict(r) for r in report.criteria_vs_understanding],
    }


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2)
