#!/usr/bin/env python3
"""A lookaside signature server for tests: serves --dir over HTTP the way a
web server holding `skopeo copy --sign-by` output does, or misbehaves:
  --mode files    the directory (404 for what is not there)
  --mode 500      every request fails with HTTP 500
  --mode garbage  signature-1 is junk that is not OpenPGP (and there is no signature-2)
  --mode huge     every signature-N is a 100 MB body, streamed
  --mode many     signature-N exists for every N (the content of signature-1)
Prints LISTENING PORT when ready; logs request paths to --log.
"""
import argparse
import http.server
import os
import random
import socketserver
import sys

ARGS = None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if ARGS.log:
            with open(ARGS.log, "a") as f:
                f.write(self.path + "\n")
        path = os.path.normpath(os.path.join(ARGS.dir, self.path.lstrip("/")))
        if ARGS.mode == "500":
            return self.send(500, b"internal error")
        if ARGS.mode == "garbage" and self.path.endswith("/signature-1"):
            # not OpenPGP: no byte has the bit every packet tag sets (random
            # bytes sometimes make a packet stream gpg reads as "no signature")
            return self.send(200, bytes(random.Random(7).getrandbits(7) for _ in range(4096)))
        if ARGS.mode == "huge":
            chunk = b"\x00" * (1 << 20)
            self.send_response(200)
            self.send_header("Content-Length", str(100 << 20))
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if ARGS.mode == "many":
            path = os.path.join(os.path.dirname(path), "signature-1")
        if ARGS.mode == "garbage" or not path.startswith(ARGS.dir) or not os.path.isfile(path):
            return self.send(404, b"not found")
        with open(path, "rb") as f:
            self.send(200, f.read())


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--mode", default="files")
    p.add_argument("--log")
    ARGS = p.parse_args()
    ARGS.dir = os.path.abspath(ARGS.dir)
    srv = Server(("127.0.0.1", 0), Handler)
    print("LISTENING %d" % srv.server_address[1], flush=True)
    sys.stdout.close()
    srv.serve_forever()


if __name__ == "__main__":
    main()
