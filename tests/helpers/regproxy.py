#!/usr/bin/env python3
"""A test stand-in for the parts of a registry deployment the real
docker-registry cannot play here: a Bearer token server (with the registry
demanding its tokens, as token auth does), and faults (5xx, dropped
connections, corrupt or truncated blobs, oversized manifests).

It forwards everything else to the real registry (--upstream) and logs each
request line and its Range header to --log.

Two registry features docker-registry 2.8 lacks, played from the real
registry's content:
  --signatures DIR   the signature extension: /v2/ answers with
                     X-Registry-Supports-Signatures: 1, and
                     /extensions/v2/<repo>/signatures/<digest> lists
                     DIR/<repo>@<algo>=<hex>/signature-N (a lookaside layout)
  --referrers        the OCI 1.1 referrers API: /v2/<repo>/referrers/<digest>
                     answers the index the pusher keeps under the <algo>-<hex>
                     tag, filtered by ?artifactType= (as the API may)

Faults come from a JSON file re-read on every request:
  [{"match": "<regex on the path>", "action": "status500"|"drop"|"corrupt"|
    "truncate"|"bigmanifest"|"redirect"|"file:PATH"|"silent"|"stall"|"drip"|"slow",
    "times": N}]   (times: how often; default always)
  silent: the request is read and never answered; stall: the headers and
  half the body, then nothing (the connection stays open); drip: one byte of
  the body a second; slow: 64 KiB every 50 ms. Each holds the connection for at most 10 minutes.
"""
import argparse
import base64
import http.client
import http.server
import json
import os
import re
import secrets
import socketserver
import threading
import time
import urllib.parse

ARGS = None
TOKENS = set()
COUNTS = {}
LOCK = threading.Lock()


def faults():
    if not ARGS.faults:
        return []
    try:
        with open(ARGS.faults) as f:
            return json.load(f)
    except FileNotFoundError:
        return []


def pick_fault(path):
    for rule in faults():
        if re.search(rule["match"], path):
            key = json.dumps(rule, sort_keys=True)  # a rewritten rule counts afresh
            with LOCK:
                used = COUNTS.get(key, 0)
                if "times" in rule and used >= rule["times"]:
                    continue
                COUNTS[key] = used + 1
            return rule["action"]
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log(self, extra=""):
        with LOCK, open(ARGS.log, "a") as f:
            f.write("%s %s range=%s %s\n" % (self.command, self.path, self.headers.get("Range", "-"), extra))

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def token(self):
        want = "Basic " + base64.b64encode(ARGS.bearer.encode()).decode()
        if self.headers.get("Authorization") != want:
            self.log("token-denied")
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
        t = secrets.token_hex(16)
        with LOCK:
            TOKENS.add(t)
        self.log("token-issued")
        self.reply(200, json.dumps({"token": t, "expires_in": 300}).encode(), {"Content-Type": "application/json"})

    def authorized(self):
        if not ARGS.bearer:
            return True
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:] in TOKENS:
            return True
        realm = "http://%s/token" % self.headers.get("Host")
        self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                   {"WWW-Authenticate": 'Bearer realm="%s",service="test-registry"' % realm,
                    "Content-Type": "application/json"})
        return False

    def do_HEAD(self):
        self.do_GET()

    def signatures(self, repo, digest):
        d = os.path.join(ARGS.signatures, "%s@%s" % (repo, digest.replace(":", "=")))
        sigs, n = [], 1
        while os.path.exists(os.path.join(d, "signature-%d" % n)):
            with open(os.path.join(d, "signature-%d" % n), "rb") as f:
                sigs.append({"schemaVersion": 2, "type": "atomic", "name": "%s@%s" % (digest, n),
                             "content": base64.b64encode(f.read()).decode()})
            n += 1
        self.reply(200, json.dumps({"signatures": sigs}).encode(), {"Content-Type": "application/json"})

    def referrers(self, repo, digest, query):
        conn = http.client.HTTPConnection(ARGS.upstream, timeout=60)
        conn.request("GET", "/v2/%s/manifests/%s" % (repo, digest.replace(":", "-")),
                     headers={"Accept": "application/vnd.oci.image.index.v1+json"})
        up = conn.getresponse()
        body = up.read()
        index = json.loads(body) if up.status == 200 else {"schemaVersion": 2, "manifests": []}
        index["mediaType"] = "application/vnd.oci.image.index.v1+json"
        want = urllib.parse.parse_qs(query).get("artifactType")
        if want:
            index["manifests"] = [m for m in index["manifests"] if m.get("artifactType") == want[0]]
        self.reply(200, json.dumps(index).encode(), {"Content-Type": "application/vnd.oci.image.index.v1+json"})

    def do_GET(self):
        if self.path.startswith("/token"):
            return self.token()
        self.log()
        if not self.authorized():
            return
        path, _, query = self.path.partition("?")
        m = re.match(r"^/extensions/v2/(.+)/signatures/(sha256:[0-9a-f]{64})$", path)
        if m and ARGS.signatures:
            return self.signatures(m.group(1), m.group(2))
        m = re.match(r"^/v2/(.+)/referrers/(sha256:[0-9a-f]{64})$", path)
        if m and ARGS.referrers:
            return self.referrers(m.group(1), m.group(2), query)
        action = pick_fault(self.path)
        if action == "silent":
            time.sleep(600)
            return
        if action == "status500":
            return self.reply(500, b'{"errors":[{"code":"UNKNOWN","message":"injected"}]}')
        if action == "redirect":
            # Blob storage elsewhere, as S3-backed registries do it.
            return self.reply(307, b"", {"Location": "http://%s%s" % (ARGS.upstream, self.path)})
        if action and action.startswith("file:"):
            # A manifest the real registry would not take (e.g. a 10 MB annotation).
            with open(action[5:], "rb") as f:
                body = f.read()
            return self.reply(200, body, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        if action == "bigmanifest":
            body = b'{"schemaVersion":2,"pad":"' + b"x" * (5 << 20) + b'"}'
            return self.reply(200, body, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        conn = http.client.HTTPConnection(ARGS.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization")}
        conn.request(self.command, self.path, headers=headers)
        up = conn.getresponse()
        body = up.read()
        if action == "corrupt" and body:
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        if action == "truncate" and len(body) > 16:
            body = body[:-16]
        self.send_response(up.status)
        for k, v in up.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        if path == "/v2/" and ARGS.signatures:
            self.send_header("X-Registry-Supports-Signatures", "1")
        self.send_header("Content-Length", str(len(body) if action != "drop" else len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if action in ("stall", "drip"):
            self.wfile.write(body[: len(body) // 2] if action == "stall" else b"")
            self.wfile.flush()
            for i in range(600):
                if action == "drip" and i < len(body):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                time.sleep(1)
            return
        if action == "slow":
            for i in range(0, len(body), 65536):
                self.wfile.write(body[i : i + 65536])
                self.wfile.flush()
                time.sleep(0.05)
            return
        if action == "drop":
            # Half the body, then the connection goes away.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--bearer", help="user:password the token server accepts")
    p.add_argument("--faults")
    p.add_argument("--log", required=True)
    p.add_argument("--signatures", help="serve the signature extension from this lookaside directory")
    p.add_argument("--referrers", action="store_true", help="serve the OCI 1.1 referrers API")
    ARGS = p.parse_args()
    host, port = ARGS.listen.rsplit(":", 1)
    srv = Server((host, int(port)), Handler)
    print("LISTENING", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
