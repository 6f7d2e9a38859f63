"""Renderers of a `Report`: one module per format, all reading the same plain data.

render(report, "text" | "json") -> str
render(report, "xlsx" | "docx" | "png") -> bytes
write_all(report, out_dir) -> list of written paths (report.json/.xlsx/.docx/.txt, charts)
"""

from __future__ import annotations

from pathlib import Path

from analytics.records import Report

FORMATS = ("text", "json", "xlsx", "docx", "png")


def render(report: Report, fmt: str) -> str | bytes:
    if fmt == "text":
        from analytics.reports.text import render_text

        return render_text(report)
    if fmt == "json":
        from analytics.reports.json_report import render_json

        return render_json(report)
    if fmt == "xlsx":
        from analytics.reports.xlsx import render_xlsx

        return render_xlsx(report)
    if fmt == "docx":
        from analytics.reports.docx_report import render_docx

        return render_docx(report)
    if fmt == "png":
        from analytics.reports.png import render_png

        return render_png(report)
    raise ValueError(f"unknown format '{fmt}' (expected one of {', '.join(FORMATS)})")


def charts(report: Report) -> dict[str, bytes]:
    from analytics.reports.png import charts as _charts

    return _charts(report)


def write_all(report: Report, out_dir: Path) -> list[Path]:
    """Write report.txt, report.json, report.xlsx, report.docx and the chart PNGs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str | bytes] = {
        "report.txt": render(report, "text"),
        "report.json": render(report, "json"),
        "report.xlsx": render(report, "xlsx"),
        "report.docx": render(report, "docx"),
        **charts(report),
    }
    written = []
    for name, content in files.items():
        path = out_dir / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        written.append(path)
    return written
