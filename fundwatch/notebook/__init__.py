"""fundwatch in Jupyter: explain a case, chart a scan, write and try rules.

    import fundwatch as fw
    from fundwatch.notebook import RuleBook, explain_case, plot_overview

    ws = fw.Workspace()
    ws.load("sample_data")
    result = ws.scan(year=2023)
    explain_case(ws, result, result.cases.case_id[0])   # every registry row behind the top case
    plot_overview(result)                                # a matplotlib Figure
    RuleBook(ws).list()                                  # the rules and whether their inputs are loaded

What these objects show in a notebook masks person IDs and bank accounts unless asked not to.
"""

from fundwatch.notebook.display import case_html, frame_html, rule_status_counts, scan_result_html
from fundwatch.notebook.explain import CaseExplanation, explain_case
from fundwatch.notebook.mask import masked
from fundwatch.notebook.plots import plot_overview, plot_rules, plot_scores, plot_townships
from fundwatch.notebook.rulebook import RuleBook, TryResult, rule_book_html, try_result_html


def _show_results_as_html() -> None:
    """A ScanResult displays as a card in Jupyter, and `ws.rules` as a table (the objects
    themselves know nothing of notebooks)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        from fundwatch.rules import book
        from fundwatch.scan import ScanResult

        html = shell.display_formatter.formatters["text/html"]
        html.for_type(ScanResult, scan_result_html)
        html.for_type(book.RuleBook, rule_book_html)
        html.for_type(book.TryResult, try_result_html)


_show_results_as_html()

__all__ = [
    "CaseExplanation",
    "RuleBook",
    "TryResult",
    "case_html",
    "explain_case",
    "frame_html",
    "masked",
    "plot_overview",
    "plot_rules",
    "plot_scores",
    "plot_townships",
    "rule_status_counts",
    "scan_result_html",
]
