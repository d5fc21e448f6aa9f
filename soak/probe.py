"""What a worker process holds, read from ``/proc``: RSS, threads, file descriptors.

RSS is also split by where it lives (:func:`memory`, from ``smaps``): glibc's
main heap, its other malloc arenas (one per thread that allocates, up to 8 per
core), thread stacks, other anonymous mappings (pymalloc's arenas and large
``malloc`` calls, which the kernel merges when adjacent) and files (code and
libraries).

File descriptors are sorted by what they are, so that a leak shows where it
is: ``clients`` (TCP connections on the server's port), ``db`` (TCP
connections to the database's port), ``listen`` (listening sockets),
``other_sockets``, ``files`` (regular files, temp files among them) and
``other`` (pipes, eventfds, epoll, /dev/null...).
"""

import os
import time

__all__ = ["Sampler", "memory", "memory_trend", "sample", "rss_growth", "rss_trend"]


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
                    table[inode] = (
                        int(local.rsplit(":", 1)[1], 16),
                        int(remote.rsplit(":", 1)[1], 16),
                        state == "0A",
                    )
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


# glibc reserves each malloc arena other than the main heap as a 64 MiB
# region aligned on 64 MiB (HEAP_MAX_SIZE on 64-bit).
_ARENA_ALIGN = 64 * 1024 * 1024


def memory(pid):
    """``pid``'s RSS in kB by region: ``heap``, ``arenas``, ``stacks``,
    ``anon`` (other anonymous mappings), ``files``; ``n_arenas``: glibc's arenas.
    """
    kinds = dict.fromkeys(("heap", "arenas", "stacks", "anon", "files"), 0)
    n_arenas = 0
    previous_guard = False
    with open("/proc/%d/smaps" % pid) as f:
        kind = None
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                fields = line.split()
                start, end = (int(x, 16) for x in first.split("-"))
                perms = fields[1]
                path = fields[5] if len(fields) > 5 else ""
                size_kb = (end - start) // 1024
                guard = perms.startswith("---")
                if path == "[heap]":
                    kind = "heap"
                elif path == "[stack]":
                    kind = "stacks"
                elif path.startswith("/"):
                    kind = "files"
                elif path or guard:
                    kind = None  # [vdso], [vvar], guard pages: nothing resident
                elif start % _ARENA_ALIGN == 0 and size_kb <= _ARENA_ALIGN // 1024:
                    kind = "arenas"
                    n_arenas += 1
                elif previous_guard and size_kb >= 1024 and size_kb % 1024 == 0:
                    kind = "stacks"  # a thread's stack sits above its guard page
                else:
                    kind = "anon"
                previous_guard = guard
            elif first == "Rss:" and kind is not None:
                kinds[kind] += int(line.split()[1])
    kinds["n_arenas"] = n_arenas
    return kinds


def sample(pid, server_port, db_port):
    """One reading of ``pid``: ``rss_kb``, ``threads``, ``fds`` and ``memory``
    (or None if it is gone)."""
    try:
        status = _status(pid)
        return {
            "rss_kb": int(status["VmRSS"].split()[0]),
            "threads": int(status["Threads"]),
            "fds": fds(pid, server_port, db_port),
            "memory": memory(pid),
        }
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


def _line(ts, ys):
    """Least-squares line through ``(ts, ys)``: its values at the first and last ``t``."""
    n = float(len(ts))
    mean_t, mean_y = sum(ts) / n, sum(ys) / n
    var_t = sum((t - mean_t) ** 2 for t in ts)
    if not var_t:
        return None
    slope = sum((t - mean_t) * (y - mean_y) for t, y in zip(ts, ys)) / var_t
    return mean_y + slope * (ts[0] - mean_t), mean_y + slope * (ts[-1] - mean_t)


def memory_trend(series):
    """The :func:`rss_trend` line of each region of :func:`memory`: {region: (start, end)}."""
    readings = [(t, r["memory"]) for t, r in series if r.get("memory")]
    if len(readings) < 2:
        return None
    ts = [t for t, m in readings]
    trend = {}
    for region in readings[0][1]:
        line = _line(ts, [m[region] for t, m in readings])
        if line is None:
            return None
        trend[region] = (int(line[0]), int(line[1]))
    return trend


def rss_trend(series):
    """RSS growth of one worker after warm-up from a least-squares line, in percent.

    The line through every (time, RSS) reading of ``series`` is what a leak
    looks like, whatever the noise of single readings (a 3 MiB upload in
    flight moves RSS by several percent): returns ``(start_kb, end_kb,
    percent)``, the line's values at the first and last reading.
    """
    if len(series) < 2:
        return None
    line = _line([t for t, r in series], [r["rss_kb"] for t, r in series])
    if line is None:
        return None
    start_kb, end_kb = line
    return int(start_kb), int(end_kb), 100.0 * (end_kb - start_kb) / start_kb
