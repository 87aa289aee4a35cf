#!/usr/bin/env python3
# Per minute, from a server log at `pingxuan_app::votes=debug,pingxuan_store=debug` (the vote
# bench with PINGXUAN_BENCH_SERVER_LOG and PINGXUAN_BENCH_LOG_DIR): the vote batches (count,
# votes, batch time p50/p99/max) and SQLite's WAL restarts. Usage: bench/vote_batches.py LOG...
import sys, re, collections

for path in sys.argv[1:]:
    per = collections.defaultdict(list); rest = collections.defaultdict(list)
    for line in open(path, errors='replace'):
        m = re.match(r'(\S+T\d\d:\d\d)', line)
        if not m: continue
        minute = m.group(1)
        if 'vote batch' in line:
            v = re.search(r'votes=(\d+)', line); ms = re.search(r'ms=(\d+)', line)
            if v and ms: per[minute].append((int(v.group(1)), int(ms.group(1))))
        elif 'WAL restarted' in line:
            # restart_us since session 24 (restart_ms before).
            u = re.search(r'restart_us=(\d+)', line); r = re.search(r'restart_ms=(\d+)', line)
            held = int(u.group(1)) / 1000 if u else int(r.group(1)) if r else None
            w = re.search(r'wait_ms=(\d+)', line); b = re.search(r'busy=(\d+)', line)
            if held is not None: rest[minute].append((held, int(w.group(1)) if w else 0, int(b.group(1)) if b else 0))
    print('==', path)
    for minute in sorted(set(per) | set(rest)):
        b = per.get(minute, []); ms = sorted(x[1] for x in b); rs = rest.get(minute, [])
        r = sorted(x[0] for x in rs); w = sorted(x[1] for x in rs); busy = sum(1 for x in rs if x[2])
        q = lambda a, p: a[min(len(a)-1, int(p*len(a)))] if a else 0
        print(f"{minute} batches {len(b):5d} votes {sum(x[0] for x in b):7d} votes/batch {sum(x[0] for x in b)/max(1,len(b)):5.1f} batch ms p50 {q(ms,.5):4d} p99 {q(ms,.99):4d} max {ms[-1] if ms else 0:5d} | restarts {len(r):3d} held p50 {q(r,.5)} max {r[-1] if r else 0} ms, waited for the lane max {w[-1] if w else 0} ms, {busy} left busy")
