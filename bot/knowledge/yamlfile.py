"""YAML reading that remembers where each value came from.

A curator fixing a 2,000-line file needs "statements.yaml line 812, said_on",
not "invalid date". PyYAML's safe loader keeps node marks; we keep them on
the mappings it builds so every error can point at its line.
"""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict):
    """A mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


# libyaml's parser and emitter where PyYAML was built with it (the wheels are): an
# exported archive of 9,648 statements loaded in 3.0 s instead of 13.8 and was
# written in 2.8 s instead of 8.6, the same values, lines and text
# (docs/performance.md). The pure-Python ones otherwise.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Safe loader whose mappings are LineDicts and whose dates stay text.

    Dates stay text because ``2016-12-08`` and ``2016`` must both keep their
    precision; the model parses them.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        mapping = LineDict(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            str(key.value): key.start_mark.line + 1 for key, _ in node.value
        }
        return mapping


_Loader.add_constructor(
    "tag:yaml.org,2002:map",
    lambda loader, node: loader.construct_mapping(node),
)
_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),
)


class YamlError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load_yaml(text: str) -> Any:
    """Parse one document; raises YamlError with the 1-based line of the fault."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or str(exc)
        raise YamlError(line, f"malformed YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(0, f"malformed YAML: {exc}") from None


def dump_yaml(data: Any) -> str:
    """Write YAML a curator can read and diff: block style, unicode kept, key order kept."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )


class _Dumper(_SafeDumper):  # type: ignore[valid-type,misc]
    pass


_LINE_BREAKS = ("\x85", "\u2028", "\u2029", "\r")


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line text as a literal block keeps quotes readable and exact; YAML folds the
    # other Unicode line breaks inside plain, single-quoted and block scalars, so text
    # holding them is written double-quoted, where they are escaped and come back exact.
    if any(ch in value for ch in _LINE_BREAKS):
        style: str | None = '"'
    else:
        style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)
_Dumper.add_representer(LineDict, _Dumper.represent_dict)
