#!/usr/bin/python3
"""Soak: 10,000 mixed good and bad inputs through `docrt ocr` (archive mode)
or `docrt serve`, with RSS sampled throughout and every answer checked.

    perf/soak/soak.py archive [--n 10000] [--jobs 2] [--out DIR]
    perf/soak/soak.py serve   [--n 10000] [--streams 2] [--out DIR]
    perf/soak/soak.py windows OUT/rss.tsv N    (RSS per 1000 inputs of a run)

Inputs, drawn in a seeded random order (the same list for both modes):
  40 %  good snippets: 1 to 3 lines of known text (DejaVu / Liberation,
        ImageMagick), as PNG, JPEG, G4 TIFF and LZW TIFF (60 distinct files)
   2 %  good full pages: tests/pages/make_pages.py's A4 pages, 300 dpi
        (grey PNG, 16-bit PNG, RGB JPEG, a 2-page G4 TIFF)
  58 %  the bad-file catalogue's image cases (tests/data/bad/make_bad.py):
        truncated, forged, bombs, loops, wrong formats, ...
Checks, per input: a good input's text is within 5 % CER of its ground
truth and identical to that source's first output (same page, same text);
a bad input gets its catalogue outcome (error fragment, or read). Counts
failures by kind, crashes (a signal) and hangs (no progress for 10 min).
RSS: /proc/PID/status every second (archive) or every 50 answers (serve),
judged after a warm-up of 500 inputs and before teardown: the median and
the maximum per window of 1,000 inputs (first window vs last), and the
largest deviation of any sample from the one at input 500.

Writes OUT (default perf/results/soak/MODE): summary.json, summary.md,
rss.tsv. Not a CI job: about 15 minutes per mode on 2 cores.
"""
import argparse
import concurrent.futures as cf
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
WORDS = ('invoice total amount paid due date order number customer account '
         'balance report annual summary page section chapter letter archive '
         'record volume index register minutes meeting council station '
         'railway harbour street house garden north south river valley '
         'county parish school library museum office service public notice').split()


def rss_kb(pid):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def norm(t):
    return ' '.join(t.split())


def cer(gt, hyp):
    gt, hyp = norm(gt), norm(hyp)
    prev = list(range(len(hyp) + 1))
    for i, a in enumerate(gt, 1):
        cur = [i]
        for j, b in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = cur
    return prev[-1] / max(1, len(gt))


def make_snippets(out, n=60, seed=11):
    rng = random.Random(seed)
    fonts = ['DejaVu-Sans', 'DejaVu-Serif', 'Liberation-Serif', 'Liberation-Sans']
    exts = ['png', 'jpg', 'g4.tif', 'lzw.tif']
    good = []
    for i in range(n):
        lines = []
        for _ in range(rng.randint(1, 3)):
            ws = [rng.choice(WORDS) for _ in range(rng.randint(3, 6))]
            ws.insert(rng.randrange(len(ws) + 1), str(rng.randint(10, 9999)))
            ws[0] = ws[0].capitalize()
            lines.append(' '.join(ws))
        text = '\n'.join(lines)
        ext = exts[i % len(exts)]
        name = f'snippet{i:02d}.{ext}'
        path = os.path.join(out, name)
        cmd = ['convert', '-background', 'white', '-fill', 'black', '-font',
               fonts[i % len(fonts)], '-pointsize', str(rng.choice([28, 34, 40])),
               '-density', '300', f'label:{text}', '-bordercolor', 'white',
               '-border', '40']
        if ext == 'g4.tif':
            cmd += ['-threshold', '50%', '-compress', 'Group4']
        elif ext == 'lzw.tif':
            cmd += ['-colorspace', 'Gray', '-compress', 'LZW']
        elif ext == 'jpg':
            cmd += ['-quality', '85']
        subprocess.run(cmd + [path], check=True)
        good.append((name, path, text))
    return good


