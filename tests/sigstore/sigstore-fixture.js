#!/usr/bin/env node
// Sigstore test fixtures made with the reference implementation (sigstore-js):
// @sigstore/sign builds the bundles, @sigstore/mock's transparency log signs
// the entries (offline, in-process), @sigstore/verify checks every fixture we
// expect our verifier to accept, and @sigstore/oci attaches bundles to images.
//
//   sign  --key K.pem [--cert C.pem] [--rekor-key R.pem] --form message|dsse|sig
//         [--manifest M.json] [--digest D] [--subject-name N] [--payload P.json]
//         [--tamper] [--verify-key PUB.pem | --verify-ca CA.pem --email E --issuer I] --out OUT
//       message: a message-signature bundle over the manifest bytes;
//       dsse: a DSSE bundle of an in-toto statement naming --digest
//             (predicate https://sigstore.dev/cosign/sign/v1);
//       sig: cosign's .sig-tag layer for --payload: {"payload": b64, "annotations": {...}}.
//   push-sig REGISTRY REPO DIGEST LAYER.json...   the sha256-<hex>.sig manifest
//   attach REGISTRY/REPO DIGEST BUNDLE.json       an OCI 1.1 referrer (tag fallback without the API)
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const { MessageSignatureBundleBuilder, DSSEBundleBuilder, RekorWitness } = require('@sigstore/sign');
const { initializeTLog } = require('@sigstore/mock');
const { mock } = require('@sigstore/mock/dist/mock');
const { Verifier, toSignedEntity } = require('@sigstore/verify');
const { X509Certificate } = require('@sigstore/core');
const { bundleToJSON } = require('@sigstore/bundle');
const { attachArtifactToImage } = require('@sigstore/oci');
const { RegistryClient } = require('@sigstore/oci/dist/registry');

const REKOR_URL = 'https://rekor.mock.invalid';
const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

function args(argv) {
  const a = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) {
      const k = argv[i].slice(2);
      if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) a[k] = argv[++i];
      else a[k] = true;
    } else a._.push(argv[i]);
  }
  return a;
}

const pemToDer = (pem) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
const derToPem = (der, label) =>
  `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END ${label}-----\n`;

// A Signer over a key from a file, presenting a certificate or a public key.
function fileSigner(keyFile, certFile) {
  const key = crypto.createPrivateKey(fs.readFileSync(keyFile));
  const pub = crypto.createPublicKey(key).export({ type: 'spki', format: 'pem' });
  const certificate = certFile ? fs.readFileSync(certFile, 'utf8') : null;
  const ed = key.asymmetricKeyType === 'ed25519';
  return {
    async sign(data) {
      return {
        signature: crypto.sign(ed ? null : 'sha256', data, key),
        key: certificate ? { $case: 'x509Certificate', certificate } : { $case: 'publicKey', publicKey: pub, hint: '' },
      };
    },
  };
}

// The mock log, storing what a real Rekor stores: a dsse entry's canonical
// body (payloadHash, signatures with their verifier), not the proposed content.
async function mockRekor(keyFile) {
  const privateKey = crypto.createPrivateKey(fs.readFileSync(keyFile));
  const tlog = await initializeTLog(REKOR_URL, { privateKey, publicKey: crypto.createPublicKey(privateKey) });
  mock(REKOR_URL, {
    path: '/api/v1/log/entries',
    fn: async (body) => {
      let entry = JSON.parse(body);
      if (entry.kind === 'dsse') {
        const env = JSON.parse(entry.spec.proposedContent.envelope);
        const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
        entry = {
          apiVersion: '0.0.1',
          kind: 'dsse',
          spec: {
            envelopeHash: { algorithm: 'sha256', value: sha(entry.spec.proposedContent.envelope) },
            payloadHash: { algorithm: 'sha256', value: sha(Buffer.from(env.payload, 'base64')) },
            signatures: [{ signature: env.signatures[0].sig, verifier: entry.spec.proposedContent.verifiers[0] }],
          },
        };
      }
      return { statusCode: 201, response: JSON.stringify(await tlog.log(entry)), contentType: 'application/json' };
    },
  });
}

function statement(digest, name) {
  const subject = { digest: { sha256: digest.replace(/^sha256:/, '') } };
  if (name) subject.name = name;
  return Buffer.from(JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [subject],
    predicateType: 'https://sigstore.dev/cosign/sign/v1',
    predicate: {},
  }));
}

