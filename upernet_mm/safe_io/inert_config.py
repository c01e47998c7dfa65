"""Writing Python config files that hold strings from outside (class names,
folder paths) and stay data, whatever the strings are.

mmengine executes a ``.py`` config, and before that rewrites its text:
``{{ fileDirname }}`` and the other predefined variables, ``{{$VAR:default}}``
(environment variables) and ``{{ _base_.key }}`` are substituted anywhere in
the file, also inside string literals. A string from a file must therefore
neither break out of its literal nor contain ``{{``.

:func:`inert_config_text` prints the config with mmengine's own printer
(``Config.pretty_text``, which ``Config.dump`` writes: every string through
``repr``), writes every ``{`` inside a string literal as the escape ``\\x7b``
(the same string for Python, no ``{{`` left for mmengine), and proves the
result inert: the text has no ``{{``, its syntax tree holds only assignments
of literals and ``dict(...)`` calls, and evaluating those literals gives back
exactly the values it was made from.
"""
import ast
import io
import tokenize
from typing import Any, Dict, Sequence

from mmengine.config import Config

from .atomic import atomic_write


class UnsafeConfigTextError(ValueError):
    """A generated config that would not be plain data."""


_STRING_PREFIXES = set('bBrRuUfF')


def _escape_braces(text: str) -> str:
    """``text`` with every ``{`` inside a (non-raw, non-f) string literal
    written as ``\\x7b``."""
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    out = []
    for tok in tokens:
        string = tok.string
        if tok.type == tokenize.STRING and '{' in string:
            prefix = ''
            while string and string[0] in _STRING_PREFIXES:
                prefix += string[0]
                string = string[1:]
            if set(prefix.lower()) & {'r', 'f', 'b'}:
                raise UnsafeConfigTextError(
                    f'unexpected string literal {tok.string!r} in a '
                    'generated config')
            string = prefix + string.replace('{', '\\x7b')
        out.append(tok._replace(string=string))
    return tokenize.untokenize(out)


def _literal(node: ast.AST, where: str) -> Any:
    """The value of a data-only expression (literals, ``dict(k=v)``)."""
    if isinstance(node, ast.Constant) and isinstance(
            node.value, (str, int, float, bool, type(None))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(
            node.op,
        (ast.USub, ast.UAdd)) and isinstance(
            node.operand, ast.Constant) and isinstance(node.operand.value,
                                                       (int, float)):
        value = node.operand.value
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.List):
        return [_literal(e, where) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e, where) for e in node.elts)
    if isinstance(node, ast.Dict) and all(
            isinstance(k, ast.Constant) and isinstance(k.value, str)
            for k in node.keys):
        return {
            k.value: _literal(v, where)
            for k, v in zip(node.keys, node.values)
        }
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == 'dict' and not node.args
            and all(k.arg is not None for k in node.keywords)):
        return {k.arg: _literal(k.value, where) for k in node.keywords}
    raise UnsafeConfigTextError(
        f'{where}: {ast.dump(node)[:200]} is not plain data')


def literal_assignments(text: str, origin: str = 'config') -> Dict[str, Any]:
    """The top-level ``name = value`` assignments of a data-only config text,
    evaluated without executing anything.

    Raises:
        UnsafeConfigTextError: If the text holds anything but assignments of
            literals and ``dict(...)`` calls to plain names.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        raise UnsafeConfigTextError(f'{origin} is not valid Python: '
                                    f'{error}') from None
    values = {}
    for stmt in tree.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            raise UnsafeConfigTextError(
                f'{origin}, line {stmt.lineno}: only `name = literal` '
                'assignments are allowed in a generated config')
        name = stmt.targets[0].id
        values[name] = _literal(stmt.value, f'{origin}, line {stmt.lineno}')
    return values


def _as_lists(value):
    if isinstance(value, dict):
        return {k: _as_lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    return value


def inert_config_text(cfg: Dict[str, Any], header: Sequence[str] = ()) -> str:
    """A config file's text for ``cfg``: mmengine's ``Config.pretty_text``,
    made inert and checked (see the module's docstring).

    Args:
        cfg (dict): Top-level names (identifiers) to values: str, int, float,
            bool, None, and lists, tuples and dicts (with identifier keys)
            of those.
        header (Sequence[str]): Comment lines put first; fixed text only
            (no strings from outside).

    Returns:
        str: The text.

    Raises:
        UnsafeConfigTextError: If the text would not give back ``cfg``
            exactly, or is not plain data.
    """
    for line in header:
        if '\n' in line or '\r' in line or '{{' in line:
            raise UnsafeConfigTextError(
                f'header line {line!r} has a line break or "{{"')
    body = _escape_braces(Config(dict(cfg)).pretty_text)
    if '{{' in body:
        raise UnsafeConfigTextError(
            'a generated config holds "{{" outside string literals')
    if _as_lists(literal_assignments(body)) != _as_lists(dict(cfg)):
        raise UnsafeConfigTextError(
            'a generated config does not give back the values it was made '
            'from')
    lines = [f'# {line}' if line else '#' for line in header]
    return '\n'.join(lines + [body.rstrip('\n'), ''])


def write_inert_config(path: str,
                       cfg: Dict[str, Any],
                       header: Sequence[str] = ()) -> str:
    """Write :func:`inert_config_text` to ``path`` atomically; returns
    ``path``."""
    atomic_write(path, inert_config_text(cfg, header))
    return path