def build_inputs(out, n, seed=5):
    """[(id, kind, src_name, path, expect)] in the soak's order; expect is
    the GT text (good) or the catalogue row (bad)."""
    src = os.path.join(out, 'sources')
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    good = make_snippets(os.path.join(src))
    subprocess.run(['/usr/bin/python3', f'{ROOT}/tests/pages/make_pages.py',
                    f'{src}/pages'], check=True, stdout=subprocess.DEVNULL)
    full = []
    for stem in ('grey8', 'rgb', 'grey16', 'clean_g4'):
        f = [x for x in os.listdir(f'{src}/pages') if x.startswith(stem + '.')
             and not x.endswith(('.txt', '.order', '.rows'))][0]
        full.append((f, f'{src}/pages/{f}',
                     open(f'{src}/pages/{stem}.txt', encoding='utf-8').read()))
    subprocess.run(['/usr/bin/python3', f'{ROOT}/tests/data/bad/make_bad.py',
                    f'{src}/bad', '--weights', f'{ROOT}/weights'], check=True,
                   stdout=subprocess.DEVNULL)
    bad = []
    for line in open(f'{src}/bad/cases.tsv', encoding='utf-8'):
        name, kind, outcome, http, frag, what, sfrag = line.rstrip('\n').split('\t')
        if kind == 'image' and name != 'good.png':
            bad.append((name, f'{src}/bad/{name}',
                        dict(outcome=outcome, http=int(http), frag=frag, sfrag=sfrag)))
    rng = random.Random(seed)
    inputs = []
    for i in range(n):
        r = rng.random()
        if r < 0.40:
            name, path, text = rng.choice(good)
            inputs.append((i, 'good', name, path, text))
        elif r < 0.42:
            name, path, text = rng.choice(full)
            inputs.append((i, 'full', name, path, text))
        else:
            name, path, exp = rng.choice(bad)
            inputs.append((i, 'bad', name, path, exp))
    return inputs


class Judge:
    """Checks answers; counts failures by kind."""

    def __init__(self):
        self.first = {}
        self.fail = {}
        self.examples = []
        self.counts = {}
        self.lock = threading.Lock()

    def note(self, kind, ok, why=''):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if not ok:
                self.fail[kind] = self.fail.get(kind, 0) + 1
                if len(self.examples) < 30:
                    self.examples.append(why)

    def text(self, kind, name, gt, got):
        c = cer(gt, got)
        with self.lock:
            ref = self.first.setdefault(name, got)
        ok = c <= 0.05 and got == ref
        self.note(kind, ok, f'{name}: CER {c:.3f}, same as first: {got == ref}')
        return c


