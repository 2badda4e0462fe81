"""Small helpers shared by sklipo's packages (validation, JSON, masks).

Everything other packages use is re-exported here; the private modules
behind it hold one idea each.
"""

# License: BSD 3 clause

from sklipo.utils._boxes import box_intersections, check_boxes
from sklipo.utils._cluster import dask_backend
from sklipo.utils._files import (
    check_writable,
    replace_folder,
    write_atomic,
    write_together,
)
from sklipo.utils._images import n_channels
from sklipo.utils._json import json_ready
from sklipo.utils._left_out import report_left_out
from sklipo.utils._masks import bounding_box
from sklipo.utils._optional import import_optional
from sklipo.utils._validation import check_label_types, check_range, describe_particle

__all__ = [
    "bounding_box",
    "box_intersections",
    "check_boxes",
    "check_label_types",
    "check_range",
    "check_writable",
    "dask_backend",
    "describe_particle",
    "import_optional",
    "json_ready",
    "n_channels",
    "replace_folder",
    "report_left_out",
    "write_atomic",
    "write_together",
]
