"""Every YAML and text-layout detail of hardener lives in this package.

The file is never dumped by a YAML emitter. ruamel.yaml (its libyaml-based C parser when
``ruamel.yaml.clib`` is installed) only reports *events* with exact character positions; this package
builds a small node tree from them and turns each fix into a text edit at those positions. Lines that no
edit touches therefore stay byte-identical: comments, quotes, indentation, anchors, key order, blank
lines, ``---`` and line endings. After the edits the text is parsed again and compared with the
original, so an edit that would change anything it did not mean to is refused rather than written.

Why not ruamel's round-trip dumper: measured on the shared corpus, a plain load+dump changes 239 of
277 files before any edit (re-indentation, comment columns, wrapped lines, mixed CRLF).

The package, by layer (each imports only the ones above it):

- `nodes.py`: the node tree (`Scalar`, `Seq`, `Map`, `Alias`), `deref`, `scalar_value`, merge keys;
- `parsing.py`: `decode`, `parse` (parser events -> nodes with positions), `Document` and its `Layout`;
- `verify.py`: `unexpected_changes` (and `raw`, `changed_paths`): what edits changed;
- `edits.py`: `Edit`, the builders (`add_entries`, `replace_scalar`...), `apply_edits`, `comments`.

Everything is re-exported here: callers import from `hardener.yamltext`, never from its modules.
"""
from __future__ import annotations

from .nodes import (  # noqa: F401
    Alias, deref, Map, merged_entry, merged_keys, Node, Scalar, scalar_value, Seq, YamlInputError
)
from .parsing import (  # noqa: F401
    decode, Document, Layout, MAX_DEPTH, MAX_EXPANDED_NODES, parse
)
from .verify import (  # noqa: F401
    changed_paths, digest, raw, unexpected_changes, unexpected_changes_from
)
from .edits import (  # noqa: F401
    add_entries, add_items, add_under, apply_edits, _comment_of, comments, content_end, Edit, EditConflict,
    fill_null, flow_text, merge_inserts, plain_safe, quoted, remove_entry, remove_item, render_block, render_flow,
    render_item, replace_scalar, scalar_text, Verbatim
)
