#!/usr/bin/env python3
# Second by second, where a slow vote waited: loadgen's timeline (`<setup>-sustained-timeline.tsv`:
# acknowledged, over 50 ms, max, sent late) beside the server's log at
# `pingxuan_app::votes=debug,pingxuan_store=debug,pingxuan_web=debug` (the vote batches with
# their queue wait and steps, the handler's times, WAL restarts, scans) and, if given, `vmstat -t 1`
# (CPU idle, run queue; run it with TZ=UTC: the log's times are UTC). Prints the seconds with votes over 50 ms (or all with --all).
# Usage: bench/vote_seconds.py TIMELINE SERVER_LOG [VMSTAT] [--all]
import sys, re, collections, datetime

args = [a for a in sys.argv[1:] if not a.startswith('--')]
show_all = '--all' in sys.argv
timeline, log = args[0], args[1]
vm = args[2] if len(args) > 2 else None

def epoch(stamp):
    stamp = stamp.rstrip('Z')
    if '.' in stamp:
        stamp = stamp[:stamp.index('.')]
    return int(datetime.datetime.fromisoformat(stamp).replace(tzinfo=datetime.timezone.utc).timestamp())

rows = {}
for line in open(timeline).read().splitlines()[1:]:
    v = line.split('\t')
    if len(v) < 7:
        sys.exit('the timeline has no wall clock column (loadgen before session 23)')
    rows[int(v[6])] = dict(ack=int(v[1]), err=int(v[2]), slow=int(v[3]), max=float(v[4]), late=int(v[5]))

steps = None
srv = collections.defaultdict(lambda: dict(batches=[], handler=None, restarts=[], scan=[]))
for line in open(log, errors='replace'):
    m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?)', line)
    if not m:
        continue
    s = srv[epoch(m.group(1))]
    num = lambda k: int(re.search(k + r'=(\d+)', line).group(1)) if re.search(k + r'=(\d+)', line) else 0
    if 'vote batch steps' in line:
        # Logged inside the batch, before the lane's line for it: kept for that line.
        st = re.search(r'steps_us=\[([\d, ]*)\]', line)
        if st:
            steps = [int(x) for x in st.group(1).split(',') if x.strip()]
    elif re.search(r': vote batch votes=', line):
        s['batches'].append(dict(votes=num('votes'), ms=num(' ms'), waited=num('waited_ms'), turn=num('turn_us'), steps=steps))
        steps = None
    elif 'vote handler times' in line:
        b = re.search(r'before_us=(\d+) (\d+) (\d+)', line); t = re.search(r'total_us=(\d+) (\d+) (\d+)', line)
        if b and t:
            s['handler'] = (num('votes'), [int(x) for x in b.groups()], [int(x) for x in t.groups()])
    elif 'WAL restarted' in line:
        # restart_us since session 24 (restart_ms before).
        s['restarts'].append(num('restart_us') / 1000 if 'restart_us' in line else num('restart_ms'))
    elif 'scanned' in line or 'scan' in line and 'vote' in line:
        s['scan'].append(line.strip()[-160:])

cpu = {}
if vm:
    for line in open(vm):
        v = line.split()
        if len(v) < 17 or not v[0].isdigit():
            continue
        # vmstat -t: r b swpd free buff cache si so bi bo in cs us sy id wa st [gu] date time
        try:
            at = epoch(v[-2] + 'T' + v[-1])
        except ValueError:
            continue
        cpu[at] = dict(r=int(v[0]), us=int(v[12]), sy=int(v[13]), idle=int(v[14]), wa=int(v[15]))

print('unix        ack  >50ms  max_ms late | batches votes/b  ms_max queue_max_ms turn_max_us steps_mean_us(begin,insert,held,plan,rest,tallies,commit) | handler n before p50/p99/max total p50/p99/max (us) | wal | cpu r us sy id')
for at in sorted(rows):
    r = rows[at]
    if not show_all and r['slow'] == 0:
        continue
    s = srv.get(at, dict(batches=[], handler=None, restarts=[], scan=[]))
    b = s['batches']
    steps = [x['steps'] for x in b if x.get('steps')]
    mean = [sum(col) // len(col) for col in zip(*steps)] if steps else []
    h = s['handler']
    hs = f"{h[0]:5d} {h[1][0]}/{h[1][1]}/{h[1][2]} {h[2][0]}/{h[2][1]}/{h[2][2]}" if h else '-'
    c = cpu.get(at)
    cs = f"{c['r']:2d} {c['us']:2d} {c['sy']:2d} {c['idle']:2d}" if c else '-'
    print(f"{at} {r['ack']:5d} {r['slow']:5d} {r['max']:7.1f} {r['late']:4d} | {len(b):4d} "
          f"{sum(x['votes'] for x in b) / max(1, len(b)):6.1f} {max([x['ms'] for x in b], default=0):4d} "
          f"{max([x['waited'] for x in b], default=0):5d} {max([x['turn'] for x in b], default=0):7d} {mean} | {hs} | "
          f"{max(s['restarts'], default='')} | {cs}" + (' | ' + ' / '.join(s['scan']) if s['scan'] else ''))
