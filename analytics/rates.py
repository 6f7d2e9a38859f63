"""Response rates: completions over registered people, per class and role group, plus totals.

Small groups are protected as everywhere (analytics/suppression.py).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from analytics.aggregate import Scope
from analytics.labels import ROLE_GROUPS, role_group
from analytics.numbers import percent
from analytics.records import RateRow
from analytics.suppression import Slice, is_small
from storage.repositories import analytics as repo
from storage.repositories.school import class_names
from storage.repositories.waves import WaveInfo


def _groups(audience: tuple[str, ...], scope: Scope) -> list[str]:
    groups = list(dict.fromkeys(role_group(r) for r in audience))
    return [g for g in groups if scope.role is None or g == scope.role]


def response_rates(
    session: Session, wave: WaveInfo, scope: Scope, k: int, hidden: Collection[Slice] = ()
) -> list[RateRow]:
    """Rows per class and role group, then a total row (class_name None) per role group.

    A class is hidden (completed and rate None, `suppressed`) when 1 to k-1 of its people
    completed the wave, or when its slice of responses is hidden (`hidden`). The total row
    counts the other classes only (registered and completed alike, so that its rate is true)
    and names the classes it leaves out in `excluded`. An imported wave has no completions
    (people were not registered): one row per group with the rate not applicable.
    """
    groups = _groups(wave.audience, scope)
    if wave.source == "import":
        return [
            RateRow(wave.slug, wave.label, scope.class_name, g, None, None, None, note="import")
            for g in groups
        ]
    class_ids = [c for c in wave.class_ids if scope.class_id is None or c == scope.class_id]
    if not class_ids:
        return []
    names = class_names(session, class_ids)
    class_ids.sort(key=lambda c: names.get(c, ""))
    show_classes = len(class_ids) > 1
    rows: list[RateRow] = []
    for group in groups:
        roles = ROLE_GROUPS.get(group, (group,))
        registered = dict(repo.registered_by_class(session, class_ids, roles))
        completed = dict(repo.completed_by_class(session, wave.id, class_ids, roles))
        hidden_ids = {
            c for c in class_ids if is_small(completed.get(c, 0), k) or (c, group) in hidden
        }
        if show_classes:
            for class_id in class_ids:
                n = completed.get(class_id, 0)
                reg = registered.get(class_id, 0)
                h = class_id in hidden_ids
                rows.append(
                    RateRow(
                        wave.slug,
                        wave.label,
                        names.get(class_id, "?"),
                        group,
                        reg,
                        None if h else n,
                        None if h else percent(n, reg),
                        suppressed=h,
                    )
                )
        shown_ids = [c for c in class_ids if c not in hidden_ids]
        name = None if show_classes else names.get(class_ids[0])
        if not shown_ids:
            total_registered = repo.registered_total(session, class_ids, roles)
            rows.append(
                RateRow(wave.slug, wave.label, name, group, total_registered, None, None, True)
            )
            continue
        total_registered = repo.registered_total(session, shown_ids, roles)
        total_done = repo.completed_total(session, wave.id, shown_ids, roles)
        rows.append(
            RateRow(
                wave.slug,
                wave.label,
                name,
                group,
                total_registered,
                total_done,
                percent(total_done, total_registered),
                excluded=tuple(names.get(c, "?") for c in class_ids if c in hidden_ids),
            )
        )
    return rows
