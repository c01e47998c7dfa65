"""The README and docs/ pages stay true to the repository: every page is
linked from the README, every relative link and anchor resolves, every
command shown names a tool and flags that exist, and every dotted
``upernet_mm.*`` name shown resolves (tests/helpers/docs_check.py; run
``cd tests && python -m helpers.docs_check`` to list every problem)."""
from helpers import docs_check


def _report(problems):
    return '\n' + '\n'.join(problems)


def test_every_docs_page_linked_from_readme():
    problems = docs_check.unlinked_pages()
    assert not problems, _report(problems)


def test_relative_links_resolve():
    problems = docs_check.broken_links()
    assert not problems, _report(problems)


def test_commands_name_existing_tools_and_flags():
    problems = docs_check.bad_commands()
    assert not problems, _report(problems)


def test_python_names_in_docs_resolve():
    problems = docs_check.bad_python_names()
    assert not problems, _report(problems)


def test_checker_catches_a_wrong_flag_and_a_missing_tool():
    # the checker itself must be able to fail
    assert docs_check._command_problems(
        ['python', 'tools/infer.py', 'C', 'K', 'x.png', '--out-dir',
         'o']) == []
    bad = docs_check._command_problems(
        ['python', 'tools/infer.py', 'C', 'K', '--no-such-flag'])
    assert len(bad) == 1 and '--no-such-flag' in bad[0], bad
    missing = docs_check._command_problems(['python', 'tools/nothere.py'])
    assert missing == ['tools/nothere.py does not exist'], missing
    sub = docs_check._command_problems([
        'python', 'tools/model_converters/convert_hf.py', 'to-mm', 'A', 'B',
        '--self-contained'
    ])
    assert sub == [], sub
    assert docs_check._command_problems(['make', 'nosuchtarget'])
    assert docs_check.slugify('`tools/infer.py`') == 'toolsinferpy'
    assert docs_check.slugify('Checkpoints and resume on torch >= 2.6') == \
        'checkpoints-and-resume-on-torch--26'
    assert docs_check.resolve('upernet_mm.apis.init_model') is None
    assert 'no attribute nothere' in docs_check.resolve(
        'upernet_mm.apis.nothere')
