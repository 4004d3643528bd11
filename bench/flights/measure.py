"""Runs one command and prints what it cost, for bench/flights_bench.sh.

    measure.py LOG [--server-pid PID] -- COMMAND [ARG...]

The command's stdout and stderr go to LOG. Printed on one line:
    <wall s> <peak RSS KiB> <exit code> <CPU s> <server peak KiB> <server CPU s>
- wall: monotonic clock around the command;
- peak RSS: getrusage(RUSAGE_CHILDREN).ru_maxrss, the largest resident set of the command or of
  any of its descendants (what /usr/bin/time -v prints as "Maximum resident set size");
- CPU: user + system time of the command and its descendants, all threads;
- with --server-pid (a PostgreSQL postmaster that is not a child of this process): the peak,
  sampled every 50 ms, of the summed proportional set size (Pss, so the shared buffers count
  once) of the postmaster and its child processes, and their CPU time during the command
  (their own plus that of the children the postmaster reaped). Without it, both are 0.
"""
import os
import resource
import subprocess
import sys
import threading
import time

TICKS = os.sysconf("SC_CLK_TCK")


def children_of(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid, with_reaped):
    """utime + stime of pid (plus cutime + cstime when with_reaped), in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def server_cpu_ticks(server):
    return cpu_ticks(server, True) + sum(cpu_ticks(k, False) for k in children_of(server))


def main():
    args = sys.argv[1:]
    if len(args) < 3 or "--" not in args:
        sys.exit("usage: measure.py LOG [--server-pid PID] -- COMMAND [ARG...]")
    log_path = args[0]
    server = None
    if args[1] == "--server-pid":
        server = int(args[2])
    command = args[args.index("--") + 1:]

    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            total = pss_kib(server) + sum(pss_kib(k) for k in children_of(server))
            peak[0] = max(peak[0], total)
            stop.wait(0.05)

    sampler = None
    server_start = 0
    if server is not None:
        server_start = server_cpu_ticks(server)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    with open(log_path, "w") as log:
        start = time.monotonic()
        rc = subprocess.call(command, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT)
        wall = time.monotonic() - start
    server_cpu = 0.0
    if server is not None:
        stop.set()
        sampler.join()
        server_cpu = (server_cpu_ticks(server) - server_start) / TICKS
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"{wall:.3f} {usage.ru_maxrss} {rc} {usage.ru_utime + usage.ru_stime:.3f} "
          f"{peak[0]} {server_cpu:.3f}")


if __name__ == "__main__":
    main()
