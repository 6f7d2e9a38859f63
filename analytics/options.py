"""What analytics needs to know about the school, passed in by the caller.

Analytics knows no messenger and no bot: the CLI, the jobs and the demo build this from their
settings::

    AnalyticsOptions(school_name=settings.school_name, tz=settings.tz,
                     min_group_size=settings.min_group_size)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo


@dataclass(frozen=True)
class AnalyticsOptions:
    """`school_name`: the report's title and the school of imported classes; `tz`: the zone
    the report's date and imported timestamps are read in; `min_group_size`: the smallest group
    of respondents whose answers a report may show (see analytics/suppression.py)."""

    school_name: str
    tz: tzinfo
    min_group_size: int = 5

    def __post_init__(self) -> None:
        if self.min_group_size < 1:
            raise ValueError(f"min_group_size must be at least 1, not {self.min_group_size}")
