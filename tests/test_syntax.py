"""Compose's string syntax (hardener/syntax.py): the one splitter and the short-syntax readers."""
from __future__ import annotations

import pytest

from hardener.syntax import add_ro, image_tag, repository_name, split_outside, volume_parts


@pytest.mark.parametrize("text,sep,brackets,parts", [
    ("8080:80", ":", False, ["8080", "80"]),
    ("${HOST:-0.0.0.0}:8080:80", ":", False, ["${HOST:-0.0.0.0}", "8080", "80"]),
    ("${A:-${B:-x:y}}:z", ":", False, ["${A:-${B:-x:y}}", "z"]),
    ("[::1]:8080:80", ":", True, ["[::1]", "8080", "80"]),
    ("[::1]:8080:80", ":", False, ["[", "", "1]", "8080", "80"]),  # brackets only count for ports
    ("$$HOME:/x", ":", False, ["$$HOME", "/x"]),
    ("${UNCLOSED:/x", ":", False, ["${UNCLOSED:/x"]),
    ("registry:5000/team/app:${TAG:-1.0}", "/", False, ["registry:5000", "team", "app:${TAG:-1.0}"]),
    ("", ":", True, [""]),
])
def test_split_outside(text, sep, brackets, parts):
    assert split_outside(text, sep, brackets) == parts


@pytest.mark.parametrize("spec,parts", [
    ("./conf:/etc/app:ro", ["./conf", "/etc/app", "ro"]),
    ("C:\\data:/data", ["C:\\data", "/data"]),  # a Windows drive keeps its colon
    ("d:/data:/data:ro", ["d:/data", "/data", "ro"]),
    ("${DATA:-./data}:/data", ["${DATA:-./data}", "/data"]),
    ("/anonymous", ["/anonymous"]),
])
def test_volume_parts(spec, parts):
    assert volume_parts(spec) == parts


@pytest.mark.parametrize("spec,new", [
    ("./nginx.conf:/etc/nginx/nginx.conf", "./nginx.conf:/etc/nginx/nginx.conf:ro"),
    ("./data:/data:z", "./data:/data:ro,z"),
    ("./data:/data:rw", None),
    ("named:/data", None),  # a named volume, not a bind mount
    ("C:\\conf:/etc/app", None),
])
def test_add_ro(spec, new):
    assert add_ro(spec) == new


@pytest.mark.parametrize("image,name,tag", [
    ("docker.io/library/nginx:1.27@sha256:abc", "nginx", "1.27"),
    ("localhost:5000/team/app", "team/app", ""),
    ("postgres:${PG_VERSION:-16}", "postgres", "${PG_VERSION:-16}"),
])
def test_image_reference(image, name, tag):
    assert repository_name(image) == name
    assert image_tag(image) == tag
