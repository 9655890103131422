"""Report templates are read at every study opened: a file is parsed again only when its bytes changed."""

from __future__ import annotations

import shutil

import pytest

from workstation.reporting.templates import TEMPLATES_DIR, TemplateError, builtin_templates, load_template


def test_unchanged_templates_are_the_same_objects_changed_ones_are_read_again(tmp_path):
    for path in TEMPLATES_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    first = builtin_templates(tmp_path)
    again = builtin_templates(tmp_path)
    assert set(first) == set(again) and all(again[k] is first[k] for k in first)
    path = first["general"].path
    text = path.read_text(encoding="utf-8")
    title = first["general"].title
    changed = "X" * len(title)  # the same length: the file's size does not tell
    path.write_text(text.replace(f'"{title}"', f'"{changed}"', 1), encoding="utf-8")
    assert builtin_templates(tmp_path)["general"].title == changed


def test_a_broken_template_fails_every_time(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(TemplateError, match="cannot read template"):
            load_template(path)
