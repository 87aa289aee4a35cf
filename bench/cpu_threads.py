#!/usr/bin/env python3
# CPU by process and thread name, every N seconds, for the processes whose command line
# matches a word (default: pingxuan) — the servers and loadgen of the vote bench side by
# side, and PostgreSQL's backends with `postgres`. One line per interval and process
# (`serve`/`loadgen` from its command line): total % of one core, then its busiest thread
# names. Run beside the bench: bench/cpu_threads.py [SECONDS] [WORD...] > cpu.log
import os, sys, time, collections, datetime

interval = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
words = sys.argv[2:] or ['pingxuan']
tick = os.sysconf('SC_CLK_TCK')

def sample():
    out = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\0', b' ').decode(errors='replace')
        except OSError:
            continue
        if not any(w in cmd for w in words) or 'cpu_threads' in cmd:
            continue
        role = next((w for w in ('serve', 'loadgen', 'bench') if w in cmd), cmd.split(' ')[0][-20:])
        try:
            tasks = os.listdir(f'/proc/{pid}/task')
        except OSError:
            continue
        for tid in tasks:
            try:
                stat = open(f'/proc/{pid}/task/{tid}/stat').read()
            except OSError:
                continue
            name = stat[stat.index('(') + 1:stat.rindex(')')]
            fields = stat[stat.rindex(')') + 2:].split()
            out[(pid, role, tid, name)] = int(fields[11]) + int(fields[12])
    return out

before, at = sample(), time.time()
while True:
    time.sleep(interval)
    now, t = sample(), time.time()
    span = (t - at) * tick
    per = collections.defaultdict(lambda: collections.Counter())
    for k, v in now.items():
        d = v - before.get(k, v)
        if d > 0:
            per[(k[0], k[1])][k[3]] += d
    stamp = datetime.datetime.utcfromtimestamp(t).strftime('%H:%M:%S')
    for (pid, role), names in sorted(per.items()):
        total = sum(names.values()) * 100 / span
        top = ', '.join(f'{n} {c * 100 / span:.0f}' for n, c in names.most_common(6))
        print(f'{stamp} {role:8s} {pid:>7s} {total:5.0f}% | {top}', flush=True)
    before, at = now, t
