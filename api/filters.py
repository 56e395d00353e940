"""OPTIMADE filters turned into DuckDB SQL, with every value a bound parameter.

The filter is parsed with the official grammar shipped by the ``optimade`` package (the version
``optimade.filterparser.LarkParser`` picks), by Lark's LALR parser rather than LarkParser's
Earley parser: the grammar is LALR(1) (Lark builds its tables without a conflict), the trees
are the same, and a filter parses in about 0.2 ms instead of 4 ms (an 11,000-character filter
took 1.2 s). Tokens are kept (``keep_all_tokens``) because the official tree drops them from
``TRUE`` and ``FALSE``, which then cannot be told apart.

The SQL text is made only of fixed fragments and the column names of ``fields.py``; every value
of the filter goes into the parameter list. What the specification says of each case:

- an unknown property with another provider's prefix, or a property of the standard this
  server does not serve, has an unknown value: ``IS UNKNOWN`` matches and every comparison is
  unknown, so neither it nor its ``NOT`` matches (SQL's NULL); a warning names another
  provider's property;
- an unknown property without a prefix, or with tcdb's own, is a 400 error;
- values of another type than the property's (``nelements = "3"``), comparisons of two string
  constants, correlated lists (``a:b HAS 1:2``), ``HAS ONLY`` with operators and nested
  properties other than ``references.id`` are 501 Not Implemented;
- a filter longer than ``max_filter_chars``, nested deeper than ``max_filter_depth``, with
  more than ``max_values`` values in a list, or with a number out of range, is 400.

A ``NOT`` follows SQL's three-valued logic: a comparison with an unknown value is neither true
nor false, so ``NOT nsites = 3`` does not match an entry whose ``nsites`` is unknown.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from tcdb.api.errors import bad_request, not_implemented
from tcdb.api.fields import HIDDEN, RELATIONSHIP_FIELDS, Field
from tcdb.api.parameters import PROVIDER_PREFIX, ApiParameters

OPERATORS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
REVERSED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
}
_NUMERIC = ("integer", "float")
_INT64 = 2**63 - 1
_UNKNOWN_SQL = "CAST(NULL AS BOOLEAN)"
# tokens of the grammar that carry no meaning of their own once the tree is built
_PUNCTUATION = frozenset({"_AND", "_OR", "LPAR", "RPAR", "COMMA", "DOT", "COLON"})


@functools.cache
def official_grammar() -> tuple[str, tuple[int, int, int]]:
    """The text and version of the filter grammar LarkParser uses (the newest it ships)."""
    from optimade.filterparser import LarkParser
    from optimade.filterparser.lark_parser import AVAILABLE_PARSERS

    chosen = LarkParser()
    return AVAILABLE_PARSERS[chosen.version][chosen.variant].read_text(), chosen.version


@functools.cache
def parser() -> Lark:
    text, _ = official_grammar()
    return Lark(text, parser="lalr", maybe_placeholders=False, keep_all_tokens=True)


@dataclass(frozen=True)
class Translated:
    """A filter as a SQL condition, its parameters in order, and warnings for the client."""

    sql: str
    params: tuple[Any, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unknown:
    """A property with no value on this server."""

    name: str


@dataclass(frozen=True)
class Boolean:
    value: bool


@dataclass
class _Context:
    params: list[Any] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def bind(self, value: Any, sql_type: str) -> str:
        self.params.append(value)
        return f"CAST(? AS {sql_type})"


def _meaningful(children: list) -> list:
    return [c for c in children if not (isinstance(c, Token) and c.type in _PUNCTUATION)]


def _column(f: Field) -> str:
    return f'"{f.column}"'


def check_shape(text: str, parameters: ApiParameters) -> None:
    """Refuse a filter too long or nested too deep before any parser sees it."""
    if len(text) > parameters.max_filter_chars:
        raise bad_request(
            f"The filter holds {len(text):,} characters, more than the limit of "
            f"{parameters.max_filter_chars:,}."
        )
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    if deepest > parameters.max_filter_depth:
        raise bad_request(
            f"The filter nests parentheses {deepest} deep, more than the limit of "
            f"{parameters.max_filter_depth}."
        )


def _unescaped(token: str) -> str:
    r"""A string token's value: the quotes removed, \" and \\ read as " and \."""
    return re.sub(r'\\(["\\])', r"\1", token[1:-1])


