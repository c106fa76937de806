"""A stand-in KBS for testing rune-attest against an implementation that is
not ours: the RCAR 0.4.0 server side with resources sealed by
python3-jwcrypto (Debian), and modes that misbehave as a hostile or broken
KBS would.

  fakekbs.py --port-file F --secret FILE [--mode MODE] [--log FILE]

Modes: ok, badjson, wrongkey, huge, hang, badnonce, expire-once, deny, notoken, nosim,
drip (the resource one byte a second), stall (half the resource, then nothing).
Every request is appended to --log as "METHOD PATH".
"""
import argparse
import base64
import json
import os
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jwcrypto import jwe, jwk

A = None
STATE = {"pubkey": None, "expired_once": False}


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, variant, detail):
        self.reply(status, {"type": "https://github.com/confidential-containers/kbs/errors/" + variant,
                            "detail": detail})

    def note(self):
        if A.log:
            with open(A.log, "a") as f:
                f.write("%s %s\n" % (self.command, self.path))

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return json.loads(self.rfile.read(n)) if n else None

    def do_POST(self):
        self.note()
        req = self.body()
        if self.path == "/kbs/v0/auth":
            if req.get("version") != "0.4.0":
                return self.error(401, "RcarAuthFailed", "version")
            if A.mode == "nosim" and req.get("tee") == "sim":
                # what a stock Trustee does with a TEE it does not know
                return self.error(401, "RcarAuthFailed", "unknown variant `sim`")
            nonce = 12345 if A.mode == "badnonce" else base64.b64encode(os.urandom(32)).decode()
            return self.reply(200, {"nonce": nonce, "extra-params": ""},
                              [("Set-Cookie", "kbs-session-id=%s; Path=/kbs" % secrets.token_hex(16))])
        if self.path == "/kbs/v0/attest":
            STATE["pubkey"] = req["runtime-data"]["tee-pubkey"]
            if A.mode == "notoken":
                return self.reply(200, {"nothing": "here"})
            header = b64url(json.dumps({"alg": "none"}).encode())
            claims = b64url(json.dumps({"exp": int(time.time()) + 300}).encode())
            return self.reply(200, {"token": header + "." + claims + ".x"})
        self.error(404, "InvalidRequestPath", self.path)

    def do_GET(self):
        self.note()
        if not self.path.startswith("/kbs/v0/resource/"):
            return self.error(404, "InvalidRequestPath", self.path)
        if A.mode == "hang":
            time.sleep(3600)
        if A.mode in ("drip", "stall"):
            body = b'{"protected": "' + b"x" * 200 + b'"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if A.mode == "stall":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    time.sleep(3600)
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
            return
        if A.mode == "huge":
            self.send_response(200)
            self.send_header("Content-Length", str(100 << 20))
            self.end_headers()
            chunk = b"x" * (1 << 20)
            try:
                for _ in range(100):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        if A.mode == "badjson":
            return self.reply(200, b"{this is not json")
        if A.mode == "deny":
            return self.error(401, "PolicyDeny", "rule default/key/1: tee sample not allowed")
        if A.mode == "expire-once" and not STATE["expired_once"]:
            STATE["expired_once"] = True
            return self.error(401, "TokenNotFound", "session expired")
        pub = STATE["pubkey"]
        if A.mode == "wrongkey":
            other = jwk.JWK.generate(kty="EC", crv="P-256")
            pub = json.loads(other.export_public())
            pub["alg"] = "ECDH-ES+A256KW"
        key = jwk.JWK(**{k: v for k, v in pub.items() if k != "alg"})
        alg = pub.get("alg") or ("ECDH-ES+A256KW" if pub["kty"] == "EC" else "RSA-OAEP-256")
        with open(A.secret, "rb") as f:
            secret = f.read()
        token = jwe.JWE(secret, protected=json.dumps({"alg": alg, "enc": "A256GCM"}))
        token.add_recipient(key)
        self.reply(200, json.loads(token.serialize(compact=False)))


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--mode", default="ok")
    ap.add_argument("--log")
    A = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(A.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(A.port_file + ".tmp", A.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
