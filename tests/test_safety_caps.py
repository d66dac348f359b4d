"""CAP002's safety class of issue 10: a database whose root entrypoint hands a private data folder to
its own user needs DAC_READ_SEARCH or DAC_OVERRIDE after cap_drop ALL; the fix swaps the dangerous one
for the default one instead of removing it. Before/after pairs through the public API, the fixed
files given to the real Compose; the engine proof is in tests/test_safety_runtime.py."""
from __future__ import annotations

import pytest

from conftest import assert_fixes, assert_no_fix, fix_text, y
from hardener.images import facts


def _db(image: str, *cap_lines: str, drop: str = "    cap_drop: [ALL]") -> str:
    return y("services:", "  db:", f"    image: {image}", *([drop] if drop else []), *cap_lines)


PICKED = ("    cap_add:", "      - CHOWN", "      - DAC_READ_SEARCH  # the entrypoint's chown", "      - FOWNER",
          "      - SETGID", "      - SETUID")
SWAPPED = tuple(line.replace("DAC_READ_SEARCH", "DAC_OVERRIDE") for line in PICKED)


@pytest.mark.parametrize("image", ["postgres:16", "docker.io/library/postgres:16-alpine", "pgvector/pgvector:pg16",
                                   "timescale/timescaledb:latest-pg16", "ghcr.io/immich-app/postgres:14",
                                   "mariadb:11", "mysql:8.4"])
def test_a_database_entrypoints_dac_read_search_is_swapped_for_dac_override(compose_check, image):
    remaining, fixed = assert_fixes(_db(image, *PICKED), _db(image, *SWAPPED), rule="CAP002", unsafe=True)
    assert "DAC_OVERRIDE" in fixed[0].message and "removing it would stop the database" in fixed[0].message
    assert fixed[0].fix.description == "replace DAC_READ_SEARCH by DAC_OVERRIDE in cap_add"
    code, model, err = compose_check(_db(image, *SWAPPED))
    assert code == 0, err
    assert set(model["services"]["db"]["cap_add"]) == {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}


@pytest.mark.parametrize("before, after", [
    ('    cap_add: ["cap_dac_read_search", CHOWN]', '    cap_add: ["cap_dac_override", CHOWN]'),
    ("    cap_add: [CAP_DAC_READ_SEARCH]", "    cap_add: [CAP_DAC_OVERRIDE]"),  # alone: a swap never empties
], ids=["flow-lower-case", "only-item"])
def test_the_swap_keeps_the_writers_spelling(before, after):
    assert_fixes(_db("postgres:16", before), _db("postgres:16", after), rule="CAP002", unsafe=True)


def test_when_dac_override_is_kept_dac_read_search_is_only_removed():
    """Not dropped (Docker's default set keeps DAC_OVERRIDE) or listed: removing is enough, and said."""
    for drop, caps in (("", ["    cap_add: [DAC_READ_SEARCH, CHOWN]"]),
                       ("    cap_drop: [ALL]", ["    cap_add: [DAC_OVERRIDE, DAC_READ_SEARCH, CHOWN]"])):
        before = _db("postgres:16", *caps, drop=drop)
        _, fixed = assert_fixes(before, before.replace("DAC_READ_SEARCH, ", ""), rule="CAP002", unsafe=True)
        assert fixed[0].message.endswith("the service keeps DAC_OVERRIDE, which is enough")


@pytest.mark.parametrize("image, user", [("myorg/app", None), ("redis:7", None), ("bitnami/postgresql:16", None),
                                         ("postgres:16", "999:999")])
def test_other_images_and_users_just_lose_dac_read_search(image, user):
    """No private data folder handed over by a root entrypoint: the old removal, the old message."""
    extra = [f'    user: "{user}"'] if user else []
    before = _db(image, *extra, "    cap_add: [DAC_READ_SEARCH, CHOWN]")
    _, fixed = assert_fixes(before, before.replace("DAC_READ_SEARCH, ", ""), rule="CAP002", unsafe=True)
    assert "DAC_OVERRIDE" not in fixed[0].message


def test_a_swap_is_not_made_through_an_anchor_or_a_merge():
    text = y("x-caps: &caps", "  cap_drop: [ALL]", "  cap_add: [CHOWN, DAC_READ_SEARCH, FOWNER, SETGID, SETUID]",
             "services:", "  db:", "    <<: *caps", "    image: postgres:16")
    assert_no_fix(text, rule="CAP002", message="swap it for DAC_OVERRIDE")


def test_the_swap_is_stable_with_cap001_and_the_profile():
    """CAP001 and CAP002 together leave a postgres service with one DAC_OVERRIDE and no DAC_READ_SEARCH."""
    before = _db("postgres:16", *PICKED)
    _, _, out = fix_text(before, ["CAP001", "CAP002"])
    assert "DAC_READ_SEARCH" not in out and out.count("DAC_OVERRIDE") == 1
    assert fix_text(out, ["CAP001", "CAP002"])[2] == out


def test_the_knowledge_names_the_private_data_folders_with_sources():
    for name in ("postgres", "pgvector/pgvector", "zulip/zulip-postgresql", "mysql", "mariadb"):
        assert facts(name).root_chowns, name
    assert facts("redis").root_chowns is None and facts("nginx").root_chowns is None
