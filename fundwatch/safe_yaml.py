"""YAML that is only data: every file a user hands fundwatch (header mappings, rule files,
rules written in a notebook) is read through `safe_yaml`."""

from __future__ import annotations

import yaml


class _PlainLoader(yaml.SafeLoader):
    """safe_load without aliases: `*name` can make a few hundred bytes a billion nodes
    (billion laughs) once anything walks or prints the result."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"aliases (*{event.anchor}) are not allowed here", event.start_mark
            )
        return super().compose_node(parent, index)


def safe_yaml(text: str):
    """YAML as plain data, bounded: no tags that build objects (safe_load), no aliases, no
    nesting deep enough to exhaust the stack. Raises yaml.YAMLError. For every file a user
    hands fundwatch (header mappings, rule files)."""
    try:
        return yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None
