import json, mmap, multiprocessing as mp, sys

def smaps(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        fields = dict(l.split(":", 1) for l in f.read().splitlines()[1:] if ":" in l)
    return int(fields["Pss"].split()[0]) * 1024

def worker(mode, path, done, go):
    data, total = None, 0
    with open(path, "rb") as f:
        if mode == "mmap":
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        elif mode == "read":
            data = f.read()
    if data is not None:
        total = sum(data[i] for i in range(0, len(data), mmap.PAGESIZE))
    done.put(total)
    go.wait()

def group(mode, path, n):
    ctx = mp.get_context("fork")
    done, go = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=worker, args=(mode, path, done, go)) for _ in range(n)]
    for p in procs:
        p.start()
    for _ in procs:
        done.get(timeout=60)
    pss = [smaps(p.pid) for p in procs]
    go.set()
    for p in procs:
        p.join()
    return {"pss": pss}

path, n = sys.argv[1], int(sys.argv[2])
print(json.dumps({mode: group(mode, path, n) for mode in ("idle", "mmap", "read")}))
