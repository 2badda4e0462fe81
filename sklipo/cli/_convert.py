"""``sklipo convert``: a particle folder into a particle store."""

# License: BSD 3 clause

import time
from pathlib import Path

from sklipo.cli._common import _check_out

__all__ = []


def _convert(args):
    """Convert a particle folder or manifest into one zarr particle store, read lazily later."""
    from sklipo.datasets import convert_to_store, load_particles

    start = time.perf_counter()
    _check_out(args.store, args.force, flag="STORE", folder=True)
    store = convert_to_store(
        args.source,
        args.store,
        pixel_size=args.pixel_size,
        mask_suffix=None if args.no_masks else "_mask",
        overwrite=args.force,
        verbose=1,
    )
    data = load_particles(store)
    size = sum(f.stat().st_size for f in Path(store).rglob("*") if f.is_file())
    print(
        f"Wrote {len(data.data)} particles ({', '.join(data.target_names)}) to '{store}' "
        f"({size / 2**20:.1f} MiB) in {time.perf_counter() - start:.1f} s."
    )
    return 0
