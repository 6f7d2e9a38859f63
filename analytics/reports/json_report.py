"""JSON rendering of a Report (machine-checked shape).

    {"school", "generated_at", "min_group_size", "class", "role",
     "surveys": [{"id", "title", "wave", "status", "source", "respondents",
                  "respondents_by_role": {role: n},
                  "questions": [{"id", "number", "title", "kind", "construct", "answered",
                                 "suppressed", "positive_percent",
                                 "options": [{"label", "count", "percent", "suppressed"}],
                                 "other": {...} (only allow_other questions),
                                 "texts": [...], "texts_hidden": n}]}],
     "gaps": [{"construct", "title", "positive": {"teacher", "student", "parent"},
               "answered": {...}, "max_gap_pp", "high", "low"}],
     "response_rates": [{"survey", "wave", "class", "role", "registered", "completed",
                         "rate", "suppressed", "note"}],
     "trend": [{"survey", "wave", "previous_wave",
                "options": [{"question_id", "number", "label", "previous", "current",
                             "change_pp"}],
                "constructs": [{"construct", "role", "previous", "current", "change_pp"}]}]}

Percentages are 0-100 with one decimal. A suppressed cell (fewer than `min_group_size` people,
or hidden so that it cannot be recovered by subtraction) has "count": null, "percent": null and
"suppressed": true; null with "suppressed": false means "not applicable" (e.g. no rate for an
imported wave, note "import").
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from analytics.labels import construct_uk
from analytics.records import OptionResult, QuestionResult, Report


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
        "suppressed": q.suppressed,
        "positive_percent": q.positive_percent,
        "options": [_option(o) for o in q.options],
    }
    if q.other is not None:
        data["other"] = _option(q.other)
    if q.kind == "text" or q.other is not None:
        data["texts"] = list(q.texts)
        data["texts_hidden"] = q.texts_hidden
    return data


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "school": report.school_name,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "min_group_size": report.min_group_size,
        "class": report.class_name,
        "role": report.role,
        "respondents": report.respondents,
        "surveys": [
            {
                "id": s.id,
                "title": s.title,
                "wave": s.wave,
                "status": s.status,
                "source": s.source,
                "respondents": s.respondents,
                "respondents_by_role": s.respondents_by_role,
                "questions": [_question(q) for q in s.questions],
            }
            for s in report.surveys
        ],
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
            }
            for r in report.response_rates
        ],
        "trend": [asdict(t) for t in report.trend],
    }


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2)