// An independent verdict on what we built, with trust material from files.
function independentlyVerify(a, bundle, artifact) {
  const start = new Date(0), end = new Date(8.64e15);
  const tlogs = [];
  if (a['rekor-key']) {
    const publicKey = crypto.createPublicKey(crypto.createPrivateKey(fs.readFileSync(a['rekor-key'])));
    const der = publicKey.export({ type: 'spki', format: 'der' });
    tlogs.push({ logID: crypto.createHash('sha256').update(der).digest(), baseURL: REKOR_URL, publicKey, validFor: { start, end } });
  }
  const cas = a['verify-ca'] ? [{ certChain: [X509Certificate.parse(fs.readFileSync(a['verify-ca'], 'utf8'))], validFor: { start, end } }] : [];
  const key = a['verify-key'] ? crypto.createPublicKey(fs.readFileSync(a['verify-key'])) : null;
  const material = {
    certificateAuthorities: cas, timestampAuthorities: [], tlogs, ctlogs: [],
    publicKey: () => ({ publicKey: key, validFor: () => true }),
  };
  const threshold = a['rekor-key'] ? 1 : 0;
  const verifier = new Verifier(material, { tlogThreshold: threshold, ctlogThreshold: 0, timestampThreshold: threshold });
  const policy = a.email ? { subjectAlternativeName: a.email, extensions: { issuer: a.issuer } } : undefined;
  verifier.verify(toSignedEntity(bundle, artifact), policy);
}

// cosign's .sig layer from a message-signature bundle over the payload.
function sigLayer(bundle, payload, a) {
  const vm = bundle.verificationMaterial;
  const ann = { 'dev.cosignproject.cosign/signature': bundle.content.messageSignature.signature.toString('base64') };
  const cert = vm.content.$case === 'certificate' ? vm.content.certificate.rawBytes
    : vm.content.$case === 'x509CertificateChain' ? vm.content.x509CertificateChain.certificates[0].rawBytes : null;
  if (cert) {
    ann['dev.sigstore.cosign/certificate'] = derToPem(cert, 'CERTIFICATE');
    if (a.chain) ann['dev.sigstore.cosign/chain'] = fs.readFileSync(a.chain, 'utf8');
  }
  const t = vm.tlogEntries[0];
  if (t) {
    ann['dev.sigstore.cosign/bundle'] = JSON.stringify({
      SignedEntryTimestamp: t.inclusionPromise.signedEntryTimestamp.toString('base64'),
      Payload: {
        body: t.canonicalizedBody.toString('base64'),
        integratedTime: Number(t.integratedTime),
        logIndex: Number(t.logIndex),
        logID: t.logId.keyId.toString('hex'),
      },
    });
  }
  if (a.tamper) payload = Buffer.from(payload.toString().replace('"critical"', '"critical" ').replace(/:1"/, ':2"'));
  return { payload: payload.toString('base64'), annotations: ann };
}

async function sign(a) {
  if (a['rekor-key']) await mockRekor(a['rekor-key']);
  const options = {
    signer: fileSigner(a.key, a.cert),
    witnesses: a['rekor-key'] ? [new RekorWitness({ rekorBaseURL: REKOR_URL, entryType: 'dsse' })] : [],
  };
  let artifact, bundle;
  if (a.form === 'dsse') {
    artifact = { data: statement(a.digest, a['subject-name']), type: 'application/vnd.in-toto+json' };
    bundle = await new DSSEBundleBuilder(options).create(artifact);
  } else {
    artifact = { data: fs.readFileSync(a.form === 'sig' ? a.payload : a.manifest) };
    bundle = await new MessageSignatureBundleBuilder(options).create(artifact);
  }
  if (a['verify-key'] || a['verify-ca']) independentlyVerify(a, bundle, a.form === 'dsse' ? undefined : artifact.data);
  const out = a.form === 'sig' ? sigLayer(bundle, artifact.data, a) : bundleToJSON(bundle);
  fs.writeFileSync(a.out, JSON.stringify(out));
}

async function pushSig(registry, repo, digest, layerFiles) {
  const client = new RegistryClient(registry, repo);
  const layers = [];
  for (const f of layerFiles) {
    const l = JSON.parse(fs.readFileSync(f));
    const d = await client.uploadBlob(Buffer.from(l.payload, 'base64'));
    layers.push({ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: d.digest, size: d.size, annotations: l.annotations });
  }
  const config = Buffer.from(JSON.stringify({
    architecture: '', os: '', config: {}, created: '0001-01-01T00:00:00Z',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  }));
  const c = await client.uploadBlob(config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: c.size },
    layers,
  });
  await client.uploadManifest(manifest, { reference: digest.replace(':', '-') + '.sig' });
}

async function main() {
  const a = args(process.argv.slice(2));
  const cmd = a._[0];
  if (cmd === 'sign') return sign(a);
  if (cmd === 'push-sig') return pushSig(a._[1], a._[2], a._[3], a._.slice(4));
  if (cmd === 'attach') {
    const bundle = fs.readFileSync(a._[3]);
    const content = JSON.parse(bundle).dsseEnvelope ? 'dsse-envelope' : 'message-signature';
    return attachArtifactToImage({
      artifact: bundle, mediaType: BUNDLE_TYPE, imageName: a._[1], imageDigest: a._[2],
      annotations: { 'dev.sigstore.bundle.content': content, 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' },
    });
  }
  throw new Error(`unknown command ${cmd}`);
}

main().catch((e) => {
  console.error(`sigstore-fixture: ${e.message}${e.cause ? ': ' + e.cause.message : ''}`);
  process.exit(1);
});
