"""Which waves a report covers: a named wave, or each survey's open (else latest) wave."""

from __future__ import annotations

from datetime import UTC, datetime

from analytics.labels import COMPARED_ROLES, role_group
from storage.repositories.waves import WaveInfo

_FAR = datetime.max.replace(tzinfo=UTC)


class ReportError(Exception):
    """A report cannot be built as asked (unknown survey, wave or class): one clear line."""


def chronological(wave: WaveInfo) -> tuple[datetime, int]:
    # Imported waves are often created after newer bot waves; their timestamps order them.
    return (wave.opens_at or wave.closes_at or _FAR, wave.id)


def _survey_order(waves: list[WaveInfo]) -> tuple[int, str]:
    first = role_group(waves[0].audience[0]) if waves[0].audience else ""
    rank = COMPARED_ROLES.index(first) if first in COMPARED_ROLES else len(COMPARED_ROLES)
    return rank, waves[0].slug


def select_waves(
    all_waves: list[WaveInfo], survey_slugs: list[str] | None, wave_label: str | None
) -> list[WaveInfo]:
    """One wave per survey, teachers' survey first, then students', parents', others."""
    by_slug: dict[str, list[WaveInfo]] = {}
    for wave in sorted(all_waves, key=chronological):
        if wave.status != "scheduled":
            by_slug.setdefault(wave.slug, []).append(wave)
    if survey_slugs:
        unknown = [s for s in survey_slugs if s not in by_slug]
        if unknown:
            known = ", ".join(sorted(by_slug)) or "none"
            raise ReportError(
                f"no answered wave of survey '{unknown[0]}' (surveys with waves: {known})"
            )
        slugs = list(dict.fromkeys(survey_slugs))
    else:
        slugs = [w[0].slug for w in sorted(by_slug.values(), key=_survey_order)]
    chosen = []
    for slug in slugs:
        waves = by_slug[slug]
        if wave_label is not None:
            match = [w for w in waves if w.label == wave_label]
            if match:
                chosen.append(match[-1])
            elif survey_slugs and len(slugs) == 1:
                labels = ", ".join(w.label for w in waves)
                raise ReportError(f"survey '{slug}' has no wave '{wave_label}' (waves: {labels})")
            continue
        open_waves = [w for w in waves if w.status == "open"]
        chosen.append((open_waves or waves)[-1])
    if not chosen:
        raise ReportError(f"no survey has a wave '{wave_label}'" if wave_label else "no waves yet")
    if not survey_slugs:
        chosen.sort(key=lambda w: _survey_order([w]))
    return chosen


def previous_wave(all_waves: list[WaveInfo], wave: WaveInfo) -> WaveInfo | None:
    """The same survey's wave just before `wave` in time (scheduled waves do not count)."""
    earlier = [
        w
        for w in all_waves
        if w.slug == wave.slug
        and w.status != "scheduled"
        and chronological(w) < chronological(wave)
    ]
    return max(earlier, key=chronological) if earlier else None
