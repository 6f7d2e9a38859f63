"""Response rates: completions over registered people, per class and role group, plus totals."""

from __future__ import annotations

from sqlalchemy.orm import Session

from analytics.aggregate import Scope
from analytics.labels import ROLE_GROUPS, role_group
from analytics.numbers import percent
from analytics.records import RateRow
from analytics.suppression import suppress_columns
from storage.repositories import analytics as repo
from storage.repositories.school import class_names
from storage.repositories.waves import WaveInfo


def _groups(audience: tuple[str, ...], scope: Scope) -> list[str]:
    groups = list(dict.fromkeys(role_group(r) for r in audience))
    return [g for g in groups if scope.role is None or g == scope.role]


def response_rates(session: Session, wave: WaveInfo, scope: Scope, k: int) -> list[RateRow]:
    """Rows per class and role group, then a total row (class_name None) per role group.

    An imported wave has no completions (people were not registered): one row per group with
    the rate not applicable.
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
    rows: list[RateRow] = []
    for group in groups:
        roles = ROLE_GROUPS.get(group, (group,))
        registered = dict(repo.registered_by_class(session, class_ids, roles))
        completed = dict(repo.completed_by_class(session, wave.id, class_ids, roles))
        done = [completed.get(c, 0) for c in class_ids]
        total_registered = repo.registered_total(session, class_ids, roles)
        total_done = repo.completed_total(session, wave.id, class_ids, roles)
        show_classes = len(class_ids) > 1
        if show_classes:
            (hidden,), (total_hidden,) = suppress_columns([done], [total_done], k)
        else:
            hidden, total_hidden = [], total_done < k and total_done > 0
        if show_classes:
            for class_id, n, h in zip(class_ids, done, hidden, strict=True):
                reg = registered.get(class_id, 0)
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
        rows.append(
            RateRow(
                wave.slug,
                wave.label,
                names.get(class_ids[0]) if not show_classes else None,
                group,
                total_registered,
                None if total_hidden else total_done,
                None if total_hidden else percent(total_done, total_registered),
                suppressed=total_hidden,
            )
        )
    return rows
