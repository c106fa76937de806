"""An RCAR 0.4.0 client written with python3-jwcrypto (Debian), to check
rune-kbs against an implementation that is not ours: attests with Trustee's
`sample` evidence and prints the resource after opening its JWE.

  kbsclient.py URL repo/type/tag [--key ec|ec-p521|rsa|rsa1_5]

The report data is SHA-384 of the canonical JSON of {additional-evidence,
nonce, tee-pubkey}: for these ASCII-only members, sorted keys without
whitespace is RFC 8785's form.
"""
import argparse
import base64
import hashlib
import json
import sys
import urllib.request

from jwcrypto import jwe, jwk


def post(url, body, cookie=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if cookie:
        req.add_header("Cookie", cookie)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read()), r.headers.get("Set-Cookie")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("path")
    ap.add_argument("--key", default="ec")
    a = ap.parse_args()
    if a.key.startswith("ec"):
        key = jwk.JWK.generate(kty="EC", crv="P-521" if a.key == "ec-p521" else "P-256")
        alg = "ECDH-ES+A256KW"
    else:
        key = jwk.JWK.generate(kty="RSA", size=2048)
        alg = "RSA1_5" if a.key == "rsa1_5" else "RSA-OAEP-256"
    pub = json.loads(key.export_public())
    pub = {k: v for k, v in pub.items() if k in ("kty", "crv", "x", "y", "n", "e")}
    pub["alg"] = alg
    ch, cookie = post(a.url + "/kbs/v0/auth", {"version": "0.4.0", "tee": "sample",
                                                "extra-params": {"supported-hash-algorithms": ["sha384"]}})
    cookie = cookie.split(";")[0]
    bind = json.dumps({"additional-evidence": "", "nonce": ch["nonce"], "tee-pubkey": pub},
                      sort_keys=True, separators=(",", ":"))
    rd = hashlib.sha384(bind.encode()).digest()
    att = {"runtime-data": {"nonce": ch["nonce"], "tee-pubkey": pub},
           "tee-evidence": {"primary_evidence": {"svn": "1", "report_data": base64.b64encode(rd).decode()},
                            "additional_evidence": ""}}
    tok, _ = post(a.url + "/kbs/v0/attest", att, cookie)
    req = urllib.request.Request(a.url + "/kbs/v0/resource/" + a.path,
                                 headers={"Authorization": "Bearer " + tok["token"]})
    with urllib.request.urlopen(req) as r:
        answer = r.read()
    token = jwe.JWE()
    token.allowed_algs = [alg, "A256GCM"]  # RSA1_5 is off by default in jwcrypto
    token.deserialize(answer.decode(), key=key)
    sys.stdout.buffer.write(token.payload)


if __name__ == "__main__":
    main()
