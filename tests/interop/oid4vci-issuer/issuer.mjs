#!/usr/bin/env node
// An independent OpenID4VCI 1.0 issuer of `mso_mdoc` credentials for the interop test
// tests/tests/wallet_sdk/npm_issuer.rs, which drives this project's wallet SDK against it.
//
// Every protocol message is made, parsed and checked by the OpenWallet Foundation's oid4vc-ts
// (@openid4vc/openid4vci: credential issuer metadata, credential offer, credential request,
// jwt key proofs, credential and nonce responses; @openid4vc/oauth2: authorization server
// metadata, the pre-authorized code token request and response with the transaction code and
// DPoP, access-token and DPoP verification at the resource endpoints), and the IssuerSigned
// is built and signed by @animo-id/mdoc (MSO, digests, salts, COSE_Sign1 with x5chain). This
// script only glues them to node:http and supplies the crypto callbacks (node:crypto
// webcrypto) and the in-memory state a real issuer keeps in a database (the offer's code, the
// nonces, the notifications).
//
// usage: node issuer.mjs --ds-cert DS.der|DS.pem --ds-key DS.pkcs8.der --claims CLAIMS.json
//                        [--doctype D] [--tx-code] [--batch-size N]
//
//   --ds-cert     the Document Signer certificate (DER or PEM), put in the MSO's x5chain
//   --ds-key      its P-256 private key, PKCS#8 DER
//   --claims      {"<namespace>": {"<element>": value, ...}, ...}; a value {"full-date":
//                 "YYYY-MM-DD"} becomes a CBOR full-date (tag 1004), every other JSON value is
//                 encoded as is
//   --doctype     default org.iso.18013.5.1.mDL (also the credential configuration id)
//   --tx-code     the offer asks for a 6-digit transaction code (printed, as if sent by SMS)
//   --batch-size  batch_credential_issuance.batch_size, default 2
//
// It listens on 127.0.0.1 on a free port and prints ONE JSON line on stdout:
//   {"credential_issuer", "offer_uri" (openid-credential-offer:// by reference),
//    "offer_link" (by value), "offer", "tx_code" (or null), "configuration_id"}
// then one JSON line per event a test may check: {"issued": {...}}, {"notification": {...}}.
// It runs until killed. Errors go to stderr.

import { createHash, createPrivateKey, randomBytes, randomInt, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import { DateOnly, Document, cborEncode } from '@animo-id/mdoc';
import {
  Oauth2AuthorizationServer,
  Oauth2ResourceServer,
  Oauth2ResourceUnauthorizedError,
  Oauth2ServerErrorResponseError,
  decodeJwt,
  preAuthorizedCodeGrantIdentifier,
} from '@openid4vc/oauth2';
import { Openid4vciIssuer, Openid4vciVersion, setGlobalConfig } from '@openid4vc/openid4vci';

const { subtle } = webcrypto;

// ---------------------------------------------------------------------------------------------
// Arguments.

function usage(msg) {
  process.stderr.write(`issuer.mjs: ${msg}\nusage: node issuer.mjs --ds-cert F --ds-key F --claims F [--doctype D] [--tx-code] [--batch-size N]\n`);
  process.exit(2);
}
const args = { doctype: 'org.iso.18013.5.1.mDL', txCode: false, batchSize: 2 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const next = () => process.argv[++i] ?? usage(`${a} needs a value`);
  if (a === '--ds-cert') args.dsCert = next();
  else if (a === '--ds-key') args.dsKey = next();
  else if (a === '--claims') args.claims = next();
  else if (a === '--doctype') args.doctype = next();
  else if (a === '--tx-code') args.txCode = true;
  else if (a === '--batch-size') args.batchSize = Number.parseInt(next(), 10);
  else usage(`unknown argument ${a}`);
}
if (!args.dsCert || !args.dsKey || !args.claims) usage('--ds-cert, --ds-key and --claims are required');
if (!Number.isInteger(args.batchSize) || args.batchSize < 1) usage('--batch-size needs a positive integer');

// The issuer is http://127.0.0.1:PORT: oid4vc-ts refuses http:// URLs in metadata (zHttpsUrl)
// unless this library-wide flag is set. It only ever serves loopback.
setGlobalConfig({ allowInsecureUrls: true });

const dsCertificate = (() => {
  const raw = readFileSync(args.dsCert);
  const text = raw.toString('latin1');
  if (!text.startsWith('-----BEGIN')) return new Uint8Array(raw);
  const b64 = text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(b64, 'base64'));
})();
// @animo-id/mdoc takes the issuer key as a JWK (it hands it back to our sign callback).
const dsPrivateJwk = createPrivateKey({ key: readFileSync(args.dsKey), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
if (dsPrivateJwk.kty !== 'EC' || dsPrivateJwk.crv !== 'P-256') usage('--ds-key must be a P-256 key');

function elementValue(v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof v['full-date'] === 'string') {
    return new DateOnly(v['full-date']);
  }
  if (Array.isArray(v)) return v.map(elementValue);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, elementValue(x)]));
  return v;
}
const claims = JSON.parse(readFileSync(args.claims, 'utf8'));

