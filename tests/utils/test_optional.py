"""Tests of import_optional."""

import pytest

from sklipo.utils import import_optional


def test_import_optional_returns_the_first_module():
    # Check that present packages import and the first one is returned.
    module = import_optional("json", "os", extra="plot", purpose="A test")
    assert module.__name__ == "json"


def test_import_optional_names_the_extra():
    # Check that a missing package gives the pip command of its extra.
    with pytest.raises(ImportError, match=r'A test needs json and no_such_pkg_x .*pip install "sklipo\[onnx\]"'):
        import_optional("json", "no_such_pkg_x", extra="onnx", purpose="A test")
