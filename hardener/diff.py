"""Unified diffs as a pure function of two texts."""
from __future__ import annotations

import bisect
import difflib
import os
import re
from collections import Counter
from typing import NamedTuple


class Comparison(NamedTuple):
    """Two texts split into lines and the opcodes that turn the first into the second (difflib's
    shape): computed once for both the diff and the line map of a dry run."""

    a: list[str]
    b: list[str]
    ops: list[tuple]


def compare(before: str, after: str) -> Comparison:
    a, b = lines(before), lines(after)
    return Comparison(a, b, _opcodes(a, b))


def unified(before: str, after: str, path: str, compared: Comparison | None = None) -> str:
    """A unified diff (a/ and b/ prefixes, three lines of context); '' when the texts are equal.
    `compared`: compare(before, after), when the caller has it already."""
    if before == after:
        return ""
    name = os.path.normpath(path).lstrip("/")
    a, b, ops = compared or compare(before, after)
    out = [f"--- a/{name}\n", f"+++ b/{name}\n"]
    for group in _grouped_opcodes(ops, 3):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                out += [" " + line for line in a[a1:a2]]
                continue
            out += ["-" + line for line in a[a1:a2]]
            out += ["+" + line for line in b[b1:b2]]
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def lines(text: str) -> list[str]:
    """The text's lines with their endings, split the way diff, git and patch split them: at \n,
    \r\n and \r only (str.splitlines also splits at U+2028, U+0085, \x0c... and a patch built on that
    does not apply)."""
    if text.isascii() and not any(c in text for c in "\x0b\x0c\x1c\x1d\x1e"):
        return text.splitlines(True)  # the same split, faster
    return _LINE.findall(text)


def _range(start: int, stop: int) -> str:
    """A hunk range as unified diffs write it (1-based; an empty range names the line before it)."""
    length = stop - start
    first = start + 1 if length else start
    return f"{first}" if length == 1 else f"{first},{length}"


def _anchors(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Lines that occur exactly once in each text, kept in an order both agree on (longest increasing
    subsequence, as patience diff does). Between two anchors difflib only sees a small stretch: its
    matcher is quadratic on long files with many repeated lines, such as compose files."""
    count_a, count_b = Counter(a), Counter(b)  # counted in C: a big file has a hundred thousand lines
    where_a = {line: i for i, line in enumerate(a) if count_a[line] == 1}
    pairs = [(where_a[line], j) for j, line in enumerate(b) if count_b[line] == 1 and line in where_a]
    # longest increasing subsequence of the a-indexes (pairs are in b order)
    tails: list[int] = []
    tail_at: list[int] = []
    back = [-1] * len(pairs)
    for k, (i, _) in enumerate(pairs):
        pos = bisect.bisect_left(tails, i)
        if pos == len(tails):
            tails.append(i)
            tail_at.append(k)
        else:
            tails[pos] = i
            tail_at[pos] = k
        back[k] = tail_at[pos - 1] if pos else -1
    chain, k = [], tail_at[-1] if tail_at else -1
    while k >= 0:
        chain.append(pairs[k])
        k = back[k]
    return chain[::-1]


def _opcodes(a: list[str], b: list[str]) -> list[tuple]:
    ops: list[tuple] = []
    i = j = 0
    for ai, bj in _anchors(a, b) + [(len(a), len(b))]:
        # most stretches between two anchors are empty or empty on one side (a file with a few lines
        # added): they need no matcher, and what one would answer is known
        if i == ai and j < bj:
            ops.append(("insert", i, i, j, bj))
        elif j == bj and i < ai:
            ops.append(("delete", i, ai, j, j))
        elif ai - i <= bj - j and b[j:j + ai - i] == a[i:ai]:
            # the same lines, or lines added after them (a fix appends to a block): the matcher's
            # longest match is all of a at the start of b, then nothing is left to match
            ops.append(("equal", i, ai, j, j + ai - i))
            ops.append(("insert", ai, ai, j + ai - i, bj))  # empty when nothing was added: dropped below
        elif i < ai:
            for tag, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a[i:ai], b[j:bj], autojunk=False).get_opcodes():
                ops.append((tag, a1 + i, a2 + i, b1 + j, b2 + j))
        if ai < len(a):
            ops.append(("equal", ai, ai + 1, bj, bj + 1))
        i, j = ai + 1, bj + 1
    merged: list[tuple] = []
    for op in ops:  # join neighbouring equal runs, drop empty ones
        if op[1] == op[2] and op[3] == op[4]:
            continue
        if merged and op[0] == "equal" and merged[-1][0] == "equal":
            merged[-1] = ("equal", merged[-1][1], op[2], merged[-1][3], op[4])
        else:
            merged.append(op)
    return merged or [("equal", 0, 0, 0, 0)]


def _grouped_opcodes(ops: list[tuple], n: int):
    """difflib's grouping of opcodes into hunks with n lines of context, on the anchored opcodes."""
    matcher = difflib.SequenceMatcher(None, [], [])
    matcher.get_opcodes = lambda: list(ops)  # difflib changes the first and last in place
    return matcher.get_grouped_opcodes(n)


def line_map(before: str, after: str, compared: Comparison | None = None):
    """A function from a 1-based line of `after` to (the line of `before` it comes from, whether that
    line is unchanged): the same line where the text is unchanged, the changed line (or the line the
    new ones follow) where it was edited; what a dry run reports is then at lines of the file as it is.
    `compared`: compare(before, after), when the caller has it already."""
    a, b, ops = compared or compare(before, after)
    ops = [op for op in ops if op[4] > op[3]]  # those that hold lines of `after`, in order
    starts = [op[3] for op in ops]

    def to_before(line: int) -> tuple[int, bool]:
        j = line - 1
        k = bisect.bisect_right(starts, j) - 1  # the one op whose lines of `after` may hold j
        if k >= 0 and j < ops[k][4]:
            tag, a1, a2, b1, b2 = ops[k]
            if tag == "equal":
                return a1 + (j - b1) + 1, True
            return ((a1 + min(j - b1, a2 - a1 - 1) + 1) if a2 > a1 else max(min(a1, len(a)), 1)), False
        return max(min(line, len(a)), 1), False

    return to_before
