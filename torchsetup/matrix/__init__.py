"""matrix: the release/variant table — load and validate (`store`), scrape, rebuild (`update`).

The package imports only `store`: planning and diagnosing load the matrix; they never rebuild it.
"""

from torchsetup.matrix.store import Matrix, load_matrix

__all__ = ["Matrix", "load_matrix"]
