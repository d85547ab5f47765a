"""Checks a GraphQL document, its variables and an answer to it against a schema, with graphql-core.

graphql-core validates documents and variables itself. For answers it has no validator (executing the query
over the answer would ignore any field the answer has but the query did not select), so
:func:`answer_problems` walks the answer along the query: every field of the answer must be selected, every
selected field present (a server always answers each), each value of the schema's type — nullability, enum
values, lists, scalars, and for an abstract type the concrete type its ``__typename`` names (or, where the
query asked none, some possible type whose selection the object fits).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_operation_ast,
    is_abstract_type,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

_TEXT_SCALARS = frozenset({"String", "ID", "URI", "HTML", "GitObjectID", "GitSSHRemote", "X509Certificate"})
_TIME_SCALARS = frozenset({"DateTime", "GitTimestamp", "PreciseDateTime"})


def document_problems(schema: GraphQLSchema, query: str) -> list[str]:
    """What the schema finds wrong with a document (unknown fields, arguments, types, enum values…)."""
    return [error.message for error in validate(schema, parse(query))]


def variable_problems(schema: GraphQLSchema, query: str, variables: Mapping[str, Any]) -> list[str]:
    """What is wrong with the variables sent with a document (an input object's unknown field, a type)."""
    operation = _operation(parse(query))
    found = get_variable_values(schema, operation.variable_definitions or [], dict(variables))
    return [error.message for error in found] if isinstance(found, list) else []


def answer_problems(schema: GraphQLSchema, query: str, answer: Mapping[str, Any]) -> list[str]:
    """Where an answer's ``data`` departs from what the schema says the query returns."""
    document = parse(query)
    data = answer.get("data")
    if data is None:
        return []  # an error-only answer has nothing to check against the selection
    walker = _Walker(
        schema, {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    )
    root = schema.query_type
    assert root is not None
    return list(walker.object(root, [_operation(document).selection_set], data, "data"))


def _operation(document: DocumentNode) -> OperationDefinitionNode:
    operation = get_operation_ast(document)
    assert operation is not None, "one operation per document"
    return operation


class _Walker:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.schema, self.fragments = schema, fragments

    def value(
        self, kind: GraphQLOutputType, selections: Sequence[SelectionSetNode], value: Any, path: str
    ) -> Iterator[str]:
        if isinstance(kind, GraphQLNonNull):
            if value is None:
                yield f"{path} is null, but the schema says {kind} (never null)"
                return
            kind = kind.of_type
        if value is None:
            return
        if isinstance(kind, GraphQLList):
            if not isinstance(value, list):
                yield f"{path} is {type(value).__name__}, but the schema says a list ({kind})"
                return
            for n, element in enumerate(value):
                yield from self.value(kind.of_type, selections, element, f"{path}[{n}]")
        elif isinstance(kind, GraphQLEnumType):
            if value not in kind.values:
                yield f"{path} is {value!r}, not a value of enum {kind.name}"
        elif isinstance(kind, GraphQLScalarType):
            yield from _scalar(kind.name, value, path)
        elif is_abstract_type(kind):
            yield from self.abstract(kind, selections, value, path)  # type: ignore[arg-type]
        elif isinstance(kind, GraphQLObjectType):
            yield from self.object(kind, selections, value, path)

    def abstract(
        self, kind: GraphQLAbstractType, selections: Sequence[SelectionSetNode], value: Any, path: str
    ) -> Iterator[str]:
        possible = self.schema.get_possible_types(kind)
        if not isinstance(value, Mapping):
            yield f"{path} is {type(value).__name__}, but the schema says an object ({kind.name})"
            return
        named = value.get("__typename")
        if named is not None:
            concrete = next((t for t in possible if t.name == named), None)
            if concrete is None:
                yield f"{path}.__typename is {named!r}, which is not a possible type of {kind.name}"
                return
            yield from self.object(concrete, selections, value, path)
            return
        # No __typename asked: the object must fit some possible type's selection.
        attempts = [list(self.object(t, selections, value, path)) for t in possible]
        if attempts and all(attempts):
            best = min(attempts, key=len)
            yield f"{path} fits no possible type of {kind.name}; nearest: " + "; ".join(best)

    def object(
        self, kind: GraphQLObjectType, selections: Sequence[SelectionSetNode], value: Any, path: str
    ) -> Iterator[str]:
        if not isinstance(value, Mapping):
            yield f"{path} is {type(value).__name__}, but the schema says an object ({kind.name})"
            return
        fields: dict[str, list[FieldNode]] = {}
        for selection_set in selections:
            self._collect(kind, selection_set, fields)
        for key in value:
            if key not in fields:
                yield f"{path}.{key} is in the answer but not selected by the query (on {kind.name})"
        for key, nodes in fields.items():
            where = f"{path}.{key}"
            if key not in value:
                yield f"{where} is selected but missing from the answer"
                continue
            name = nodes[0].name.value
            if name == "__typename":
                if value[key] != kind.name:
                    yield f"{where} is {value[key]!r}, but the object is a {kind.name}"
                continue
            definition = self._field(kind, name)
            if definition is None:
                yield f"{where}: {kind.name} has no field {name}"
                continue
            subselections = [n.selection_set for n in nodes if n.selection_set is not None]
            yield from self.value(definition.type, subselections, value[key], where)

    def _field(self, kind: GraphQLObjectType, name: str) -> GraphQLField | None:
        if kind is self.schema.query_type and name in ("__type", "__schema"):
            return TypeMetaFieldDef if name == "__type" else SchemaMetaFieldDef
        return kind.fields.get(name)

    def _collect(
        self, kind: GraphQLObjectType, selection_set: SelectionSetNode, into: dict[str, list[FieldNode]]
    ) -> None:
        """The fields selected on an object of type ``kind``, by response key (fragments that apply)."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                into.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, kind):
                    self._collect(kind, selection.selection_set, into)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                if self._applies(fragment.type_condition.name.value, kind):
                    self._collect(kind, fragment.selection_set, into)

    def _applies(self, condition: str, kind: GraphQLObjectType) -> bool:
        named = self.schema.get_type(condition)
        if named is kind:
            return True
        return is_abstract_type(named) and self.schema.is_sub_type(named, kind)  # type: ignore[arg-type]


def _scalar(name: str, value: Any, path: str) -> Iterator[str]:
    if name == "Boolean" and not isinstance(value, bool):
        yield f"{path} is {value!r}, not a Boolean"
    elif name == "Int" and (isinstance(value, bool) or not isinstance(value, int)):
        yield f"{path} is {value!r}, not an Int"
    elif name == "Float" and (isinstance(value, bool) or not isinstance(value, int | float)):
        yield f"{path} is {value!r}, not a Float"
    elif name in _TEXT_SCALARS and not isinstance(value, str):
        yield f"{path} is {value!r}, not a {name} (a string)"
    elif name in _TIME_SCALARS:
        try:
            dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            yield f"{path} is {value!r}, not an ISO 8601 {name}"
        if not isinstance(value, str):
            yield f"{path} is {value!r}, not a {name} (a string)"
