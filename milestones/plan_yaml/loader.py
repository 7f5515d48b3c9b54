"""YAML with line numbers: every mapping and list remembers where its items were."""

from __future__ import annotations

import yaml
from django.conf import settings

from milestones.plan_yaml.data import DOCUMENT, MAX_DEPTH, MAX_NODES, PlanError

# -- YAML with line numbers --------------------------------------------------------------


class _Mapping(dict):
    """A YAML mapping that remembers its own line and each key's line (1-based)."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}


class _Sequence(list):
    """A YAML sequence that remembers its own line and each item's line (1-based)."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _PlanLoader(yaml.SafeLoader):
    """The safe loader: YAML's core types only, never Python objects; and a bounded tree,
    refused as it is composed rather than once it is built."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent, index):
        line = self.peek_event().start_mark.line + 1
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise PlanError([_where(line, DOCUMENT, _too_many_values())])
        if self.depth >= MAX_DEPTH:
            raise PlanError([_where(line, DOCUMENT, _too_deep())])
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _where(line: int, path: str, message: str) -> str:
    return f"line {line}: {path or DOCUMENT}: {message}"


def _too_many_values() -> str:
    return f"the file has over {MAX_NODES:,} values"


def _too_deep() -> str:
    return f"lists and mappings are nested over {MAX_DEPTH} levels deep"


def check_size(size: int) -> None:
    """Refuse a file of ``size`` bytes over ``PLAN_IMPORT_MAX_BYTES``, before it is read."""
    limit = settings.PLAN_IMPORT_MAX_BYTES
    if size > limit:
        raise PlanError(
            [
                _where(
                    1,
                    DOCUMENT,
                    f"the file is over {limit:,} bytes, the most an import reads "
                    "(PLAN_IMPORT_MAX_BYTES)",
                )
            ]
        )


class _Converter:
    """Turns composed YAML nodes into `_Mapping`/`_Sequence`/scalars, keeping lines.

    Mapping keys are kept as written (text), so `on:` or `1:` are unknown keys rather
    than booleans or numbers; a key given twice is an error, not a silent overwrite.
    """

    def __init__(self, loader: yaml.SafeLoader):
        self.loader = loader
        self.errors: list[str] = []
        self.nodes = 0
        self.depth = 0
        self.open: set[int] = set()

    def convert(self, node: yaml.Node, path: str):
        line = node.start_mark.line + 1
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise PlanError([_where(line, path, _too_many_values())])
        # Aliases nest a tree deeper than the file is written; this recursion is bounded too.
        if self.depth >= MAX_DEPTH:
            raise PlanError([_where(line, path, _too_deep())])
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.constructor.ConstructorError as error:
                # e.g. !!python/name:os.system: the safe loader builds no Python objects.
                self.errors.append(_where(line, path, f"not allowed: {error.problem}"))
                return None
            except (ValueError, OverflowError):
                # e.g. 2019-13-45 looks like a date but is none: keep the text, so the
                # field's own check says what is wrong with it.
                return node.value
        if id(node) in self.open:
            self.errors.append(_where(line, path, "an alias refers to itself"))
            return None
        self.open.add(id(node))
        self.depth += 1
        try:
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, path, line)
            return self._mapping(node, path, line)
        finally:
            self.depth -= 1
            self.open.discard(id(node))

    def _sequence(self, node, path, line):
        if node.tag != _SEQ_TAG:
            self.errors.append(_where(line, path, f"the tag {node.tag} is not allowed"))
        result = _Sequence(line)
        for index, item in enumerate(node.value):
            result.item_lines.append(item.start_mark.line + 1)
            result.append(self.convert(item, f"{path}[{index}]"))
        return result

    def _mapping(self, node, path, line):
        if node.tag != _MAP_TAG:
            self.errors.append(_where(line, path, f"the tag {node.tag} is not allowed"))
        result = _Mapping(line)
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                self.errors.append(_where(key_line, path, "merge keys (<<) are not supported"))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.errors.append(_where(key_line, path, "a key must be plain text"))
                continue
            key = key_node.value
            if key in result:
                self.errors.append(
                    _where(
                        key_line,
                        _join(path, key),
                        f"duplicate key (first given on line {result.key_lines[key]})",
                    )
                )
                continue
            result.key_lines[key] = key_line
            result[key] = self.convert(value_node, _join(path, key))
        return result


def _load(text: str):
    """The document as `_Mapping`/`_Sequence`/scalars, and the structural errors found."""
    # Counted in UTF-8 bytes, as the file was; a text longer in characters is over anyway.
    check_size(len(text) if len(text) > settings.PLAN_IMPORT_MAX_BYTES else _utf8_size(text))
    loader = None
    try:
        loader = _PlanLoader(text)  # checks the characters first
        node = loader.get_single_node()
        if node is None:
            return None, []
        converter = _Converter(loader)
        return converter.convert(node, ""), converter.errors
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = error.problem or error.context or "cannot be read"
        raise PlanError([_where(line, DOCUMENT, f"not valid YAML: {problem}")]) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        code = ord(error.character) if isinstance(error.character, str) else error.character
        raise PlanError(
            [_where(line, DOCUMENT, f"not valid YAML: the character #x{code:04x} is not allowed")]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))
