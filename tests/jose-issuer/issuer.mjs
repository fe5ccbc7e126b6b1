// tests/passport_https_test.cc runs this: a GA4GH Passport Broker and Visa Issuer whose tokens
// are made by jose (panva/jose, an npm JWT library independent of the node's cjose and of the
// tests' OpenSSL signer), with its keys published over HTTPS as OpenID Connect Discovery does.
//
//   node issuer.mjs --cert CERT.pem --key KEY.pem [--issuer-host 127.0.0.1]
//
// Listens on two ephemeral loopback ports and prints, once both are up:
//   issuer https://HOST:PORT control http://127.0.0.1:PORT
//
// HTTPS (the issuer, as the node sees it):
//   GET /.well-known/openid-configuration   {issuer, jwks_uri}
//   GET /jwks                               the current public keys (one ES256, one RS256)
//   GET /status/CODE                        an empty answer with that HTTP status
//   GET /big?bytes=N                        a 200 answer of N bytes
//   GET /hang                               never answers
// HTTP control (the test's):
//   POST /passport {alg, sub, expires_in, iat_offset, visas: [{type, value, source, by, sub,
//        expires_in, asserted_offset}]}          -> {token}: visas and passport signed by jose
//   POST /rotate                                 -> {kids}: new keys (new kids) replace the old
//   GET  /stats                                  -> {config_fetches, jwks_fetches, kids}
// Exits on SIGTERM or SIGINT.
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const certFile = arg('--cert');
const keyFile = arg('--key');
const issuerHost = arg('--issuer-host', '127.0.0.1');
if (!certFile || !keyFile) {
  console.error('usage: node issuer.mjs --cert CERT.pem --key KEY.pem [--issuer-host HOST]');
  process.exit(2);
}

let generation = 0;
let keys = {};  // alg -> {kid, privateKey, publicJwk}
const stats = { config_fetches: 0, jwks_fetches: 0 };
let issuer = '';

async function makeKeys() {
  generation += 1;
  const next = {};
  for (const alg of ['ES256', 'RS256']) {
    const { publicKey, privateKey } = await generateKeyPair(alg, alg === 'RS256' ? { modulusLength: 2048 } : {});
    const publicJwk = await exportJWK(publicKey);
    const kid = `jose-${alg.toLowerCase()}-${generation}`;
    next[alg] = { kid, privateKey, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
  }
  keys = next;
}

const now = () => Math.floor(Date.now() / 1000);

async function sign(alg, typ, claims, sub, issuedAt, expiresAt) {
  const key = keys[alg];
  if (!key) throw new Error(`no ${alg} key`);
  return new SignJWT(claims)
    .setProtectedHeader({ alg, typ, kid: key.kid })
    .setIssuer(issuer)
    .setSubject(sub)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

async function mintPassport(spec) {
  const alg = spec.alg || 'ES256';
  const sub = spec.sub || 'researcher-1';
  const t = now();
  const visas = [];
  for (const v of spec.visas || []) {
    const object = {
      type: v.type,
      asserted: t + (v.asserted_offset ?? -86400),
      value: v.value,
      source: v.source || issuer,
    };
    if (v.by) object.by = v.by;
    visas.push(await sign(alg, 'JWT', { ga4gh_visa_v1: object }, v.sub || sub, t - 60,
                          t + (v.expires_in ?? 3600)));
  }
  return sign(alg, 'vnd.ga4gh.passport+jwt', { ga4gh_passport_v1: visas }, sub,
              t + (spec.iat_offset ?? -60), t + (spec.expires_in ?? 3600));
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const https = createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/.well-known/openid-configuration') {
    stats.config_fetches += 1;
    return send(res, 200, JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: ['ES256', 'RS256'] }));
  }
  if (url.pathname === '/jwks') {
    stats.jwks_fetches += 1;
    return send(res, 200, JSON.stringify({ keys: Object.values(keys).map((k) => k.publicJwk) }));
  }
  const status = url.pathname.match(/^\/status\/(\d{3})$/);
  if (status) return send(res, Number(status[1]), '');
  if (url.pathname === '/big') return send(res, 200, 'x'.repeat(Number(url.searchParams.get('bytes') || 0)), 'text/plain');
  if (url.pathname === '/hang') return;  // the client's timeout ends it
  return send(res, 404, '{"error":"not found"}');
});

const control = createHttpServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', async () => {
    try {
      if (req.method === 'POST' && req.url === '/passport') {
        return send(res, 200, JSON.stringify({ token: await mintPassport(JSON.parse(body || '{}')) }));
      }
      if (req.method === 'POST' && req.url === '/rotate') {
        await makeKeys();
        return send(res, 200, JSON.stringify({ kids: Object.values(keys).map((k) => k.kid) }));
      }
      if (req.method === 'GET' && req.url === '/stats') {
        return send(res, 200, JSON.stringify({ ...stats, kids: Object.values(keys).map((k) => k.kid) }));
      }
      return send(res, 404, '{"error":"not found"}');
    } catch (e) {
      return send(res, 500, JSON.stringify({ error: String(e && e.message ? e.message : e) }));
    }
  });
});

await makeKeys();
await new Promise((resolve) => https.listen(0, '127.0.0.1', resolve));
await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));
issuer = `https://${issuerHost}:${https.address().port}`;
console.log(`issuer ${issuer} control http://127.0.0.1:${control.address().port}`);

const stop = () => {
  https.closeAllConnections();
  control.closeAllConnections();
  https.close();
  control.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
