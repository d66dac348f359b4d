"""hardener.diff: the anchored opcodes skip difflib's matcher only where its answer is known, and one
comparison serves both the diff and the line map of a dry run."""
import difflib
import random

from hardener import diff


def _opcodes_asking_the_matcher_everywhere(a, b):
    """diff._opcodes as it was before the empty stretches were skipped: every stretch between two
    anchors goes through difflib's matcher."""
    ops, i, j = [], 0, 0
    for ai, bj in diff._anchors(a, b) + [(len(a), len(b))]:
        for tag, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a[i:ai], b[j:bj], autojunk=False).get_opcodes():
            ops.append((tag, a1 + i, a2 + i, b1 + j, b2 + j))
        if ai < len(a):
            ops.append(("equal", ai, ai + 1, bj, bj + 1))
        i, j = ai + 1, bj + 1
    merged = []
    for op in ops:
        if op[1] == op[2] and op[3] == op[4]:
            continue
        if merged and op[0] == "equal" and merged[-1][0] == "equal":
            merged[-1] = ("equal", merged[-1][1], op[2], merged[-1][3], op[4])
        else:
            merged.append(op)
    return merged or [("equal", 0, 0, 0, 0)]


def _edited(rng, lines):
    """The lines with a few insertions, deletions and replacements, as fixes make them."""
    out = list(lines)
    for _ in range(rng.randint(0, 4)):
        at = rng.randint(0, len(out))
        kind = rng.choice(("insert", "delete", "replace"))
        new = [f"    new{rng.randint(0, 3)}: x\n" for _ in range(rng.randint(1, 3))]
        if kind == "insert" or not out:
            out[at:at] = new
        elif kind == "delete":
            del out[at:at + rng.randint(1, 2)]
        else:
            out[at:at + 1] = new
    return out


def test_skipping_the_matcher_gives_the_same_opcodes_as_asking_it():
    rng = random.Random(16)
    # few distinct lines: many repeats (as compose files have), so anchors are rare and stretches long
    alphabet = [f"  k{n}: v\n" for n in range(6)] + [f"  unique{n}: v\n" for n in range(40)]
    for _ in range(2000):
        a = [rng.choice(alphabet) for _ in range(rng.randint(0, 30))]
        b = _edited(rng, a) if rng.random() < 0.8 else [rng.choice(alphabet) for _ in range(rng.randint(0, 30))]
        assert diff._opcodes(a, b) == _opcodes_asking_the_matcher_everywhere(a, b), (a, b)


def test_lines_added_after_repeated_lines_give_the_matchers_opcodes():
    """The stretch between two anchors is its old lines followed by new ones (what most fixes do to a
    block): the opcodes are still the matcher's, also when the old lines come back among the new."""
    rng = random.Random(3)
    repeated = ["    restart: always\n", "    read_only: true\n", "      - ALL\n"]
    for _ in range(2000):
        a, b = [], []
        for block in range(rng.randint(1, 6)):
            head = f"  svc{block}:\n"  # unique: an anchor
            old = [rng.choice(repeated) for _ in range(rng.randint(0, 3))]
            new = [rng.choice(repeated + ["    cap_drop:\n", "    pids_limit: 512\n"]) for _ in range(rng.randint(0, 3))]
            a += [head] + old
            b += [head] + old + new
        assert diff._opcodes(a, b) == _opcodes_asking_the_matcher_everywhere(a, b), (a, b)


def test_one_comparison_serves_the_diff_and_then_the_line_map():
    """unified() must not change the opcodes it is handed (difflib's grouping edits its list in place):
    the line map made from the same comparison afterwards equals one made from scratch."""
    rng = random.Random(7)
    alphabet = [f"  k{n}: v\n" for n in range(5)] + [f"  unique{n}: v\n" for n in range(30)]
    for _ in range(500):
        a = [rng.choice(alphabet) for _ in range(rng.randint(1, 40))]
        before, after = "".join(a), "".join(_edited(rng, a))
        compared = diff.compare(before, after)
        assert diff.unified(before, after, "c.yaml", compared) == diff.unified(before, after, "c.yaml")
        shared, fresh = diff.line_map(before, after, compared), diff.line_map(before, after)
        for line in range(1, after.count("\n") + 2):
            assert shared(line) == fresh(line)
