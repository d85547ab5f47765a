"""What a GraphQL request asks of one field: its arguments, read the way a server reads them.

The fakes answer by operation name, but some answers depend on a field's arguments in the query text
(``items(archivedStates:)``, ``history(includeArchived:)``); a text search would also match comments or
another field's argument, so the document is parsed and the arguments resolved against the variables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, parse
from graphql.utilities import value_from_ast_untyped


def field_arguments(query: str, variables: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The arguments of the first field called ``name`` (variables filled in); ``None`` if none is."""
    for definition in parse(query).definitions:
        if isinstance(definition, OperationDefinitionNode):
            for field in _fields(definition.selection_set):
                if field.name.value == name:
                    return {
                        arg.name.value: value_from_ast_untyped(arg.value, dict(variables))
                        for arg in field.arguments or ()
                    }
    return None


def _fields(selections: SelectionSetNode | None) -> Iterator[FieldNode]:
    for selection in selections.selections if selections else ():
        if isinstance(selection, FieldNode):
            yield selection
            yield from _fields(selection.selection_set)
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set)