def _number(token: Token) -> int | float:
    text = str(token)
    if token.type == "SIGNED_INT":
        value: int | float = int(text)
        if abs(value) > _INT64:
            try:
                value = float(value)
            except OverflowError:
                raise bad_request(f"The number {text[:40]} is out of range.") from None
    else:
        value = float(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise bad_request(f"The number {text[:40]} is out of range.")
    return value


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(
            f"{text[:60]!r} is not an RFC 3339 timestamp (e.g. 2024-01-31T12:00:00Z)."
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _type_of(value: Any) -> str:
    if isinstance(value, Boolean):
        return "boolean"
    if isinstance(value, str):
        return "string"
    return "integer" if isinstance(value, int) else "float"


class FilterTranslator:
    """Translates filters on one entry type; the latest translations are kept."""

    def __init__(
        self,
        entry_type: str,
        fields: dict[str, Field],
        standard: frozenset[str],
        parameters: ApiParameters,
    ) -> None:
        self.entry_type = entry_type
        self.fields = {n: f for n, f in fields.items() if n not in HIDDEN}
        self.standard = standard  # the standard's property names for this entry type
        self.parameters = parameters
        self.translate = functools.lru_cache(maxsize=1024)(self._translate)

    # ------------------------------------------------------------------------------ entry

    def _translate(self, text: str) -> Translated:
        check_shape(text, self.parameters)
        try:
            tree = parser().parse(text)
        except UnexpectedInput as exc:
            raise bad_request(
                f"The filter cannot be parsed: unexpected input at column {exc.column}."
            ) from None
        except LarkError:
            raise bad_request("The filter cannot be parsed.") from None
        expressions = _meaningful(tree.children)
        if not expressions:
            return Translated("TRUE", ())
        if len(expressions) > 1:
            raise bad_request("The filter holds several expressions with no AND or OR between.")
        context = _Context()
        sql = self._expression(expressions[0], context)
        return Translated(sql, tuple(context.params), tuple(dict.fromkeys(context.warnings)))

    # -------------------------------------------------------------------------- boolean

    def _expression(self, tree: Tree, context: _Context) -> str:
        clauses = [self._clause(c, context) for c in _meaningful(tree.children)]
        return clauses[0] if len(clauses) == 1 else "(" + " OR ".join(clauses) + ")"

    def _clause(self, tree: Tree, context: _Context) -> str:
        phrases = [self._phrase(p, context) for p in _meaningful(tree.children)]
        return phrases[0] if len(phrases) == 1 else "(" + " AND ".join(phrases) + ")"

    def _phrase(self, tree: Tree, context: _Context) -> str:
        children = _meaningful(tree.children)
        negated = isinstance(children[0], Token) and children[0].type == "NOT"
        inner = children[-1]
        if inner.data == "expression":
            sql = self._expression(inner, context)
        else:
            sql = self._comparison(_meaningful(inner.children)[0], context)
        return f"(NOT {sql})" if negated else f"({sql})"

    # ------------------------------------------------------------------------- operands

    def _property(self, tree: Tree, context: _Context) -> Field | Unknown:
        names = [str(t) for t in _meaningful(tree.children)]
        if len(names) > 1:
            column = RELATIONSHIP_FIELDS.get((self.entry_type, *names))
            if column is None:
                raise not_implemented(
                    f"Nested property names are not supported except references.id on "
                    f"structures ({'.'.join(names)[:80]})."
                )
            return Field(".".join(names), "list", "", column=column, item="string")
        name = names[0]
        found = self.fields.get(name)
        if found is not None:
            if not found.queryable:
                raise not_implemented(f"Filters on {name} are not supported.")
            return found
        if name in self.standard:
            return Unknown(name)
        if name.startswith(f"_{PROVIDER_PREFIX}_"):
            raise bad_request(f"{name[:80]} is not a property of {self.entry_type} here.")
        if name.startswith("_") and re.match(r"^_[a-z0-9]+_", name):
            context.warnings.append(
                f"{name[:80]} has another provider's prefix and is treated as unknown."
            )
            return Unknown(name)
        raise bad_request(f"{name[:80]} is not a known property of {self.entry_type}.")

    def _value(self, tree: Tree, context: _Context):
        """A string, number, Boolean, or a property (value and non_string_value rules)."""
        node = _meaningful(tree.children)[0]
        kind = node.data
        if kind == "string":
            return _unescaped(str(_meaningful(node.children)[0]))
        if kind == "number":
            return _number(_meaningful(node.children)[0])
        if kind == "bool":
            return Boolean(_meaningful(node.children)[0].type == "TRUE")
        if kind == "property":
            return self._property(node, context)
        raise bad_request("The filter holds a value of no known kind.")

    def _scalar(self, f: Field, value: Any, operator: str, context: _Context) -> str:
        """``column OPERATOR value`` for a scalar property, the value bound."""
        if isinstance(value, Boolean):
            if f.type != "boolean":
                raise not_implemented(f"{f.name} is not a boolean; TRUE and FALSE compare only "
                                      "with booleans.")  # fmt: skip
            if operator not in ("=", "!="):
                raise not_implemented("Booleans compare only with = and !=.")
            return f"{_column(f)} {OPERATORS[operator]} {context.bind(value.value, 'BOOLEAN')}"
        kind = _type_of(value)
        if f.type == "timestamp" and kind == "string":
            bound = context.bind(_timestamp(value), "TIMESTAMP")
        elif f.type == kind or (f.type in _NUMERIC and kind in _NUMERIC):
            bound = context.bind(value, _SQL_TYPES[kind])
        else:
            raise not_implemented(
                f"{f.name} is of type {f.type} and cannot be compared with a {kind}."
            )
        if f.type == "boolean" and operator not in ("=", "!="):
            raise not_implemented("Booleans compare only with = and !=.")
        return f"{_column(f)} {OPERATORS[operator]} {bound}"

    def _two_properties(self, left, operator: str, right) -> str:
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return _UNKNOWN_SQL
        if "list" in (left.type, right.type):
            raise not_implemented("Lists cannot be compared with =, <, > …; use HAS or LENGTH.")
        same = left.type == right.type or (left.type in _NUMERIC and right.type in _NUMERIC)
        if not same:
            raise not_implemented(
                f"{left.name} ({left.type}) and {right.name} ({right.type}) cannot be compared."
            )
        if left.type == "boolean" and operator not in ("=", "!="):
            raise not_implemented("Booleans compare only with = and !=.")
        return f"{_column(left)} {OPERATORS[operator]} {_column(right)}"

    # ----------------------------------------------------------------------- comparisons

    def _comparison(self, tree: Tree, context: _Context) -> str:
        children = _meaningful(tree.children)
        if tree.data == "constant_first_comparison":
            return self._constant_first(children, context)
        subject = self._property(children[0], context)
        rhs = children[1]
        handler = {
            "value_op_rhs": self._value_op,
            "known_op_rhs": self._known,
            "fuzzy_string_op_rhs": self._fuzzy,
            "set_op_rhs": self._set,
            "length_op_rhs": self._length,
        }.get(rhs.data)
        if handler is None:
            raise not_implemented("Correlated list comparisons (a:b HAS …) are not supported.")
        return handler(subject, _meaningful(rhs.children), context)

    def _constant_first(self, children: list, context: _Context) -> str:
        constant = self._value(children[0], context)
        operator = str(children[1])
        other = children[2]
        if other.data == "not_implemented_string":
            raise not_implemented("Comparisons of two string constants are not supported.")
        right = self._value(other, context)
        if isinstance(right, Field | Unknown):
            return self._against(right, REVERSED[operator], constant, context)
        if _type_of(constant) != _type_of(right) and not (
            _type_of(constant) in _NUMERIC and _type_of(right) in _NUMERIC
        ):
            raise not_implemented("A string and a number cannot be compared.")
        result = {
            "=": constant == right,
            "!=": constant != right,
            "<": constant < right,
            "<=": constant <= right,
            ">": constant > right,
            ">=": constant >= right,
        }[operator]
        return "TRUE" if result else "FALSE"

    def _against(self, subject, operator: str, value, context: _Context) -> str:
        if isinstance(subject, Unknown):
            return _UNKNOWN_SQL
        if isinstance(value, Field | Unknown):
            return self._two_properties(subject, operator, value)
        if subject.type == "list":
            raise not_implemented(
                f"{subject.name} is a list: compare it with HAS, HAS ALL, HAS ANY, HAS ONLY or "
                "LENGTH."
            )
        return self._scalar(subject, value, operator, context)

    def _value_op(self, subject, children: list, context: _Context) -> str:
        return self._against(subject, str(children[0]), self._value(children[1], context), context)

    def _known(self, subject, children: list, context: _Context) -> str:
        known = children[1].type == "KNOWN"
        if isinstance(subject, Unknown):
            return "FALSE" if known else "TRUE"
        return f"{_column(subject)} IS {'NOT ' if known else ''}NULL"

    def _fuzzy(self, subject, children: list, context: _Context) -> str:
        function = {"CONTAINS": "contains", "STARTS": "starts_with", "ENDS": "ends_with"}[
            children[0].type
        ]
        value = self._value(children[-1], context)
        if isinstance(subject, Unknown):
            return _UNKNOWN_SQL
        if not isinstance(value, str):
            raise not_implemented(f"{children[0]} takes a string constant.")
        if subject.type != "string":
            raise not_implemented(f"{subject.name} is not a string; {children[0]} needs one.")
        return f"{function}({_column(subject)}, {context.bind(value, 'VARCHAR')})"

    def _item(self, subject: Field, value: Any) -> Any:
        """A value compared with the items of a list property, checked against their type."""
        if isinstance(value, Field | Unknown):
            raise not_implemented("Properties as values in HAS are not supported.")
        kind = _type_of(value)
        item = subject.item or "string"
        if item == kind or (item in _NUMERIC and kind in _NUMERIC):
            return value.value if isinstance(value, Boolean) else value
        raise not_implemented(f"The items of {subject.name} are {item}s, not {kind}s.")

    def _values(self, tree: Tree, context: _Context) -> list[tuple[str, Any]]:
        """A value list as (operator, value) pairs, = where none is written."""
        pairs, operator = [], "="
        for child in _meaningful(tree.children):
            if isinstance(child, Token) and child.type == "OPERATOR":
                operator = str(child)
                continue
            pairs.append((operator, self._value(child, context)))
            operator = "="
        if len(pairs) > self.parameters.max_values:
            raise bad_request(
                f"The list holds {len(pairs):,} values, more than the limit of "
                f"{self.parameters.max_values:,}."
            )
        return pairs

    def _has_one(self, subject: Field, operator: str, value: Any, context: _Context) -> str:
        sql_type = _SQL_TYPES[subject.item or "string"]
        bound = context.bind(value, sql_type)
        if operator == "=":
            return f"list_contains({_column(subject)}, {bound})"
        return (
            f"len(list_filter({_column(subject)}, lambda item: item {OPERATORS[operator]} "
            f"{bound})) > 0"
        )

    def _set(self, subject, children: list, context: _Context) -> str:
        words = [c.type for c in children if isinstance(c, Token) and c.type != "OPERATOR"]
        quantifier = words[1] if len(words) > 1 else None  # ALL, ANY, ONLY or None
        if quantifier is None:
            operator = next(
                (str(c) for c in children if isinstance(c, Token) and c.type == "OPERATOR"), "="
            )
            pairs = [(operator, self._value(children[-1], context))]
        else:
            pairs = self._values(children[-1], context)
        if isinstance(subject, Unknown):
            return _UNKNOWN_SQL
        if subject.type != "list":
            raise not_implemented(f"{subject.name} is not a list; HAS needs one.")
        pairs = [(op, self._item(subject, value)) for op, value in pairs]
        sql_type = _SQL_TYPES[subject.item or "string"]
        plain = all(op == "=" for op, _ in pairs)
        values = [v for _, v in pairs]
        if quantifier == "ONLY":
            if not plain:
                raise not_implemented("HAS ONLY with operators is not supported.")
            return f"list_has_all({context.bind(values, sql_type + '[]')}, {_column(subject)})"
        if quantifier in ("ALL", "ANY") and plain:
            function = "list_has_all" if quantifier == "ALL" else "list_has_any"
            return f"{function}({_column(subject)}, {context.bind(values, sql_type + '[]')})"
        joiner = " OR " if quantifier == "ANY" else " AND "
        parts = [self._has_one(subject, op, value, context) for op, value in pairs]
        return parts[0] if len(parts) == 1 else "(" + joiner.join(parts) + ")"

    def _length(self, subject, children: list, context: _Context) -> str:
        operator = next(
            (str(c) for c in children if isinstance(c, Token) and c.type == "OPERATOR"), "="
        )
        number = _number(_meaningful(children[-1].children)[0])
        if isinstance(subject, Unknown):
            return _UNKNOWN_SQL
        if subject.type != "list":
            raise not_implemented(f"{subject.name} is not a list; LENGTH needs one.")
        bound = context.bind(number, "DOUBLE" if isinstance(number, float) else "BIGINT")
        return f"len({_column(subject)}) {OPERATORS[operator]} {bound}"
