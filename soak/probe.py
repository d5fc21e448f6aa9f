"""What a worker process holds, read from ``/proc``: RSS, threads, file descriptors.

File descriptors are sorted by what they are, so that a leak shows where it
is: ``clients`` (TCP connections on the server's port), ``db`` (TCP
connections to the database's port), ``listen`` (listening sockets),
``other_sockets``, ``files`` (regular files, temp files among them) and
``other`` (pipes, eventfds, epoll, /dev/null...).
"""
import os
import time

__all__ = ["Sampler", "sample", "rss_growth", "rss_trend"]


def _status(pid):
    values = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            values[name] = value.strip()
    return values


def _tcp_ports(pid):
    """socket inode -> (local port, remote port, listening) for ``pid``'s namespace."""
    table = {}
    for name in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, name)) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                    table[inode] = (int(local.rsplit(":", 1)[1], 16),
                                    int(remote.rsplit(":", 1)[1], 16), state == "0A")
        except OSError:
            pass
    return table


def fds(pid, server_port, db_port):
    """``pid``'s open file descriptors, counted by kind (see the module docstring)."""
    counts = dict.fromkeys(("clients", "db", "listen", "other_sockets", "files", "other"), 0)
    ports = None
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            if ports is None:
                ports = _tcp_ports(pid)
            local, remote, listening = ports.get(target[8:-1], (None, None, False))
            if listening:
                counts["listen"] += 1
            elif local == server_port:
                counts["clients"] += 1
            elif remote == db_port:
                counts["db"] += 1
            else:
                counts["other_sockets"] += 1
        elif target.startswith("/") and not target.startswith("/dev/"):
            counts["files"] += 1
        else:
            counts["other"] += 1
    counts["total"] = sum(counts.values())
    return counts


def sample(pid, server_port, db_port):
    """One reading of ``pid``: ``rss_kb``, ``threads`` and ``fds`` (or None if it is gone)."""
    try:
        status = _status(pid)
        return {"rss_kb": int(status["VmRSS"].split()[0]), "threads": int(status["Threads"]),
                "fds": fds(pid, server_port, db_port)}
    except (OSError, KeyError, ValueError):
        return None


class Sampler:
    """Readings of the workers ``pids()`` names, each time ``take()`` is called."""

    def __init__(self, pids, server_port, db_port):
        self.pids = pids
        self.server_port = server_port
        self.db_port = db_port
        self.samples = []  # (monotonic time, pid, reading)

    def take(self):
        """Read every worker now; returns {pid: reading}."""
        now = time.monotonic()
        taken = {}
        for pid in self.pids():
            reading = sample(pid, self.server_port, self.db_port)
            if reading is not None:
                self.samples.append((now, pid, reading))
                taken[pid] = reading
        return taken

    def series(self, pid, start=0.0, end=float("inf")):
        """``pid``'s readings between two monotonic times."""
        return [(t, r) for t, p, r in self.samples if p == pid and start <= t <= end]


def rss_growth(series, window):
    """RSS growth of one worker after warm-up, in percent.

    ``series`` is the worker's (time, reading) list from the end of warm-up
    on; the median RSS of its first ``window`` seconds is compared with the
    median of its last ``window`` seconds (medians, so one reading taken in
    the middle of a 3 MiB upload does not decide the figure). Returns
    ``(start_kb, end_kb, percent)``.
    """
    if not series:
        return None
    t0, t1 = series[0][0], series[-1][0]
    first = sorted(r["rss_kb"] for t, r in series if t <= t0 + window)
    last = sorted(r["rss_kb"] for t, r in series if t >= t1 - window)
    start_kb, end_kb = first[len(first) // 2], last[len(last) // 2]
    return start_kb, end_kb, 100.0 * (end_kb - start_kb) / start_kb


def rss_trend(series):
    """RSS growth of one worker after warm-up from a least-squares line, in percent.

    The line through every (time, RSS) reading of ``series`` is what a leak
    looks like, whatever the noise of single readings (a 3 MiB upload in
    flight moves RSS by several percent): returns ``(start_kb, end_kb,
    percent)``, the line's values at the first and last reading.
    """
    if len(series) < 2:
        return None
    ts = [t for t, r in series]
    ys = [r["rss_kb"] for t, r in series]
    n = float(len(ts))
    mean_t, mean_y = sum(ts) / n, sum(ys) / n
    var_t = sum((t - mean_t) ** 2 for t in ts)
    if not var_t:
        return None
    slope = sum((t - mean_t) * (y - mean_y) for t, y in zip(ts, ys)) / var_t
    start_kb = mean_y + slope * (ts[0] - mean_t)
    end_kb = mean_y + slope * (ts[-1] - mean_t)
    return int(start_kb), int(end_kb), 100.0 * (end_kb - start_kb) / start_kb
