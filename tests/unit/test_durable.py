"""Files rewritten whole (drills.durable.replaced): the old one or the new one, never part of one."""

import stat

import pytest

from drills.durable import replaced


def test_the_new_content_replaces_the_old_with_its_mode_and_no_draft_is_left(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text("old")
    with replaced(path, 0o600) as draft:
        draft.write("new")
        assert path.read_text() == "old", "nobody sees the draft"
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["tokens.json"]


def test_a_block_that_fails_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text("users: []\n")
    with pytest.raises(ValueError):
        with replaced(path) as draft:
            draft.write("half of a")
            raise ValueError("the draft would be refused")
    assert path.read_text() == "users: []\n"
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["users.yaml"]
