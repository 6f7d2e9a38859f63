"""`classpulse report` and `classpulse import-forms`: parse options, call analytics, print."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.app import AppContext, fail, main, pass_app
from bot.texts import t

_BINARY = ("xlsx", "docx", "png")


@main.command("report")
@click.option("--survey", "surveys", multiple=True, help="Survey id (repeatable).")
@click.option("--all", "all_surveys", is_flag=True, help="Every survey's open or latest wave.")
@click.option("--wave", "wave_label", help="Wave label, e.g. 2024-2025 (default: open/latest).")
@click.option("--class", "class_name", help="Only this class, e.g. 7-А.")
@click.option("--role", type=click.Choice(["teacher", "student", "parent"]), help="Only this role.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "xlsx", "docx", "png", "all"]),
    default="text",
    show_default=True,
    help="'all' writes every format into the --out directory.",
)
@click.option("--out", default="-", show_default=True, help="File or directory; '-' = stdout.")
@pass_app
def report(
    app: AppContext,
    surveys: tuple[str, ...],
    all_surveys: bool,
    wave_label: str | None,
    class_name: str | None,
    role: str | None,
    fmt: str,
    out: str,
) -> None:
    """Build the survey report (text for the director, JSON, XLSX, DOCX "Довідка", PNG charts)."""
    from analytics import AnalyticsOptions, ReportError, build_report, charts, render, write_all

    if not surveys and not all_surveys:
        fail("give --survey ID (repeatable) or --all")
    if surveys and all_surveys:
        fail("give either --survey or --all, not both")
    try:
        result = build_report(
            app.db,
            AnalyticsOptions(
                school_name=app.settings.school_name,
                tz=app.settings.tz,
                min_group_size=app.settings.min_group_size,
            ),
            list(surveys) or None,
            wave_label=wave_label,
            class_name=class_name,
            role=role,
            now=app.clock(),
        )
    except ReportError as exc:
        fail(str(exc))
    if fmt == "all":
        if out == "-":
            fail("--format all needs --out DIRECTORY")
        for path in write_all(result, Path(out)):
            click.echo(f"wrote {path}")
        return
    if out == "-":
        if fmt in _BINARY:
            fail(f"--format {fmt} needs --out FILE")
        click.echo(render(result, fmt))
        return
    target = Path(out)
    if fmt == "png" and (target.is_dir() or out.endswith(("/", "\\"))):
        target.mkdir(parents=True, exist_ok=True)
        for name, data in charts(result).items():
            (target / name).write_bytes(data)
            click.echo(f"wrote {target / name}")
        return
    if fmt == "png" and len(result.surveys) > 1 and not result.ranked_gaps():
        fail("several surveys make several charts: give a directory as --out")
    content = render(result, fmt)
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content + ("\n" if fmt == "text" else ""), encoding="utf-8")
    survey_count = t("en", "count_surveys", count=len(result.surveys))
    responses = t("en", "count_responses", count=result.respondents)
    click.echo(f"wrote {target} ({survey_count}, {responses})")


@main.command("import-forms")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--survey", "survey", required=True, help="Survey id, e.g. assessment-teachers.")
@click.option("--wave", "wave_label", help="Wave label (default: the school year, e.g. 2024-2025).")
@pass_app
def import_forms_command(app: AppContext, file: Path, survey: str, wave_label: str | None) -> None:
    """Import a Google Forms responses export (CSV or XLSX) as a closed wave of SURVEY."""
    from analytics import AnalyticsOptions, ImportFailed, import_forms

    try:
        settings = app.settings
        options = AnalyticsOptions(
            school_name=settings.school_name, tz=settings.tz, min_group_size=settings.min_group_size
        )
        result = import_forms(app.db, options, file, survey, wave_label)
    except ImportFailed as exc:
        fail("\n".join(exc.lines()))
    for line in result.lines():
        click.echo(line)