def windows(samples, n, width=1000):
    """Median and max RSS (kB) per window of `width` inputs, from input 500
    until the last input is done (teardown excluded)."""
    out = []
    for lo in range(500, n, width):
        rs = sorted(r for _, d, r in samples if lo <= d < min(lo + width, n))
        if rs:
            out.append((lo, min(lo + width, n), rs[len(rs) // 2], rs[-1]))
    return out


def summarise(out, mode, inputs, judge, samples, wall, rc_desc, extra):
    n = len(inputs)
    samples = [s for s in samples if s[1] < n] + [s for s in samples if s[1] >= n][:1]
    win = windows(samples, n)
    if win:
        first_med, last_med = win[0][2], win[-1][2]
        first_max = win[0][3]
        extra = dict(extra,
                     rss_window_median_first_last_mb=f'{first_med / 1024:.1f} -> {last_med / 1024:.1f} '
                     f'({100 * (last_med - first_med) / first_med:+.2f} %)',
                     rss_window_max_first_last_mb=f'{first_max / 1024:.1f} -> {win[-1][3] / 1024:.1f} '
                     f'({100 * (win[-1][3] - first_max) / first_max:+.2f} %)',
                     rss_windows_of_1000_inputs=' '.join(f'{m / 1024:.0f}' for _, _, m, _ in win))
    warm = [s for s in samples if s[1] >= 500]
    base = warm[0][2] if warm else None
    dev = max((abs(s[2] - base) / base for s in warm), default=0) if base else None
    hi = max((s[2] for s in warm), default=None)
    lo = min((s[2] for s in warm), default=None)
    s = dict(mode=mode, inputs=len(inputs),
             by_kind={k: judge.counts.get(k, 0) for k in ('good', 'full', 'bad')},
             failures_by_kind=judge.fail, failure_examples=judge.examples,
             wall_s=round(wall, 1), exit=rc_desc,
             rss_start_mb=round(samples[0][2] / 1024, 1) if samples else None,
             rss_at_500_mb=round(base / 1024, 1) if base else None,
             rss_end_mb=round(samples[-1][2] / 1024, 1) if samples else None,
             rss_min_after_500_mb=round(lo / 1024, 1) if lo else None,
             rss_max_after_500_mb=round(hi / 1024, 1) if hi else None,
             rss_max_deviation_after_500_pct=round(100 * dev, 2) if dev is not None else None,
             rss_samples=len(samples), **extra)
    with open(f'{out}/summary.json', 'w') as f:
        json.dump(s, f, indent=1)
    with open(f'{out}/rss.tsv', 'w') as f:
        f.write('seconds\tinputs_done\trss_kb\n')
        for t, d, r in samples:
            f.write(f'{t:.1f}\t{d}\t{r}\n')
    md = [f'# Soak: docrt {mode}, {len(inputs)} inputs', '',
          f'Command: `perf/soak/soak.py {mode} --n {len(inputs)}`', '',
          '| | |', '|---|---|',
          f"| inputs (good snippets / full pages / bad) | {s['by_kind']['good']} / {s['by_kind']['full']} / {s['by_kind']['bad']} |",
          f"| failures by kind | {json.dumps(judge.fail) if judge.fail else 'none'} |",
          f"| exit | {rc_desc} |",
          f"| wall time | {s['wall_s']} s |",
          f"| RSS start / at input 500 / end | {s['rss_start_mb']} / {s['rss_at_500_mb']} / {s['rss_end_mb']} MB |",
          f"| RSS after input 500: min / max | {s['rss_min_after_500_mb']} / {s['rss_max_after_500_mb']} MB |",
          f"| largest deviation from input 500 | {s['rss_max_deviation_after_500_pct']} % |"]
    for k, v in extra.items():
        md.append(f'| {k} | {v} |')
    with open(f'{out}/summary.md', 'w') as f:
        f.write('\n'.join(md) + '\n')
    print('\n'.join(md))
    return s


def run_archive(args, inputs, out):
    tree = f'{out}/tree'
    res = f'{out}/ocr'
    shutil.rmtree(tree, ignore_errors=True)
    shutil.rmtree(res, ignore_errors=True)
    for i, kind, name, path, _ in inputs:
        d = f'{tree}/d{i // 100:03d}'
        os.makedirs(d, exist_ok=True)
        os.link(path, f'{d}/i{i:05d}_{name}')
    exe = os.environ.get('DOCRT_EXE', f'{ROOT}/build/docrt')
    err = open(f'{out}/ocr.stderr', 'w')
    t0 = time.time()
    p = subprocess.Popen([exe, 'ocr', tree, '-o', res, '--jobs', str(args.jobs)],
                         stdout=subprocess.DEVNULL, stderr=err)
    samples = []
    last_done, last_change = 0, time.time()
    hang = False
    while p.poll() is None:
        time.sleep(1)
        r = rss_kb(p.pid)
        # done = inputs whose outputs or errors exist: count output files
        # every 10 s (a walk of 10,000 files), interpolate in between
        if len(samples) % 10 == 0:
            done = sum(len(fs) for _, _, fs in os.walk(res))
            errs = sum(1 for _ in open(f'{out}/ocr.stderr', errors='replace'))
            last = done + errs
            if last != last_done:
                last_done, last_change = last, time.time()
        if r:
            samples.append((time.time() - t0, last_done, r))
        if time.time() - last_change > 600:
            hang = True
            p.kill()
    wall = time.time() - t0
    err.close()
    rc = p.returncode
    rc_desc = 'hang (killed)' if hang else (f'signal {-rc}' if rc < 0 else f'exit {rc}')
    stderr = open(f'{out}/ocr.stderr', encoding='utf-8', errors='replace').read()
    lines = {}
    for line in stderr.splitlines():
        m = re.match(r'docrt: (\S+): (.*)', line)
        if m:
            lines.setdefault(os.path.basename(m.group(1)), line)
    judge = Judge()
    for i, kind, name, path, exp in inputs:
        base = f'i{i:05d}_{name}'
        stem = base.rsplit('.', 1)[0]
        txt = f'{res}/d{i // 100:03d}/{stem}.txt'
        line = lines.get(base)
        if kind in ('good', 'full'):
            if line or not os.path.exists(txt):
                judge.note(kind, False, f'{base}: {line or "no output"}')
                continue
            judge.text(kind, name, exp, open(txt, encoding='utf-8').read())
        else:
            if exp['outcome'] == 'ok':
                judge.note(kind, line is None and os.path.exists(txt),
                           f'{base}: expected read: {line}')
            else:
                ok = line is not None and exp['frag'] in line and \
                    os.path.exists(txt) == (exp['http'] == 200)
                judge.note(kind, ok, f'{base}: {line} (want {exp["frag"]})')
    return summarise(out, 'archive', inputs, judge, samples, wall, rc_desc,
                     dict(jobs=args.jobs, pages_per_s=round(len(inputs) / wall, 2)))


def run_serve(args, inputs, out):
    exe = os.environ.get('DOCRT_EXE', f'{ROOT}/build/docrt')
    err = open(f'{out}/serve.stderr', 'w')
    p = subprocess.Popen([exe, 'serve', '--listen', '127.0.0.1:0', '--streams',
                          str(args.streams), '--queue', '16', '--timeout', '60'],
                         stderr=err)
    port = None
    for _ in range(600):
        time.sleep(0.1)
        m = re.search(r'listening on http://127.0.0.1:(\d+)',
                      open(f'{out}/serve.stderr').read())
        if m:
            port = int(m.group(1))
            break
    if not port:
        sys.exit('soak: docrt serve did not start')
    judge = Judge()
    samples = []
    done = [0]
    lock = threading.Lock()
    t0 = time.time()

    def one(item):
        i, kind, name, path, exp = item
        body = open(path, 'rb').read()
        status, text = None, ''
        for attempt in range(100):  # 503 (queue full) is retried
            c = http.client.HTTPConnection('127.0.0.1', port, timeout=600)
            try:
                c.request('POST', '/v1/ocr?format=txt' if kind != 'bad' else '/v1/ocr',
                          body=body, headers={'Content-Type': 'application/octet-stream'})
                r = c.getresponse()
                status, text = r.status, r.read().decode('utf-8', 'replace')
            except Exception as e:  # noqa: BLE001 - any failure is counted
                status, text = None, f'{type(e).__name__}: {e}'
            finally:
                c.close()
            if status != 503:
                break
            time.sleep(0.2)
        if kind in ('good', 'full'):
            if status != 200:
                judge.note(kind, False, f'{i} {name}: status {status}: {text[:200]}')
            else:
                judge.text(kind, name, exp, text)
        else:
            ok = status == exp['http']
            if ok and exp['sfrag']:
                ok = exp['sfrag'] in text
            judge.note(kind, ok, f'{i} {name}: status {status}, want {exp["http"]}: {text[:200]}')
        with lock:
            done[0] += 1
            if done[0] % 50 == 0:
                r = rss_kb(p.pid)
                if r:
                    samples.append((time.time() - t0, done[0], r))

    samples.append((0.0, 0, rss_kb(p.pid)))
    with cf.ThreadPoolExecutor(max_workers=2 * args.streams) as ex:
        list(ex.map(one, inputs))
    wall = time.time() - t0
    alive = p.poll() is None
    prims = None
    try:
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
        c.request('GET', '/metrics')
        m = re.search(r'^docrt_primitives_created_total (\S+)$',
                      c.getresponse().read().decode(), re.M)
        prims = m.group(1) if m else None
        c.close()
    except Exception:  # noqa: BLE001
        pass
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = 'hang at SIGTERM'
    err.close()
    rc_desc = f'alive after all inputs: {alive}; exit after SIGTERM: {rc}'
    return summarise(out, 'serve', inputs, judge, samples, wall, rc_desc,
                     dict(streams=args.streams, requests_per_s=round(len(inputs) / wall, 2),
                          primitives_created_at_end=prims))


def rss_windows_cmd(tsv, n):
    """`soak.py windows RSS.TSV N`: the per-1000-input RSS table of a run."""
    rows = [l.split('\t') for l in open(tsv).read().split('\n')[1:] if l]
    samples = [(float(a), int(b), int(c)) for a, b, c in rows]
    print('| inputs | median RSS (MB) | max RSS (MB) |')
    print('|---|---|---|')
    for lo, hi, med, mx in windows([s for s in samples if s[1] < n], n):
        print(f'| {lo}-{hi} | {med / 1024:.1f} | {mx / 1024:.1f} |')


def main():
    if len(sys.argv) == 4 and sys.argv[1] == 'windows':
        return rss_windows_cmd(sys.argv[2], int(sys.argv[3]))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('mode', choices=['archive', 'serve'])
    ap.add_argument('--n', type=int, default=10000)
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--streams', type=int, default=2)
    ap.add_argument('--out')
    args = ap.parse_args()
    out = args.out or f'{ROOT}/perf/results/soak/{args.mode}'
    work = os.environ.get('SOAK_WORK', f'/tmp/docrt_soak_{args.mode}')
    os.makedirs(out, exist_ok=True)
    os.makedirs(work, exist_ok=True)
    inputs = build_inputs(work, args.n)
    s = (run_archive if args.mode == 'archive' else run_serve)(args, inputs, work)
    for f in ('summary.json', 'summary.md', 'rss.tsv'):
        shutil.copy(f'{work}/{f}', f'{out}/{f}')
    sys.exit(0 if not s['failures_by_kind'] else 1)


if __name__ == '__main__':
    main()
