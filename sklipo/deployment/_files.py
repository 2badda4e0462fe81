"""Writing files so that a crash never leaves a half-written one.

The writers live in :mod:`sklipo.utils` so that the torch-free packages
(``datasets``, ``compare``) use them too; deployment re-exports them.
"""

# License: BSD 3 clause

from sklipo.utils import write_atomic, write_together

__all__ = ["write_atomic", "write_together"]
