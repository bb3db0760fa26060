#!/usr/bin/env bash
# Every perf/ benchmark in one command, on a fresh Debian 12 machine:
#   sudo perf/setup.sh && perf/run_all.sh
# builds docrt (Release) if needed, then runs, in this order so that no two
# timed runs share the CPU:
#   1. perf/bench_models.py   model level: docrt f32/bf16 vs ORT vs PyTorch
#   2. perf/bench_e2e.sh      end to end: dev set and 200 generated pages
#   3. perf/bench_startup.sh  process start to first result, compile time
#   4. perf/memory/run_memory.sh  RSS over 2,000 pages (the long one: about
#                             an hour on 2 cores)
#   5. perf/serve/load.sh     docrt serve under wrk, 10,000 mixed requests,
#                             the PyTorch pipeline behind http.server (~35 min)
#   6. perf/doctr/run.sh      docTR's models: PyTorch predictor vs docrt, RSS
#                             over 500 pages (~40 min with the detector's
#                             13-minute training)
# Results (JSON, Markdown tables, rss.png) go to perf/results/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
[[ -x build/docrt ]] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j"$(nproc)"; }
weights/fetch.sh
/usr/bin/python3 perf/bench_models.py
perf/bench_e2e.sh
perf/bench_startup.sh
perf/memory/run_memory.sh
perf/serve/load.sh
perf/doctr/run.sh
