#!/usr/bin/env bash
# Load test of docrt serve (perf, not CI):
#   1. wrk posts a real dev-set page to /v1/ocr for --duration seconds
#      (default 300) at saturation (6 connections on --streams 2, queue 8):
#      requests/s, p50/p95/p99 latency, responses by status, RSS before and
#      after (from /metrics, after 10 warm-up requests).
#   2. mixed.py sends --mixed requests (default 10,000) mixing valid pages,
#      truncated files, oversized bodies, garbage and wrong types, 8 at a
#      time: every answer as expected, the server alive, RSS flat,
#      primitives created unchanged.
#   3. SIGTERM: the server must exit 0.
#   4. The peer: perf/torch's PyTorch pipeline behind Python's http.server
#      (torch_server.py, --threads = --streams, one request at a time), the
#      same wrk run on the same page: requests/s and latency, and the ratio.
#      --no-torch skips it; --torch-only runs only this phase and writes
#      the summary with the docrt results already in OUT.
#
#   perf/serve/load.sh [--duration S] [--mixed N] [--streams N] [--out DIR]
#                      [--no-torch | --torch-only]
#
# Needs wrk (Debian) and the dev set (DEVSET, default ../shared/data/devset;
# without it the README's sample page is used). Writes OUT (default
# perf/results/serve): load.json, load.md, server.stderr.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
duration=300 mixed=10000 streams=2 out=$root/perf/results/serve torch=1 docrt=1
while (($#)); do
    case $1 in
    --duration) duration=$2; shift 2 ;;
    --mixed) mixed=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-torch) torch=0; shift ;;
    --torch-only) docrt=0; shift ;;
    *) sed -n '2,25p' "$0" >&2; exit 2 ;;
    esac
done
exe=${DOCRT_EXE:-$root/build/docrt}
py=/usr/bin/python3
devset=${DEVSET:-$root/../shared/data/devset}
command -v wrk >/dev/null || { echo "load.sh: apt-get install wrk" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
page=$devset/images/ob_d044_holborn.tif type=image/tiff
if [[ ! -f $page ]]; then
    page=$root/tests/data/gen/sample_page.png type=image/png
    [[ -f $page ]] || $py "$root/tests/make_sample_input.py" >/dev/null
fi
small=${TMPDIR:-/tmp}/docrt_serve_pages
[[ -s $small/list.txt ]] || $py "$root/perf/data/make_pages.py" --count 50 \
    --seed 3 --min-width 480 --max-width 960 --out "$small" 2>/dev/null

if ((docrt)); then
"$exe" serve --listen 127.0.0.1:0 --streams "$streams" --queue 8 \
    --max-body 16M --timeout 30 2>"$out/server.stderr" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
port=
for _ in $(seq 600); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\) .*/\1/p' "$out/server.stderr")
    [[ -n $port ]] && break
    sleep 0.1
done
[[ -n $port ]] || { echo "load.sh: server did not start" >&2; cat "$out/server.stderr" >&2; exit 1; }
url=http://127.0.0.1:$port
rss() { curl -s "$url/metrics" | awk '$1 == "docrt_resident_memory_bytes" { printf "%.1f", $2 / 1048576 }'; }
for _ in $(seq 10); do
    curl -s -o /dev/null -X POST --data-binary @"$page" -H "Content-Type: $type" "$url/v1/ocr?format=txt"
done
rss0=$(rss)
echo "load.sh: wrk for ${duration}s on $(basename "$page"), --streams $streams" >&2
wrk -t2 -c6 -d"${duration}s" --timeout 120s -s "$here/post_page.lua" "$url" -- "$page" "$type" \
    >"$out/wrk.txt"
rss1=$(rss)
# wrk leaves requests queued when it stops (their clients gone): wait until
# the server is idle, or the mixed phase meets a full queue (all 503).
for _ in $(seq 600); do
    idle=$(curl -s "$url/metrics" | awk '$1 == "docrt_queue_depth" || $1 == "docrt_in_flight" { s += $2 } END { print s + 0 }')
    [[ $idle == 0 ]] && break
    sleep 0.5
done
echo "load.sh: $mixed mixed requests" >&2
rc_mixed=0
$py "$here/mixed.py" "$port" "$mixed" "$small" $((16 << 20)) >"$out/mixed.json" || rc_mixed=$?
rss2=$(rss)
alive=$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")
kill -TERM $pid
rc_server=0
wait $pid || rc_server=$?
trap - EXIT
echo "$rss0 $rss1 $rss2 $alive $rc_server $rc_mixed" >"$out/docrt_state.txt"
fi
read -r rss0 rss1 rss2 alive rc_server rc_mixed <"$out/docrt_state.txt"