// ---------------------------------------------------------------------------------------------
// Crypto callbacks (webcrypto): ES256 only, which is all this issuer advertises.

const b64u = (bytes) => Buffer.from(bytes).toString('base64url');
const utf8 = (s) => new TextEncoder().encode(s);

const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };
async function importJwk(jwk, usage) {
  const { kty, crv, x, y, d } = jwk;
  if (kty !== 'EC' || crv !== 'P-256') throw new Error(`only P-256 keys, got ${kty}/${crv}`);
  return subtle.importKey('jwk', usage === 'sign' ? { kty, crv, x, y, d } : { kty, crv, x, y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, [usage]);
}

// The authorization server's access-token key, published at jwks_uri.
const asKeyPair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
const asPublicJwk = { ...(await subtle.exportKey('jwk', asKeyPair.publicKey)), kid: 'as-1', use: 'sig', alg: 'ES256' };
delete asPublicJwk.key_ops;
delete asPublicJwk.ext;

const oid4vcCallbacks = {
  fetch: globalThis.fetch,
  hash: (data, alg) => {
    const name = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' }[alg];
    if (!name) throw new Error(`unsupported hash ${alg}`);
    return new Uint8Array(createHash(name).update(data).digest());
  },
  generateRandom: (n) => new Uint8Array(randomBytes(n)),
  // Only the access token is signed here, with the AS key (a `custom` signer: kid, no jwk).
  signJwt: async (signer, { header, payload }) => {
    if (signer.method !== 'custom' || signer.alg !== 'ES256') throw new Error(`signJwt: unexpected signer ${signer.method}/${signer.alg}`);
    const input = `${b64u(utf8(JSON.stringify({ ...header, kid: asPublicJwk.kid })))}.${b64u(utf8(JSON.stringify(payload)))}`;
    const signature = new Uint8Array(await subtle.sign(ecdsa, asKeyPair.privateKey, utf8(input)));
    return { jwt: `${input}.${b64u(signature)}`, signerJwk: asPublicJwk };
  },
  // Key proofs, DPoP proofs and access tokens all reach this as `jwk` signers.
  verifyJwt: async (signer, { compact, header }) => {
    if (signer.method !== 'jwk') return { verified: false };
    if (header.alg !== 'ES256' || signer.alg !== 'ES256') return { verified: false };
    const [h, p, s] = compact.split('.');
    const key = await importJwk(signer.publicJwk, 'verify');
    const verified = await subtle.verify(ecdsa, key, Buffer.from(s, 'base64url'), utf8(`${h}.${p}`));
    return verified ? { verified: true, signerJwk: signer.publicJwk } : { verified: false };
  },
};

const mdocContext = {
  crypto: {
    random: (n) => new Uint8Array(randomBytes(n)),
    digest: async ({ digestAlgorithm, bytes }) => new Uint8Array(await subtle.digest(digestAlgorithm, bytes)),
    calculateEphemeralMacKeyJwk: () => {
      throw new Error('not used by an issuer');
    },
  },
  cose: {
    sign1: {
      // COSE ES256 signatures are r||s, exactly what webcrypto ECDSA returns.
      sign: async ({ sign1, jwk }) => {
        const { data, alg } = sign1.getRawSigningData();
        if (alg !== 'ES256') throw new Error(`only ES256, got ${alg}`);
        return new Uint8Array(await subtle.sign(ecdsa, await importJwk(jwk, 'sign'), data));
      },
      verify: () => {
        throw new Error('not used by an issuer');
      },
    },
    mac0: {
      sign: () => {
        throw new Error('not used by an issuer');
      },
      verify: () => {
        throw new Error('not used by an issuer');
      },
    },
  },
};

// ---------------------------------------------------------------------------------------------
// The server. Its URL is known only once it listens, so the metadata is made then.

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const configurationId = args.doctype;

const issuer = new Openid4vciIssuer({ callbacks: oid4vcCallbacks });
const authorizationServer = new Oauth2AuthorizationServer({ callbacks: oid4vcCallbacks });
const resourceServer = new Oauth2ResourceServer({ callbacks: oid4vcCallbacks });

const credentialIssuerMetadata = issuer.createCredentialIssuerMetadata({
  credential_issuer: base,
  credential_endpoint: `${base}/credential`,
  nonce_endpoint: `${base}/nonce`,
  notification_endpoint: `${base}/notification`,
  batch_credential_issuance: { batch_size: args.batchSize },
  display: [{ name: 'oid4vc-ts interop issuer', locale: 'en' }],
  credential_configurations_supported: {
    [configurationId]: {
      format: 'mso_mdoc',
      doctype: args.doctype,
      scope: 'mdl',
      cryptographic_binding_methods_supported: ['cose_key'],
      // 1.0 Appendix A.2.2: COSE algorithm identifiers for mso_mdoc (-7: ES256).
      credential_signing_alg_values_supported: [-7],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256'] } },
      credential_metadata: {
        display: [{ name: 'Interop mDL', locale: 'en' }],
        claims: Object.entries(claims).flatMap(([ns, elements]) => Object.keys(elements).map((e) => ({ path: [ns, e], mandatory: true }))),
      },
    },
  },
});
const authorizationServerMetadata = authorizationServer.createAuthorizationServerMetadata({
  issuer: base,
  token_endpoint: `${base}/token`,
  jwks_uri: `${base}/jwks`,
  grant_types_supported: [preAuthorizedCodeGrantIdentifier],
  dpop_signing_alg_values_supported: ['ES256'],
  'pre-authorized_grant_anonymous_access_supported': true,
});
const issuerMetadata = {
  originalDraftVersion: Openid4vciVersion.V1,
  credentialIssuer: credentialIssuerMetadata,
  authorizationServers: [authorizationServerMetadata],
  knownCredentialConfigurations: issuer.getKnownCredentialConfigurationsSupported(credentialIssuerMetadata),
};

// The one offer this issuer makes (a real issuer keeps these in its database).
const txCode = args.txCode ? String(randomInt(0, 1_000_000)).padStart(6, '0') : undefined;
const offerId = b64u(randomBytes(16));
const { credentialOffer: offerUri, credentialOfferObject: offer } = await issuer.createCredentialOffer({
  issuerMetadata,
  credentialConfigurationIds: [configurationId],
  grants: {
    [preAuthorizedCodeGrantIdentifier]: txCode
      ? { tx_code: { input_mode: 'numeric', length: 6, description: 'sent by SMS' } }
      : {},
  },
  credentialOfferUri: `${base}/offers/${offerId}`,
});
const { credentialOffer: offerLink } = await issuer.createCredentialOffer({
  issuerMetadata,
  credentialConfigurationIds: [configurationId],
  grants: { [preAuthorizedCodeGrantIdentifier]: offer.grants[preAuthorizedCodeGrantIdentifier] },
});
const preAuthorizedCode = offer.grants[preAuthorizedCodeGrantIdentifier]['pre-authorized_code'];
const codeExpiresAt = new Date(Date.now() + 10 * 60 * 1000);
let codeRedeemed = false;

const NONCE_SECONDS = 300;
const nonces = new Map(); // c_nonce -> expiry Date; single use
const notificationIds = new Set();

const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

// ---------------------------------------------------------------------------------------------
// Endpoints.

class HttpError extends Error {
  constructor(status, body, headers = {}) {
    super(body.error_description ?? body.error);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

function requestLike(req) {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  return { method: req.method, url: `${base}${new URL(req.url, base).pathname}`, headers };
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 256 * 1024) throw new HttpError(413, { error: 'invalid_request', error_description: 'body too large' });
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function authorize(req) {
  try {
    return await resourceServer.verifyResourceRequest({
      request: requestLike(req),
      resourceServer: base,
      authorizationServers: [authorizationServerMetadata],
    });
  } catch (e) {
    if (e instanceof Oauth2ResourceUnauthorizedError) {
      const first = e.wwwAuthenticateHeaders[0] ?? {};
      throw new HttpError(401, { error: first.error ?? 'invalid_token', error_description: first.error_description }, { 'WWW-Authenticate': e.toHeaderValue() });
    }
    throw e;
  }
}

async function token(req) {
  const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
  const request = requestLike(req);
  const parsed = authorizationServer.parseAccessTokenRequest({ request, accessTokenRequest: form });
  if (parsed.grant.grantType !== preAuthorizedCodeGrantIdentifier) {
    throw new HttpError(400, { error: 'unsupported_grant_type' });
  }
  const verified = await authorizationServer.verifyPreAuthorizedCodeAccessTokenRequest({
    grant: parsed.grant,
    accessTokenRequest: parsed.accessTokenRequest,
    request,
    dpop: { jwt: parsed.dpop?.jwt, allowedSigningAlgs: authorizationServerMetadata.dpop_signing_alg_values_supported },
    authorizationServerMetadata,
    expectedPreAuthorizedCode: preAuthorizedCode,
    expectedTxCode: txCode,
    preAuthorizedCodeExpiresAt: codeExpiresAt,
  });
  // Single use: the library checks the values, the issuer's state the redemption.
  if (codeRedeemed) throw new HttpError(400, { error: 'invalid_grant', error_description: 'pre-authorized_code already used' });
  codeRedeemed = true;
  return authorizationServer.createAccessTokenResponse({
    audience: base,
    authorizationServer: base,
    expiresInSeconds: 300,
    subject: offerId,
    signer: { method: 'custom', alg: 'ES256' },
    dpop: verified.dpop ? { jwk: verified.dpop.jwk } : undefined,
  });
}

function nonce() {
  const cNonce = b64u(randomBytes(24));
  nonces.set(cNonce, new Date(Date.now() + NONCE_SECONDS * 1000));
  return issuer.createNonceResponse({ cNonce, cNonceExpiresIn: NONCE_SECONDS });
}

async function credential(req) {
  await authorize(req);
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    throw new HttpError(400, { error: 'invalid_credential_request', error_description: 'not JSON' });
  }
  const parsed = issuer.parseCredentialRequest({ issuerMetadata, credentialRequest: body });
  if (parsed.credentialConfigurationId !== configurationId) {
    throw new HttpError(400, { error: 'invalid_credential_request', error_description: 'unknown credential_configuration_id' });
  }
  const jwts = parsed.proofs?.jwt ?? [];
  if (jwts.length === 0) throw new HttpError(400, { error: 'invalid_proof', error_description: 'proofs.jwt is required' });
  if (jwts.length > args.batchSize) throw new HttpError(400, { error: 'invalid_credential_request', error_description: 'more proofs than batch_size' });

  // oid4vc-ts checks one expected nonce; which of the nonces this issuer handed out the
  // proofs answer is the issuer's state, so it is read from the first proof and then every
  // proof is verified against it (one c_nonce per request, 1.0 §8.2).
  const claimed = decodeJwt({ jwt: jwts[0] }).payload.nonce;
  const expiresAt = typeof claimed === 'string' ? nonces.get(claimed) : undefined;
  if (!expiresAt) throw new HttpError(400, { error: 'invalid_nonce', error_description: 'unknown or used c_nonce' });
  const deviceKeys = [];
  for (const jwt of jwts) {
    const { signer } = await issuer.verifyCredentialRequestJwtProof({ issuerMetadata, jwt, expectedNonce: claimed, nonceExpiresAt: expiresAt });
    if (signer.method !== 'jwk') throw new HttpError(400, { error: 'invalid_proof', error_description: 'the proof must carry its key as jwk' });
    deviceKeys.push(signer.publicJwk);
  }
  nonces.delete(claimed);

  const credentials = [];
  for (const deviceKey of deviceKeys) {
    const document = new Document(args.doctype, mdocContext);
    for (const [ns, elements] of Object.entries(claims)) {
      document.addIssuerNameSpace(ns, Object.fromEntries(Object.entries(elements).map(([k, v]) => [k, elementValue(v)])));
    }
    const signed = await document
      .useDigestAlgorithm('SHA-256')
      .addValidityInfo({ signed: new Date() })
      .addDeviceKeyInfo({ deviceKey: { kty: deviceKey.kty, crv: deviceKey.crv, x: deviceKey.x, y: deviceKey.y } })
      .sign({ issuerPrivateKey: dsPrivateJwk, issuerCertificate: dsCertificate, alg: 'ES256' }, mdocContext);
    // The credential is base64url(IssuerSigned) (1.0 Appendix A.2.4): the issuerSigned member
    // of the library's Document structure, on its own.
    const issuerSigned = cborEncode(signed.prepare().get('issuerSigned'));
    credentials.push({ credential: b64u(issuerSigned) });
  }
  const notificationId = b64u(randomBytes(16));
  notificationIds.add(notificationId);
  emit({ issued: { count: credentials.length, device_keys: deviceKeys, notification_id: notificationId } });
  return issuer.createCredentialResponse({ credentialRequest: parsed, credentials, notificationId });
}

async function notification(req) {
  await authorize(req);
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    throw new HttpError(400, { error: 'invalid_notification_request' });
  }
  if (typeof body?.notification_id !== 'string' || typeof body?.event !== 'string') {
    throw new HttpError(400, { error: 'invalid_notification_request' });
  }
  if (!notificationIds.has(body.notification_id)) throw new HttpError(400, { error: 'invalid_notification_id' });
  emit({ notification: body });
  return null; // 204
}

server.on('request', async (req, res) => {
  const send = (status, body, headers = {}) => {
    const h = { 'Cache-Control': 'no-store', ...headers };
    if (body === null) {
      res.writeHead(status, h).end();
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json', ...h }).end(JSON.stringify(body));
  };
  const path = new URL(req.url, base).pathname;
  const route = `${req.method} ${path}`;
  try {
    if (route === 'GET /.well-known/openid-credential-issuer') send(200, credentialIssuerMetadata);
    else if (route === 'GET /.well-known/oauth-authorization-server') send(200, authorizationServerMetadata);
    else if (route === 'GET /jwks') send(200, { keys: [asPublicJwk] });
    else if (route === `GET /offers/${offerId}`) send(200, offer);
    else if (route === 'POST /token') send(200, await token(req));
    else if (route === 'POST /nonce') send(200, nonce());
    else if (route === 'POST /credential') send(200, await credential(req));
    else if (route === 'POST /notification') send(204, await notification(req));
    else send(404, { error: 'not_found' });
  } catch (e) {
    if (e instanceof HttpError) send(e.status, e.body, e.headers);
    else if (e instanceof Oauth2ServerErrorResponseError) send(e.status, e.errorResponse);
    else {
      process.stderr.write(`issuer.mjs: ${route}: ${e?.stack ?? e}\n`);
      send(500, { error: 'server_error' });
    }
    if (e instanceof HttpError || e instanceof Oauth2ServerErrorResponseError) {
      process.stderr.write(`issuer.mjs: ${route}: ${e.status} ${JSON.stringify(e.body ?? e.errorResponse)}\n`);
    }
  }
});

emit({
  credential_issuer: base,
  configuration_id: configurationId,
  offer_uri: offerUri,
  offer_link: offerLink,
  offer,
  tx_code: txCode ?? null,
});
