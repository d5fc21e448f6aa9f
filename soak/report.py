"""The soak's report: the figures and checks as text, and the gunicorn log's errors."""

import re
import sys

__all__ = ["EXPECTED_ERRORS", "fds_text", "log_errors", "report"]


# The errors the faults cause on purpose: the database views' exceptions
# while PostgreSQL is down, and the arbiter's word on the worker it lost.
EXPECTED_ERRORS = (
    "django.db.utils.OperationalError",
    "psycopg2.OperationalError",
    "Worker (pid:N) was sent SIGKILL",
)


def log_errors(log):
    """The gunicorn log's errors: the last line of each traceback, ``[ERROR]`` lines."""
    errors = {}
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if "[ERROR]" in line:
            key = re.sub(r"\d+", "N", line.split("[ERROR]", 1)[1].strip())
        elif line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith(" ") or not lines[j]):
                j += 1
            key = lines[j].split(":")[0] if j < len(lines) else "Traceback"
        else:
            continue
        errors[key] = errors.get(key, 0) + 1
    return errors


def fds_text(fds):
    """A descriptor reading as text: the total, then each kind that has any."""
    return "%d (%s)" % (
        fds["total"],
        ", ".join("%s %d" % (k, v) for k, v in sorted(fds.items()) if k != "total" and v),
    )


def report(figures, checks, out=sys.stdout):
    """Print the figures and the checks, as docs/soak.md shows them."""
    soak = figures.get("soak")
    if soak:
        out.write(
            "\n== soak: %(duration_s)ss, %(users)d users, %(workers)d workers x "
            "%(threads)d threads: %(requests)d requests (%(requests_per_s)s/s), "
            "%(failed)d failed, %(hang_ups)d deliberate hang-ups, "
            "%(closed_connections_not_reused)d keep-alive connections found closed "
            "by the server before reuse\n" % soak
        )
        out.write(
            "%-16s %8s %7s %8s %8s %8s\n"
            % ("kind", "requests", "failed", "p50 ms", "p99 ms", "max ms")
        )
        for kind, k in soak["kinds"].items():
            out.write(
                "%-16s %8d %7d %8.1f %8.1f %8.1f\n"
                % (kind, k["requests"], k["failed"], k["p50_ms"], k["p99_ms"], k["max_ms"])
            )
        for kind, start, end, detail in soak["failures_s"]:
            out.write("failed: %s, %.3f-%.3f s into the soak: %s\n" % (kind, start, end, detail))
        for pid, w in sorted(soak["per_worker"].items()):
            out.write(
                "worker %d: RSS trend %s kB after %ss warm-up -> %s kB at the end "
                "(%s%%; medians %s%%), max %s kB; fds max %d (clients %d); "
                "threads max %d\n"
                % (
                    pid,
                    w["rss_kb_after_warmup"],
                    soak["warmup_s"],
                    w["rss_kb_at_end"],
                    w["rss_growth_pct"],
                    w["rss_median_growth_pct"],
                    w["rss_kb_max"],
                    w["fds_max"],
                    w["client_fds_max"],
                    w["threads_max"],
                )
            )
            out.write("  RSS over time (s: kB): %s\n" % _series_text(w["rss_series_kb"]))
            if w.get("memory_trend_kb"):
                out.write(
                    "  by region after warm-up (trend kB, start -> end): %s\n"
                    % ", ".join(
                        "%s %d -> %d" % (k, a, b) for k, (a, b) in w["memory_trend_kb"].items()
                    )
                )
    idle = figures.get("idle")
    if idle:
        for pid in sorted(idle["after"]):
            before = idle["before"].get(pid)
            out.write(
                "worker %d idle fds: before %s, after %s\n"
                % (
                    pid,
                    fds_text(before["fds"]) if before else "-",
                    fds_text(idle["after"][pid]["fds"]),
                )
            )
            sb, sa = idle["stats_before"].get(pid), idle["stats_after"].get(pid)
            if sb and sa:
                out.write(
                    "worker %d idle Python heap: gc-tracked objects %d -> %d, "
                    "pymalloc blocks %d -> %d\n"
                    % (
                        pid,
                        sb["gc_objects"],
                        sa["gc_objects"],
                        sb["allocated_blocks"],
                        sa["allocated_blocks"],
                    )
                )
    for name in ("kill_worker", "sighup", "database_outage"):
        if name in figures:
            out.write("\n== %s\n" % name)
            for key, value in figures[name].items():
                if value or value == 0:
                    out.write("  %-34s %s\n" % (key, value))
    out.write("\n== checks\n")
    for name, passed, detail in checks:
        out.write("%s  %s: %s\n" % ("ok  " if passed else "FAIL", name, detail))
    failed = sum(not passed for _, passed, _ in checks)
    out.write("%d checks, %d failed\n" % (len(checks), failed))
    out.flush()


def _series_text(series, points=12):
    step = max(1, len(series) // points)
    picked = series[::step]
    if series and picked[-1] != series[-1]:
        picked.append(series[-1])
    return " ".join("%d:%d" % point for point in picked)
