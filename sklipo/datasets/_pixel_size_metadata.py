"""Pixel sizes in nanometres from OME-XML and TIFF resolution tags."""

# License: BSD 3 clause

import xml.etree.ElementTree as ElementTree

import numpy as np
import tifffile

__all__ = []

# Nanometres per unit of a TIFF ResolutionUnit tag, and per ImageJ ``unit``.
_TIFF_RESOLUTION_UNITS = {
    tifffile.RESUNIT.INCH: 2.54e7,
    tifffile.RESUNIT.CENTIMETER: 1e7,
    tifffile.RESUNIT.MILLIMETER: 1e6,
    tifffile.RESUNIT.MICROMETER: 1e3,
}
_IMAGEJ_UNITS = {
    "nm": 1.0,
    "nanometer": 1.0,
    "um": 1e3,
    "\u00b5m": 1e3,
    "\u03bcm": 1e3,
    "\\u00b5m": 1e3,  # ImageJ writes the micro sign escaped
    "micron": 1e3,
    "microns": 1e3,
    "mm": 1e6,
    "a": 0.1,
    "\u00e5": 0.1,
    "angstrom": 0.1,
}
# A resolution coarser than this is a print or screen setting (72-300 dpi is
# 85-350 um per pixel), not a microscope calibration: treated as unknown.
_MAX_CALIBRATED_NM = 1e3

# Nanometres per OME length unit (the schema's default unit is the micrometre).
_OME_UNITS = {
    "pm": 1e-3,
    "\u00c5": 0.1,  # Å, Latin capital A with ring
    "\u212b": 0.1,  # Å, the angstrom sign
    "nm": 1.0,
    "µm": 1e3,
    "μm": 1e3,
    "um": 1e3,
    "mm": 1e6,
    "cm": 1e7,
    "m": 1e9,
}


def _ome_pixel_size(ome_xml):
    """Nanometres per pixel from OME-XML PhysicalSizeX/Y, NaN when not set."""
    if not ome_xml:
        return np.nan
    try:
        root = ElementTree.fromstring(ome_xml)
    except ElementTree.ParseError:
        return np.nan
    pixels = next((el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Pixels"), None)
    if pixels is None or "PhysicalSizeX" not in pixels.attrib:
        return np.nan
    sizes = []
    for axis in ("X", "Y"):
        value = pixels.attrib.get(f"PhysicalSize{axis}", pixels.attrib["PhysicalSizeX"])
        unit = pixels.attrib.get(f"PhysicalSize{axis}Unit", "µm")
        try:
            value = float(value)
        except ValueError:
            return np.nan
        sizes.append(value * _OME_UNITS.get(unit.strip(), np.nan))
    x, y = sizes
    if not (np.isfinite(x) and np.isfinite(y) and x > 0 and y > 0):
        return np.nan
    if not np.isclose(x, y, rtol=1e-4):
        raise ValueError(
            f"the OME metadata gives non-square pixels ({x:g} x {y:g} nm); sklipo needs "
            "one pixel size per image"
        )
    return float(x)


def _tiff_pixel_size(tif):
    """Nanometres per pixel from the resolution tags, NaN when not calibrated."""
    tags = tif.pages[0].tags
    if "XResolution" not in tags or "YResolution" not in tags:
        return np.nan
    unit = tags["ResolutionUnit"].value if "ResolutionUnit" in tags else tifffile.RESUNIT.INCH
    if unit == tifffile.RESUNIT.NONE:
        imagej_unit = (tif.imagej_metadata or {}).get("unit", "")
        nm_per_unit = _IMAGEJ_UNITS.get(str(imagej_unit).strip().lower(), np.nan)
    else:
        nm_per_unit = _TIFF_RESOLUTION_UNITS.get(unit, np.nan)
    x, y = (
        np.divide(*tags[name].value) if tags[name].value[1] else 0.0
        for name in ("XResolution", "YResolution")
    )
    if not (np.isfinite(nm_per_unit) and x > 0 and y > 0):
        return np.nan
    if not np.isclose(x, y, rtol=1e-4):
        raise ValueError(
            f"the resolution tags give non-square pixels ({nm_per_unit / x:g} x "
            f"{nm_per_unit / y:g} nm); sklipo needs one pixel size per image"
        )
    pixel_size = nm_per_unit / x
    return pixel_size if pixel_size <= _MAX_CALIBRATED_NM else np.nan
