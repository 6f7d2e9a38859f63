"""Small-group protection: which groups of respondents a report may use at all.

The unit of protection is a *slice*: the respondents of one wave in one class (or without a
class, e.g. teachers answering school-wide) with one role group (teacher / student / parent).
Every report the product makes (school, one class, one role, one class and role, any wave, the
trend against the previous wave, in text / JSON / XLSX / DOCX / PNG) is built from slices.

The rule, with k = `min_group_size`:

1. A slice with 1 to k-1 respondents is *hidden*. Nothing of it is shown anywhere: not its
   respondents, not who answered a question, not an option count, not a free text, not its
   completions in the response rates. Reports name it ("7-А, учні: група менша за 5 осіб"),
   which says only that it has 1 to k-1 respondents.
2. A hidden slice is also left out of every total: a school, class or role figure is the sum
   over the *shown* slices in its scope, never the whole population minus something. (This is
   "withhold the total": the total including the hidden slice is never published, and the
   figures say they leave hidden groups out.)
3. Within the shown slices every count is shown, zeros included; there is no per-cell
   suppression.

Why this is enough: every published number is a sum over shown slices, and any shown slice can
be published on its own (a class-and-role report), so any combination of published numbers
(sums, differences, percentages, across formats and reports) is a combination of shown slices'
data. A hidden slice's answers enter no published number, so no subtraction can recover them.
Classic complementary cell suppression (hide a second slice so that "total minus shown" gives
only a sum of two) would keep school totals complete, but in a table with class, role and
school margins, and with per-role construct shares and response rates beside it, a second
hidden cell per row is not in general enough; leaving hidden slices out of every total is
simpler and provably safe.

Response rates follow the same rule per class and role: a class whose completions (or whose
slice of responses) are 1 to k-1 is hidden, and the total row covers the other classes and
says which it leaves out. Zero is shown: "nobody" names no one.

Free texts have a second threshold (analytics/distribution.py): quoted only when at least
max(10, k) people of the shown slices wrote one.

Not covered: comparing reports made at different times on a growing open wave (who answered
between two digests) is outside what a report can prevent.
"""

from __future__ import annotations

from collections.abc import Mapping

# (class id or None for respondents without a class, role group)
Slice = tuple[int | None, str]


def is_small(count: int, k: int) -> bool:
    """A count that would single people out: 1..k-1 (zero names no one)."""
    return 0 < count < k


def split_slices(respondents: Mapping[Slice, int], k: int) -> tuple[dict[Slice, int], list[Slice]]:
    """(shown slices with their respondents, hidden slices), in a stable order."""
    shown: dict[Slice, int] = {}
    hidden: list[Slice] = []
    for key in sorted(respondents, key=lambda s: (s[0] is None, s[0] or 0, s[1])):
        n = respondents[key]
        if is_small(n, k):
            hidden.append(key)
        elif n > 0:
            shown[key] = n
    return shown, hidden