rm -f "$out/wrk_torch.txt"
if ((torch)); then
    tport=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    $py "$here/torch_server.py" --port "$tport" --threads "$streams" 2>"$out/torch_server.stderr" &
    tpid=$!
    trap 'kill $tpid 2>/dev/null || true' EXIT
    for _ in $(seq 600); do
        curl -sf -o /dev/null "http://127.0.0.1:$tport/healthz" && break
        sleep 0.2
    done
    turl=http://127.0.0.1:$tport
    for _ in $(seq 3); do
        curl -s -o /dev/null -X POST --data-binary @"$page" -H "Content-Type: $type" "$turl/v1/ocr"
    done
    trss() { curl -s "$turl/metrics" | awk '$1 == "docrt_resident_memory_bytes" { printf "%.1f", $2 / 1048576 }'; }
    trss0=$(trss)
    echo "load.sh: wrk for ${duration}s against the PyTorch pipeline (torch_server.py)" >&2
    wrk -t2 -c6 -d"${duration}s" --timeout 120s -s "$here/post_page.lua" "$turl" -- "$page" "$type" \
        >"$out/wrk_torch.txt"
    trss1=$(trss)
    echo "TORCH rss_before_mb=$trss0 rss_after_mb=$trss1" >>"$out/wrk_torch.txt"
    kill $tpid
    wait $tpid 2>/dev/null || true
    trap - EXIT
fi

$py - "$out" "$rss0" "$rss1" "$rss2" "$alive" "$rc_server" "$rc_mixed" "$duration" "$streams" "$(basename "$page")" <<'PY'
import json, os, sys
out, rss0, rss1, rss2, alive, rc_srv, rc_mix, dur, streams, page = sys.argv[1:]


def wrk_result(path):
    res = {}
    for line in open(path):
        if line.startswith(("RESULT ", "TORCH ")):
            for kv in line.split()[1:]:
                k, v = kv.split("=")
                res[k] = float(v)
    return res


res = wrk_result(out + "/wrk.txt")
tres = wrk_result(out + "/wrk_torch.txt") if os.path.exists(out + "/wrk_torch.txt") else None
mixed = json.load(open(out + "/mixed.json"))
rss0, rss1, rss2 = float(rss0), float(rss1), float(rss2)
summary = {"page": page, "duration_s": int(dur), "streams": int(streams), "wrk": res,
           "rss_before_mb": rss0, "rss_after_wrk_mb": rss1, "rss_after_mixed_mb": rss2,
           "rss_growth_wrk_pct": round(100 * (rss1 - rss0) / rss0, 2),
           "mixed": mixed, "healthz_after": int(alive), "server_exit": int(rc_srv),
           "mixed_exit": int(rc_mix)}
if tres:
    summary["torch"] = tres
    summary["docrt_over_torch_rps"] = round(res["rps"] / tres["rps"], 2)
json.dump(summary, open(out + "/load.json", "w"), indent=1)
codes = ", ".join(f"{k[7:]}: {int(v)}" for k, v in res.items() if k.startswith("status_"))
md = [f"Saturation ({dur} s, wrk -t2 -c6, {page}, --streams {streams}): "
      f"{res.get('rps', 0):.2f} requests/s, latency p50 {res.get('p50_ms', 0):.0f} ms, "
      f"p95 {res.get('p95_ms', 0):.0f} ms, p99 {res.get('p99_ms', 0):.0f} ms; "
      f"responses {codes}; socket errors {int(res.get('socket_errors', 0))}; "
      f"RSS {rss0:.1f} -> {rss1:.1f} MiB ({summary['rss_growth_wrk_pct']:+.2f} %).",
      "",
      f"Mixed ({mixed['requests']} requests, {mixed['seconds']} s): "
      + "; ".join(f"{k}: " + ", ".join(f"{s} x{n}" for s, n in sorted(v.items()))
                  for k, v in sorted(mixed["by_kind_status"].items()))
      + f"; unexpected answers {mixed['n_unexpected']}; RSS {mixed['rss_before_mb']} -> "
      f"{mixed['rss_after_mb']} MiB ({mixed['rss_growth_pct']:+.2f} %; sampled every 100 "
      f"answers: {mixed['rss_min_mb']}-{mixed['rss_max_mb']} MiB); primitives "
      f"{int(mixed['primitives_before'])} -> {int(mixed['primitives_after'])}; "
      f"/healthz after: {alive}; exit on SIGTERM: {rc_srv}."]
if tres:
    tcodes = ", ".join(f"{k[7:]}: {int(v)}" for k, v in tres.items() if k.startswith("status_"))
    md += ["",
           f"PyTorch pipeline behind http.server (perf/serve/torch_server.py, torch threads "
           f"{streams}), same wrk run: {tres['rps']:.2f} requests/s, latency p50 "
           f"{tres['p50_ms']:.0f} ms, p95 {tres['p95_ms']:.0f} ms, p99 {tres['p99_ms']:.0f} ms; "
           f"responses {tcodes}; socket errors {int(tres.get('socket_errors', 0))}; RSS "
           f"{tres['rss_before_mb']:.1f} -> {tres['rss_after_mb']:.1f} MiB. "
           f"docrt / PyTorch requests/s: {summary['docrt_over_torch_rps']:.2f}x."]
open(out + "/load.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
[[ $rc_mixed == 0 && $rc_server == 0 && $alive == 200 ]]
