"""engine._Taken.holds_all remembers that a shared fix's edits were all taken and looks only at the
chosen edits merges removed since: its answer must be all(e in taken for e in edits) after any
sequence of additions and merges, including edits equal to (not the same object as) a removed one."""
from __future__ import annotations

import random

from hardener.engine import _Taken
from hardener.yamltext import Edit


def insertion(at: int, key: str) -> Edit:
    return Edit(at, at, f"{key}: 1\n", (("services", f"s{at}", key),))


def test_holds_all_after_a_merge_removes_one_of_the_edits():
    taken = _Taken()
    shared = tuple(insertion(at, "networks") for at in range(0, 50, 10))
    assert not taken.holds_all(shared)
    for e in shared:
        taken.add(e)
    assert taken.holds_all(shared)
    other = insertion(7, "cap_drop")
    taken.add(other)
    taken.replace(other, insertion(7, "cap_add"))  # a merge elsewhere: the shared edits are all still taken
    assert taken.holds_all(shared)
    taken.replace(insertion(20, "networks"), insertion(20, "deploy"))  # an equal edit of the shared fix goes
    assert not taken.holds_all(shared)
    taken.add(insertion(20, "networks"))  # and comes back
    assert taken.holds_all(shared)


def test_holds_all_equals_asking_each_edit():
    rng = random.Random(16)
    pool = [insertion(at, key) for at in range(0, 40) for key in ("networks", "deploy")]
    fixes = [tuple(rng.sample(pool, rng.randint(1, 12))) for _ in range(30)]
    taken = _Taken()
    for _ in range(3000):
        step = rng.random()
        if step < 0.5:
            taken.add(rng.choice(pool))
        elif step < 0.7 and taken.edits:
            old = rng.choice(taken.edits)
            new = rng.choice(pool)
            if old != new and new not in taken:
                taken.replace(old, new)
        fix = rng.choice(fixes)
        assert taken.holds_all(fix) == all(e in taken for e in fix)
