"""The ``sklipo`` command: compare models, train one, predict, inspect and export it."""

# License: BSD 3 clause

import os
import sys
import warnings

from sklipo.cli._common import CommandError, _silence_stdout, _warning_printer
from sklipo.cli._parser import _build_parser

__all__ = ["main"]


def main(argv=None):
    """Run the ``sklipo`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; None reads ``sys.argv``.

    Returns
    -------
    status : int
        The exit status: 0 on success; 1 when the input is wrong (the message
        is printed on standard error as one line, ``sklipo <verb>: error:
        <message>``, also for a TypeError, ValueError or OSError raised by
        the library; set the environment variable ``SKLIPO_DEBUG=1`` to get
        their full traceback instead) or a fit failed (``compare`` names the
        model, fold and error); 130 when interrupted (Ctrl-C; ``compare``
        saves what finished as a partial report); 141 when standard output
        was closed early (``sklipo predict ... | head``), quietly.
    """
    args = _build_parser().parse_args(argv)
    with warnings.catch_warnings():
        # one line per warning, e.g. a class too rare in the folds to be scored reliably
        warnings.showwarning = _warning_printer(args.command)
        try:
            return args.handler(args)
        except BrokenPipeError:
            # `sklipo predict ... | head`: the reader has all it wants. Point
            # stdout at /dev/null so the final flush cannot fail again.
            _silence_stdout()
            return 141
        except KeyboardInterrupt:
            print(f"\nsklipo {args.command}: interrupted; nothing more was written.", file=sys.stderr)
            return 130
        except (CommandError, TypeError, ValueError, OSError) as exc:
            if not isinstance(exc, CommandError) and _debug():
                raise  # SKLIPO_DEBUG=1: the full traceback, to report a bug
            print(f"sklipo {args.command}: error: {exc}", file=sys.stderr)
            return 1


def _debug():
    """Whether ``SKLIPO_DEBUG`` asks for tracebacks instead of one-line errors."""
    return os.environ.get("SKLIPO_DEBUG", "").strip().lower() not in ("", "0", "false", "no")
