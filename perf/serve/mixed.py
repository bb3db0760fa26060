#!/usr/bin/python3
"""mixed.py PORT N PAGE_DIR - N requests to docrt serve mixing valid pages,
truncated files, oversized bodies and garbage, 8 at a time, then a check
that the server lives and its RSS did not grow.

Kinds, in a seeded random order: 30 % valid PNG pages (perf/data pages),
25 % truncated (a valid page cut at a random offset), 15 % oversized
(Content-Length above --max-body; the body is not sent), 20 % garbage bytes
labelled image/png or image/tiff, 10 % a wrong Content-Type. Prints counts
by kind and status as JSON, with RSS sampled every 100 answers (from
/metrics); exit 1 if the server died, answered a valid page with anything
but 200/503, or an invalid one with 200/5xx other than 503.
"""
import http.client
import json
import os
import random
import sys
import threading
import time


def metric(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def one(port, kind, pages, rng, max_body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        if kind == "oversized":
            c.putrequest("POST", "/v1/ocr")
            c.putheader("Content-Type", "image/png")
            c.putheader("Content-Length", str(max_body + 1 + rng.randrange(10**9)))
            c.endheaders()
        else:
            data = rng.choice(pages)
            ctype = "image/png"
            if kind == "truncated":
                data = data[:rng.randrange(1, len(data))]
            elif kind == "garbage":
                data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096)))
                ctype = rng.choice(["image/png", "image/tiff", "image/jpeg"])
            elif kind == "wrongtype":
                ctype = rng.choice(["text/plain", "application/pdf", "video/mp4"])
            c.request("POST", "/v1/ocr?format=txt", body=data,
                      headers={"Content-Type": ctype})
        r = c.getresponse()
        r.read()
        return r.status
    except Exception as e:  # the server closed on us
        return f"error:{type(e).__name__}"
    finally:
        c.close()


def main():
    port, n, page_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    max_body = int(sys.argv[4]) if len(sys.argv) > 4 else 2 << 20
    files = sorted(f for f in os.listdir(page_dir) if f.endswith(".png"))[:50]
    pages = [open(os.path.join(page_dir, f), "rb").read() for f in files]
    rng = random.Random(5)
    kinds = rng.choices(["valid", "truncated", "oversized", "garbage", "wrongtype"],
                        weights=[30, 25, 15, 20, 10], k=n)
    rss0 = metric(port, "docrt_resident_memory_bytes")
    prim0 = metric(port, "docrt_primitives_created_total")
    counts, lock, it = {}, threading.Lock(), iter(enumerate(kinds))
    bad, trace = [], [(0, rss0)]

    def worker(seed):
        wr = random.Random(seed)
        while True:
            with lock:
                try:
                    i, kind = next(it)
                except StopIteration:
                    return
            st = one(port, kind, pages, wr, max_body)
            with lock:
                counts.setdefault(kind, {}).setdefault(str(st), 0)
                counts[kind][str(st)] += 1
                ok = (st in (200, 503)) if kind == "valid" else \
                    (isinstance(st, int) and 400 <= st < 500) or st == 503 or \
                    (kind == "oversized" and str(st).startswith("error"))
                if not ok:
                    bad.append((i, kind, st))
                n_done = sum(sum(v.values()) for v in counts.values())
                if n_done % 100 == 0:
                    trace.append((n_done, metric(port, "docrt_resident_memory_bytes")))

    t0 = time.time()
    th = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    wall = time.time() - t0
    rss1 = metric(port, "docrt_resident_memory_bytes")
    mb = [round(r / 2**20, 1) for _, r in trace]
    prim1 = metric(port, "docrt_primitives_created_total")
    out = {"requests": n, "seconds": round(wall, 1), "by_kind_status": counts,
           "unexpected": bad[:20], "n_unexpected": len(bad),
           "rss_before_mb": round(rss0 / 2**20, 1), "rss_after_mb": round(rss1 / 2**20, 1),
           "rss_growth_pct": round(100 * (rss1 - rss0) / rss0, 2),
           "rss_min_mb": min(mb), "rss_max_mb": max(mb),
           "rss_trace_mb": [[n_, m_] for (n_, _), m_ in zip(trace, mb)],
           "primitives_before": prim0, "primitives_after": prim1}
    print(json.dumps(out, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
