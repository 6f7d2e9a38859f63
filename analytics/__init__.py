"""classpulse analytics: aggregate waves into one report, render it, import Forms exports.

The rest of the app calls only these:

    report = build_report(db, options)                      # every survey's open/last wave
    report = build_report(db, options, ["assessment-students"], wave_label="2024-2025",
                          class_name="7-А", role=None)
    summary: str = render(report, "text")                   # the director's messenger summary
    data: str = render(report, "json")                      # also "xlsx" | "docx" | "png" -> bytes
    paths = write_all(report, Path("out"))                  # report.txt/.json/.xlsx/.docx, charts
    result = import_forms(db, options, Path("export.csv"), "assessment-teachers", "2024-2025")

Errors a user can cause raise ReportError or ImportFailed with a one-line message.
Counting happens in the database (storage/repositories/analytics.py); plain Python sums the
small aggregated rows (no pandas: a CLI report is one process, and importing pandas cost more
than all its counting). A group of respondents (class x role) smaller than
`options.min_group_size` is hidden and left out of every figure of every report, so that no
subtraction can give it back; shown groups show every count (see analytics/suppression.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analytics.forms_import import ImportFailed, ImportResult, import_forms
    from analytics.options import AnalyticsOptions
    from analytics.records import Report
    from analytics.report_model import build_report
    from analytics.reports import FORMATS, charts, render, write_all
    from analytics.waves_select import ReportError

# Each name loads its module when first used: a report does not load the Forms import, an
# import does not load the renderers (a CLI command is one process: what it loads, it pays).
_WHERE = {
    "ImportFailed": "analytics.forms_import",
    "ImportResult": "analytics.forms_import",
    "import_forms": "analytics.forms_import",
    "AnalyticsOptions": "analytics.options",
    "Report": "analytics.records",
    "build_report": "analytics.report_model",
    "FORMATS": "analytics.reports",
    "charts": "analytics.reports",
    "render": "analytics.reports",
    "write_all": "analytics.reports",
    "ReportError": "analytics.waves_select",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'analytics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "FORMATS",
    "AnalyticsOptions",
    "ImportFailed",
    "ImportResult",
    "Report",
    "ReportError",
    "build_report",
    "charts",
    "import_forms",
    "render",
    "write_all",
]
