"""Small-group suppression: hide cells based on fewer than MIN_GROUP_SIZE people, and hide a
second cell wherever one hidden cell could otherwise be recovered by subtraction from a total.

Zeros stay visible ("nobody chose this" names no one), and a complementary cell is never a zero:
hiding a zero next to a small cell would let `total - shown` give the small cell back exactly.
"""

from __future__ import annotations

from collections.abc import Sequence


def is_small(count: int, k: int) -> bool:
    """A count that would single people out: 1..k-1."""
    return 0 < count < k


def suppress_line(counts: Sequence[int], k: int, additive: bool = True) -> list[bool]:
    """Hidden flags for one row whose cells add up to a shown total (`additive`), e.g. the
    options of a single-choice question and their `answered`.

    Multi-choice options do not add up to anything shown, so they only get primary suppression.
    """
    hidden = [is_small(c, k) for c in counts]
    if additive:
        _complement(counts, hidden)
    return hidden


def suppress_with_blocks(
    counts: Sequence[int], k: int, blocks: Sequence[Sequence[int]]
) -> tuple[list[bool], bool]:
    """Hidden flags for an additive row that also shows the totals of `blocks`, a partition of
    its cells (the positive options and the rest, whose sum the positive share reveals).

    Each block with a lone hidden cell hides its smallest non-zero visible cell; if a block has
    no such partner, the block totals are hidden instead (second value True) and the row falls
    back to plain complementary suppression.
    """
    hidden = [is_small(c, k) for c in counts]
    partners = []
    for block in blocks:
        lone = [i for i in block if hidden[i]]
        if len(lone) != 1:
            continue
        candidates = [(counts[i], i) for i in block if not hidden[i] and counts[i] > 0]
        if not candidates:
            # This block's total cannot be kept: hide the block totals, not more cells.
            _complement(counts, hidden)
            return hidden, True
        partners.append(min(candidates)[1])
    for index in partners:
        hidden[index] = True
    _complement(counts, hidden)
    return hidden, False


def _complement(counts: Sequence[int], hidden: list[bool]) -> bool:
    """If exactly one cell is hidden, hide the smallest non-zero visible one; True if so."""
    if sum(hidden) != 1:
        return False
    candidates = [(c, i) for i, c in enumerate(counts) if not hidden[i] and c > 0]
    if not candidates:
        return False
    hidden[min(candidates)[1]] = True
    return True


def suppress_columns(
    columns: Sequence[Sequence[int]], totals: Sequence[int], k: int
) -> tuple[list[list[bool]], list[bool]]:
    """Hidden flags for a table given by columns, each column adding up (about) to its shown total
    (e.g. completions per class of one role, and the school total of that role).

    A total itself is hidden when small, or when a lone hidden cell has no non-zero partner
    (then the total would be that cell).
    """
    flags: list[list[bool]] = []
    total_flags: list[bool] = []
    for column, total in zip(columns, totals, strict=True):
        hidden = [is_small(c, k) for c in column]
        total_hidden = is_small(total, k)
        if sum(hidden) == 1 and not _complement(column, hidden):
            total_hidden = True
        flags.append(hidden)
        total_flags.append(total_hidden)
    return flags, total_flags
