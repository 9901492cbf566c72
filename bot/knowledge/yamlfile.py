"""YAML reading that remembers where each value came from.

A curator fixing a 2,000-line file needs "statements.yaml line 812, said_on",
not "invalid date". PyYAML's safe loader keeps node marks; we keep them on
the mappings it builds so every error can point at its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import yaml
from yaml.composer import Composer, ComposerError


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


@contextmanager
def _located_errors() -> Iterator[None]:
    """PyYAML's errors as ``YamlError``s with the 1-based line of the fault."""
    try:
        yield
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or str(exc)
        raise YamlError(line, f"malformed YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(0, f"malformed YAML: {exc}") from None


class _ItemLoader(_Loader, Composer):  # type: ignore[misc]
    """``_Loader`` that also composes one node at a time (libyaml's parser composes only
    whole documents): ``top_level`` builds a list's items one by one."""

    def __init__(self, stream: str | BinaryIO) -> None:
        super().__init__(stream)
        self.anchors: dict[str, yaml.Node] = {}


_PLAIN_LIST_TAGS = (None, "!", "tag:yaml.org,2002:seq")


class _ListStart:
    def __repr__(self) -> str:
        return "LIST_START"


LIST_START: Any = _ListStart()


def top_level(stream: str | BinaryIO) -> Iterator[tuple[Any, int, Any, bool]]:
    """The top-level mapping of a one-document file, key by key, without building the
    document whole: ``(key, key's line, value, is_item)``.

    A list under a key comes as ``LIST_START``, then one tuple per item
    (``is_item``), each built when reached, so an exported archive of a
    million statements is never in memory at once: its node tree, ~10 KB a
    statement, was what a large import held most (docs/performance.md). Any
    other value comes whole. A document that is not a mapping comes as
    ``(None, 0, document, False)``.
    Raises ``YamlError``, with the line, where the file stops
    being YAML; what came before it was yielded already.
    """
    loader = _ItemLoader(stream)
    try:
        with _located_errors():
            loader.get_event()  # the stream's start
            if loader.check_event(yaml.StreamEndEvent):
                return
            loader.get_event()  # the document's start
            if not loader.check_event(yaml.MappingStartEvent):
                yield None, 0, loader.construct_document(loader.compose_node(None, None)), False
            else:
                yield from _mapping_entries(loader)
                loader.get_event()  # the document's end
            if not loader.check_event(yaml.StreamEndEvent):
                event = loader.get_event()
                raise ComposerError("expected a single document in the stream", None,
                                    "but found another document", event.start_mark)
    finally:
        loader.dispose()


def _mapping_entries(loader: _ItemLoader) -> Iterator[tuple[Any, int, Any, bool]]:
    loader.get_event()  # the mapping's start (an anchor on it could only name itself)
    while not loader.check_event(yaml.MappingEndEvent):
        key_node = loader.compose_node(None, None)
        key, line = loader.construct_document(key_node), key_node.start_mark.line + 1
        event = loader.peek_event()
        if (isinstance(event, yaml.SequenceStartEvent) and event.anchor is None
                and event.tag in _PLAIN_LIST_TAGS):
            loader.get_event()
            yield key, line, LIST_START, False
            while not loader.check_event(yaml.SequenceEndEvent):
                yield key, line, loader.construct_document(loader.compose_node(None, None)), True
            loader.get_event()
        else:
            yield key, line, loader.construct_document(loader.compose_node(None, None)), False
    loader.get_event()


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
