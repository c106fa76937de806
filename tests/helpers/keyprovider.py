#!/usr/bin/env python3
"""A test ocicrypt key provider speaking the cmd protocol: one JSON request on
stdin, one answer on stdout. It wraps layer options the way the
attestation-agent provider does (an AnnotationPacket: the options sealed with
AES-256-GCM under a KEK, named by kid), with python3-cryptography, so skopeo
can encrypt through it and rune-image decrypt through it.

  keyprovider.py --kek FILE [--mode ok|hang|crash|garbage|huge]

The KEK file holds 32 raw bytes. Modes other than ok misbehave on unwrap.
"""
import argparse
import base64
import json
import os
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kek", required=True)
    ap.add_argument("--mode", default="ok")
    a = ap.parse_args()
    with open(a.kek, "rb") as f:
        kek = f.read()
    req = json.load(sys.stdin)
    if req["op"] == "keywrap":
        opts = base64.b64decode(req["keywrapparams"]["optsdata"])
        iv = os.urandom(12)
        packet = {"kid": "kbs:///default/key/1", "wrapped_data": base64.b64encode(AESGCM(kek).encrypt(iv, opts, None)).decode(),
                  "iv": base64.b64encode(iv).decode(), "wrap_type": "A256GCM"}
        json.dump({"keywrapresults": {"annotation": base64.b64encode(json.dumps(packet).encode()).decode()}}, sys.stdout)
        return
    if a.mode == "hang":
        time.sleep(3600)
    if a.mode == "crash":
        print("keyprovider: simulated crash", file=sys.stderr)
        os.abort()
    if a.mode == "garbage":
        sys.stdout.write("this is not JSON")
        return
    if a.mode == "huge":
        sys.stdout.write("x" * (4 << 20))
        return
    packet = json.loads(base64.b64decode(req["keyunwrapparams"]["annotation"]))
    opts = AESGCM(kek).decrypt(base64.b64decode(packet["iv"]), base64.b64decode(packet["wrapped_data"]), None)
    json.dump({"keyunwrapresults": {"optsdata": base64.b64encode(opts).decode()}}, sys.stdout)


if __name__ == "__main__":
    main()
