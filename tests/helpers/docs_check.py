"""Checks of the README and docs/ pages, used by tests/test_docs.py (run
``cd tests && python -m helpers.docs_check`` to list every problem).

* ``broken_links``: relative links (files and ``#anchors``, GitHub's heading
  slugs) that do not resolve;
* ``unlinked_pages``: docs/*.md pages the README does not link to;
* ``bad_commands``: commands shown in code blocks and in inline code that
  name a tool under tools/ that does not exist, or a flag its argparse
  parser does not define, or a make target the Makefile lacks;
* ``bad_python_names``: dotted names ``upernet_mm.module.name`` in inline
  code and Python code blocks (imports included) that do not resolve.

Each problem is returned as ``'PAGE:LINE: message'`` so that a failing test
says which page, line and flag to fix.
"""
import argparse
import importlib.util
import os.path as osp
import re
import shlex
import sys
from functools import lru_cache
from pathlib import Path

from helpers import ROOT as ROOT_PATH

ROOT = Path(ROOT_PATH)

# shell wrappers forward their extra arguments to a Python tool
SHELL_FORWARDS = {
    'tools/dist_train.sh': 'tools/train.py',
    'tools/dist_test.sh': 'tools/test.py',
    'tools/slurm_train.sh': 'tools/train.py',
}
_TOOL_RE = re.compile(r'(?:^|(?<=[\s/=]))(?:\./)?(tools/[\w./-]+\.(?:py|sh))')
_FLAG_RE = re.compile(r'^(--?[A-Za-z][\w-]*)')
_LINK_RE = re.compile(
    r'!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
_INLINE_RE = re.compile(r'(`+)(.+?)\1')


def doc_pages():
    """README.md and every docs/**/*.md, as paths relative to the root."""
    pages = [Path('README.md')]
    pages += sorted(p.relative_to(ROOT) for p in (ROOT / 'docs').rglob('*.md'))
    return pages


def _lines_outside_code(text):
    """(line number, line, in_code_block, fence language) for each line."""
    fence = None
    lang = ''
    for no, line in enumerate(text.split('\n'), 1):
        stripped = line.strip()
        if fence is None and stripped.startswith(('```', '~~~')):
            fence = stripped[:3]
            lang = stripped[3:].strip().lower()
            continue
        if fence is not None and stripped.startswith(fence):
            fence = None
            continue
        yield no, line, fence is not None, lang


def slugify(heading):
    """GitHub's anchor for a heading text."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading.strip())
    text = text.lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


@lru_cache(maxsize=None)
def anchors(page):
    seen = {}
    out = set()
    text = (ROOT / page).read_text(encoding='utf-8')
    for _, line, in_code, _ in _lines_outside_code(text):
        m = re.match(r'^(#{1,6})\s+(.*?)\s*#*\s*$', line)
        if in_code or not m:
            continue
        slug = slugify(m.group(2))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f'{slug}-{n}')
    for m in re.finditer(r'<a\s+(?:name|id)="([^"]+)"', text):
        out.add(m.group(1))
    return out


def links(page):
    """(line, target) of every Markdown link outside code."""
    text = (ROOT / page).read_text(encoding='utf-8')
    for no, line, in_code, _ in _lines_outside_code(text):
        if in_code:
            continue
        line = _INLINE_RE.sub('', line)
        for m in _LINK_RE.finditer(line):
            yield no, m.group(1)


def broken_links():
    problems = []
    for page in doc_pages():
        for no, target in links(page):
            if re.match(r'^[a-z][a-z0-9+.-]*:', target):  # http:, mailto:
                continue
            path, _, anchor = target.partition('#')
            dest = (ROOT / page).parent / path if path else ROOT / page
            dest = Path(osp.normpath(dest))
            where = f'{page}:{no}: link ({target})'
            if not dest.exists():
                shown = (
                    dest.relative_to(ROOT)
                    if dest.is_relative_to(ROOT) else dest)
                problems.append(f'{where}: {shown} does not exist')
                continue
            if anchor and dest.suffix == '.md':
                rel = dest.relative_to(ROOT)
                if anchor not in anchors(rel):
                    known = ', '.join(sorted(anchors(rel)))
                    problems.append(
                        f'{where}: {rel} has no heading with anchor '
                        f'#{anchor} (its anchors: {known})')
    return problems


def unlinked_pages():
    linked = set()
    for no, target in links(Path('README.md')):
        path = target.partition('#')[0]
        if path:
            linked.add(Path(osp.normpath(ROOT / path)))
    return [
        f'{p}: not linked from README.md (add a row to its '
        'Documentation table)' for p in doc_pages()[1:]
        if ROOT / p not in linked
    ]


class _Captured(Exception):

    def __init__(self, parser):
        self.parser = parser


@lru_cache(maxsize=None)
def tool_parser(tool):
    """The argparse parser a tool's ``parse_args`` builds, captured when it
    parses (nothing runs): the tool module is imported under a private name
    and ``ArgumentParser.parse_known_args`` raises with the parser."""
    path = ROOT / tool
    name = '_docs_check_' + re.sub(r'\W', '_', tool)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, 'parse_args'):
        raise AssertionError(f'{tool} has no parse_args(argv) function')
    original = argparse.ArgumentParser.parse_known_args

    def capture(self, *args, **kwargs):
        raise _Captured(self)

    argparse.ArgumentParser.parse_known_args = capture
    try:
        module.parse_args([])
    except _Captured as captured:
        return captured.parser
    finally:
        argparse.ArgumentParser.parse_known_args = original
    raise AssertionError(f'{tool}: parse_args([]) never parsed')


def _options(parser):
    return {s for a in parser._actions for s in a.option_strings}


def _subparsers(parser):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            return a.choices
    return {}


@lru_cache(maxsize=None)
def make_targets():
    text = (ROOT / 'Makefile').read_text()
    return set(re.findall(r'^([\w.-]+)\s*:(?!=)', text, re.M))


def _check_tool_call(tool, args):
    """Problems with ``tool args...`` (args: tokens after the tool)."""
    if not (ROOT / tool).is_file():
        return [f'{tool} does not exist']
    if tool.endswith('.sh'):
        target = SHELL_FORWARDS.get(tool)
        if target is None:
            return []
        tool = target
    parser = tool_parser(tool)
    options = _options(parser)
    subs = _subparsers(parser)
    problems = []
    for tok in args:
        if tok in subs:
            options = options | _options(subs[tok])
            subs = {}
    for tok in args:
        m = _FLAG_RE.match(tok)
        if m and m.group(1) not in options:
            problems.append(f'{tool} has no flag {m.group(1)} (it has: '
                            f'{" ".join(sorted(options))})')
    return problems


def _split_commands(text):
    """Shell text -> list of token lists, one per simple command."""
    text = text.replace('\\\n', ' ')
    out = []
    for line in text.split('\n'):
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=';&|')
            lexer.whitespace_split = True
            lexer.commenters = '#'
            tokens = list(lexer)
        except ValueError:
            tokens = line.split()
        cmd = []
        for tok in tokens:
            if tok and set(tok) <= set(';&|'):
                out.append(cmd)
                cmd = []
            else:
                cmd.append(tok)
        out.append(cmd)
    return [c for c in out if c]


def _command_problems(tokens):
    problems = []
    for i, tok in enumerate(tokens):
        m = _TOOL_RE.search(tok)
        if m and (tok == m.group(1) or tok.endswith('/' + m.group(1))
                  or tok == './' + m.group(1)):
            problems += _check_tool_call(m.group(1), tokens[i + 1:])
            break
        if tok == 'make' and i + 1 < len(tokens):
            for target in tokens[i + 1:]:
                if target.startswith('-') or '=' in target:
                    continue
                if target not in make_targets():
                    problems.append(f'the Makefile has no target {target!r}')
            break
    return problems


def bad_commands():
    """Problems of the commands in code blocks (bash, sh, console, shell or
    no language) and in inline code spans that start with a tool path."""
    problems = []
    for page in doc_pages():
        text = (ROOT / page).read_text(encoding='utf-8')
        block, block_start = [], None
        for no, line, in_code, lang in _lines_outside_code(text):
            if in_code:
                if lang in ('', 'bash', 'sh', 'shell', 'console'):
                    if block_start is None:
                        block_start = no
                    block.append((no, line))
                continue
            if block:
                problems += _block_problems(page, block)
                block, block_start = [], None
            for m in _INLINE_RE.finditer(line):
                span = m.group(2).strip()
                first = span.split()[0] if span.split() else ''
                if not (_TOOL_RE.fullmatch(first)
                        or first in ('python', 'make')):
                    continue
                span = re.sub(r'\\\|', ' ', span).replace('[', ' ').replace(
                    ']', ' ').replace('|', ' ')
                for p in _command_problems(span.split()):
                    problems.append(f'{page}:{no}: `{m.group(2)}`: {p}')
        if block:
            problems += _block_problems(page, block)
    return problems


def _block_problems(page, block):
    problems = []
    # join continuation lines, remembering where each command starts
    start, buf = None, ''
    for no, line in block:
        if start is None:
            start = no
        if line.rstrip().endswith('\\'):
            buf += line.rstrip()[:-1] + ' '
            continue
        buf += line
        text = re.sub(r'^\s*\$\s+', '', buf)
        text = text.replace('[', ' ').replace(']', ' ')
        for tokens in _split_commands(text):
            for p in _command_problems(tokens):
                problems.append(f'{page}:{start}: `{buf.strip()}`: {p}')
        start, buf = None, ''
    return problems


_NAME_RE = re.compile(r'\bupernet_mm(?:\.[A-Za-z_]\w*)+')


def resolve(dotted):
    """None if ``dotted`` names an importable module or an attribute of
    one, else why not."""
    parts = dotted.split('.')
    module, error = None, None
    for i in range(len(parts), 0, -1):
        name = '.'.join(parts[:i])
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and not name.startswith(exc.name):
                return f'importing {name} fails: {exc}'
            continue
        except Exception as exc:  # noqa: BLE001  (reported)
            return f'importing {name} fails: {type(exc).__name__}: {exc}'
        obj = module
        for j, attr in enumerate(parts[i:], i):
            if not hasattr(obj, attr):
                return f'{".".join(parts[:j])} has no attribute {attr}'
            obj = getattr(obj, attr)
        return None
    return error or f'no module {parts[0]}'


def _python_names(line):
    for m in _NAME_RE.finditer(line):
        name = m.group(0)
        # upernet_mm.UPerHead, upernet_mm.EncoderDecoder: registry type
        # names (scope.Type), not Python paths
        if name.split('.')[1][:1].isupper():
            continue
        yield name


def bad_python_names():
    problems = []
    for page in doc_pages():
        text = (ROOT / page).read_text(encoding='utf-8')
        for no, line, in_code, lang in _lines_outside_code(text):
            if in_code:
                if lang not in ('python', 'py'):
                    continue
                found = list(_python_names(line))
                m = re.match(r'\s*from\s+(upernet_mm[\w.]*)\s+import\s+(.+)',
                             line)
                if m:
                    names = re.sub(r'[()\\]', ' ', m.group(2)).split(',')
                    found += [
                        f'{m.group(1)}.{n.split()[0]}' for n in names
                        if n.split()
                    ]
            else:
                found = [
                    n for span in _INLINE_RE.finditer(line)
                    for n in _python_names(span.group(2))
                ]
            for name in found:
                why = resolve(name)
                if why:
                    problems.append(f'{page}:{no}: `{name}`: {why}')
    return problems


def main():
    problems = (
        broken_links() + unlinked_pages() + bad_commands() +
        bad_python_names())
    print('\n'.join(problems) or 'docs OK')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
