"""The rule book in Jupyter: fundwatch/rules/book.py's RuleBook, shown as HTML.

    >>> book = RuleBook(ws)                  # the default rules folder
    >>> book                                 # a table of the rules, inputs present or missing
    >>> book.try_rule(text, 2023)            # what it found, and its embedded tests
"""

from __future__ import annotations

from fundwatch.notebook.display import esc, frame_html
from fundwatch.rules import book


def try_result_html(tried: book.TryResult) -> str:
    """What a tried rule found and its embedded tests, as HTML (IDs masked in the hits).

    >>> try_result_html(ws.rules.try_rule(text, 2023))
    """
    return (
        f"<p><b>{esc(tried.rule.id)}</b> on {tried.year}: {esc(tried.outcome.describe())}</p>"
        f"<p>Embedded tests:</p>{frame_html(tried.tests, unmask=True)}"
        f"<p>Hits:</p>{frame_html(tried.hits.drop(columns=['evidence']), max_rows=20)}"
    )


def rule_book_html(rules: book.RuleBook) -> str:
    """The rules and whether their inputs are loaded, and the broken rule files, as HTML.

    >>> rule_book_html(ws.rules)
    """
    parts = [
        f"<p><b>{len(rules.ruleset)} rules</b> in {esc(rules.rules_dir)}</p>",
        frame_html(rules.list(), unmask=True, max_rows=200),
    ]
    if rules.errors:
        parts.append("<p>Broken rule files:</p><ul>" + "".join(f"<li>{esc(e)}</li>" for e in rules.errors) + "</ul>")
    return "".join(parts)


class TryResult(book.TryResult):
    __doc__ = book.TryResult.__doc__
    _repr_html_ = try_result_html


class RuleBook(book.RuleBook):
    __doc__ = book.RuleBook.__doc__
    tried = TryResult
    _repr_html_ = rule_book_html
