#!/usr/bin/env python3
# What a commit's sync costs on this disk, alone and beside a checkpoint's: a 16 KiB write
# and sync every 2 ms for 20 s (as the vote lane commits), with — unless `--alone` — a
# thread writing 16 MiB over a growing file and syncing it every 250 ms (as a WAL
# checkpoint copies pages back). Prints p50/p90/p99/p99.9/max of the small syncs.
# Usage: bench/sync_beside.py fsync|fdatasync [--alone]   (files under $TMPDIR or /tmp)
import os, sys, tempfile, threading, time

mode = sys.argv[1] if len(sys.argv) > 1 else 'fsync'
alone = '--alone' in sys.argv
sync = os.fsync if mode == 'fsync' else os.fdatasync
tmp = tempfile.gettempdir()
w_path, d_path = os.path.join(tmp, 'sync_beside_w.bin'), os.path.join(tmp, 'sync_beside_d.bin')
w = os.open(w_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(w, os.urandom(64 << 20))
os.fsync(w)
d = os.open(d_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
stop = False

def checkpoints():
    off, chunk = 0, os.urandom(4 << 20)
    while not stop:
        for _ in range(4):
            os.pwrite(d, chunk, off)
            off += len(chunk) // 2
        os.ftruncate(d, off + len(chunk))
        os.fsync(d)
        time.sleep(0.25)

beside = None if alone else threading.Thread(target=checkpoints)
if beside:
    beside.start()
buf, lat, i = os.urandom(16 << 10), [], 0
end = time.time() + 20
while time.time() < end:
    t = time.perf_counter()
    os.pwrite(w, buf, (i % 4000) * len(buf))
    sync(w)
    lat.append(time.perf_counter() - t)
    i += 1
    time.sleep(0.002)
stop = True
if beside:
    beside.join()
lat.sort()
n = len(lat)
ms = lambda q: lat[min(n - 1, int(n * q))] * 1e3
print(f"{mode}{' alone' if alone else ' beside'}: {n} syncs, p50 {ms(.5):.2f} p90 {ms(.9):.2f} "
      f"p99 {ms(.99):.2f} p99.9 {ms(.999):.2f} max {lat[-1] * 1e3:.2f} ms")
for f in (w, d):
    os.close(f)
os.unlink(w_path)
os.unlink(d_path)
