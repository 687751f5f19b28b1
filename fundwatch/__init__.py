"""fundwatch: find abuse of public money in disbursement records.

    import fundwatch as fw
    ws = fw.Workspace("audit.duckdb")
    ws.load("sample_data")
    result = ws.scan(year=2023)
    result.cases.head()
"""

from importlib.metadata import PackageNotFoundError, version

from fundwatch.workspace import Workspace

try:
    __version__ = version("fundwatch")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["Workspace", "__version__"]
