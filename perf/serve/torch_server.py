#!/usr/bin/python3
"""torch_server.py - the PyTorch pipeline of perf/torch behind a minimal HTTP
server (Python's http.server), the peer of `docrt serve` in perf/serve/load.sh.

    /usr/bin/python3 perf/serve/torch_server.py --port P [--threads N]

POST /v1/ocr with an image body (TIFF, PNG or JPEG; OpenCV decodes it, every
page of a TIFF) answers the page text as text/plain, pages split by a form
feed; an undecodable body gets 422. GET /healthz answers 200, GET /metrics
the process RSS in bytes (docrt_resident_memory_bytes, so load.sh reads both
servers the same way).

One request runs at a time (a lock around the pipeline) with PyTorch's
intra-op threads set to --threads: the way a PyTorch model is served on a
small CPU box, since the GIL keeps Python-level work serial anyway. Requests
that arrive meanwhile wait in their handler threads (ThreadingHTTPServer).
"""
import argparse
import os
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
from pipeline import REPO, Pipeline, read_pages, rss_mib  # noqa: E402


def decode(body):
    """Every page of the image in body as BGR arrays."""
    img = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    if img is not None and not body.startswith((b"II*\0", b"MM\0*")):
        return [img]
    # OpenCV 4.6 has no imdecodemulti: multi-page TIFFs go through a file.
    with tempfile.NamedTemporaryFile(suffix=".tif") as f:
        f.write(body)
        f.flush()
        return read_pages(f.name)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pipe = None
    lock = threading.Lock()

    def log_message(self, fmt, *args):  # no line per request
        pass

    def reply(self, code, body, ctype="text/plain; charset=utf-8"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/healthz":
            self.reply(200, "ok\n")
        elif self.path == "/metrics":
            rss = int(rss_mib() * 1048576)
            self.reply(200, f"docrt_resident_memory_bytes {rss}\n")
        else:
            self.reply(404, "not found\n")

    def do_POST(self):
        if not self.path.startswith("/v1/ocr"):
            self.reply(404, "not found\n")
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        try:
            pages = decode(body)
        except Exception as e:
            self.reply(422, f"cannot decode: {e}\n")
            return
        with self.lock:
            texts = [self.pipe.page(img) for img in pages]
        self.reply(200, "\f".join(texts) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--weights", default=os.path.join(REPO, "weights"))
    ap.add_argument("--batch", type=int, default=6,
                    help="recognition batch (pipeline.py's default, as in perf/'s tables)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    Handler.pipe = Pipeline(args.weights, batch=args.batch)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    print(f"torch_server.py: listening on http://127.0.0.1:{args.port} "
          f"(torch {torch.__version__}, {args.threads} threads)", file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
