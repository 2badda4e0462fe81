"""Progress reports and thread limits for long runs (compare, the command line)."""

# License: BSD 3 clause

import sys
import time
from contextlib import contextmanager

__all__ = ["Progress", "format_duration", "limit_threads"]


def format_duration(seconds):
    """Seconds as a short human-readable duration.

    Parameters
    ----------
    seconds : float
        The duration.

    Returns
    -------
    text : str
        ``"42 s"``, ``"3 min 05 s"`` or ``"1 h 02 min"``.

    Examples
    --------
    >>> from sklipo._progress import format_duration
    >>> format_duration(4.2), format_duration(185), format_duration(3720)
    ('4.2 s', '3 min 05 s', '1 h 02 min')
    """
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """A progress bar on a terminal, plain lines in a log.

    On a terminal (`file` is a tty) a :mod:`tqdm` bar counts the steps and
    messages are written above it; elsewhere (a pipe, a file, a CI log) each
    step prints one line ``"<desc> k/n: <message>"``. Either way the lines
    after the first step end with the elapsed time and, when `eta` is true,
    an estimate of the time left.

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        What is counted, e.g. ``"epoch"`` or ``"[compare] fits"``.
    file : file object, default=None
        Where to write; None is standard error for the bar and standard
        output for the lines (the streams current when the progress starts,
        so that redirecting standard output later does not capture it).
    bar : bool, default=None
        Force the bar (True) or plain lines (False); None picks the bar when
        standard error is a terminal.
    eta : bool, default=True
        Append the estimated time remaining to each line.
    keep_lines : bool, default=True
        On a terminal, write each step's message above the bar; False shows
        it in the bar only (for many short steps, such as epochs).
    """

    def __init__(self, total, desc, *, file=None, bar=None, eta=True, keep_lines=True):
        self.total = total
        self.desc = desc
        self.eta = eta
        self.keep_lines = keep_lines
        self._count = 0
        self._start = time.perf_counter()
        self._first = (self._start, 0)
        if bar is None:
            bar = _isatty(sys.stderr if file is None else file)
        self._file = sys.stdout if file is None else file
        self._bar = None
        if bar:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, file=file or sys.stderr, leave=False)

    def update(self, message=None, *, n=1, remaining=None):
        """Count `n` more steps and report `message`.

        Parameters
        ----------
        message : str, default=None
            What the step found, e.g. a score.
        n : int, default=1
            Steps done.
        remaining : float, default=None
            Seconds left, when the caller knows better than the mean step
            time (compare knows each model's time per fold).
        """
        now = time.perf_counter()
        if self._count == 0:
            self._first = (now, n)
        self._count += n
        elapsed = now - self._start
        if remaining is None and self._count > self._first[1]:
            # from the steps after the first: its time includes any set-up
            rate = (now - self._first[0]) / (self._count - self._first[1])
            remaining = rate * (self.total - self._count)
        elif remaining is None and self._count:
            remaining = elapsed / self._count * (self.total - self._count)
        timing = f"{format_duration(elapsed)} elapsed"
        if self.eta and self._count < self.total and remaining is not None:
            timing += f", about {format_duration(remaining)} left"
        line = f"{self.desc} {self._count}/{self.total}"
        line += f": {message}" if message else ""
        if self._bar is not None:
            if message and not self.keep_lines:
                self._bar.set_postfix_str(message, refresh=False)
            self._bar.update(n)
            if message and self.keep_lines:
                self._bar.write(f"{line} ({timing})", file=self._file)
        else:
            print(f"{line} ({timing})", file=self._file, flush=True)

    def write(self, line):
        """Print a line without breaking the bar."""
        if self._bar is not None:
            self._bar.write(line, file=self._file)
        else:
            print(line, file=self._file, flush=True)

    def close(self):
        """Remove the bar (plain lines need no closing)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _isatty(file):
    try:
        return file.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def limit_threads(n_threads):
    """Run the block with at most `n_threads` threads per process.

    Sets torch's intra-op threads (only when torch is imported already: an
    SVM-only run never imports it), limits the BLAS and OpenMP pools of numpy
    and scikit-learn (:mod:`threadpoolctl`), and caps the threads of joblib's
    worker processes (``parallel_config(inner_max_num_threads=...)``). The
    previous settings come back afterwards.

    Parameters
    ----------
    n_threads : int or None
        Threads per process; None changes nothing (torch and the libraries
        pick, usually one per core).
    """
    if n_threads is None:
        yield
        return
    from joblib import parallel_config
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n_threads)
    try:
        # inner_max_num_threads needs a named backend; loky is joblib's default
        with threadpool_limits(limits=n_threads), parallel_config(
            backend="loky", inner_max_num_threads=n_threads
        ):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(before)
