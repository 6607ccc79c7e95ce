#!/usr/bin/env node
// An independent OpenID4VCI 1.0 wallet client for the interop test tests/tests/oid4vci_interop.rs:
// every protocol step is made by @openid4vc/openid4vci (OpenWallet Foundation oid4vc-ts, the
// library Credo uses); this script only supplies keys and the crypto callbacks (jose, node:crypto).
//
// usage: node wallet.mjs <credential_offer_uri | openid-credential-offer://?... link> <tx_code> <out_dir>
//                        [--batch N] [--no-dpop] [--no-notification]
//
// Flow: resolve the offer (by reference) -> issuer metadata + RFC 8414 AS metadata -> token
// request with the pre-authorized code and tx_code (DPoP-bound when the AS metadata lists
// dpop_signing_alg_values_supported, unless --no-dpop) -> c_nonce from the nonce endpoint ->
// one ES256 `jwt` key proof per device key (--batch N: N fresh P-256 keys, N proofs in one
// request) -> credential request by credential_configuration_id -> notification
// credential_accepted (when the issuer returned a notification_id).
//
// out_dir receives:
//   credential.b64, device_key.jwk.json   the first credential (exactly the string received) and
//                                         the public JWK of the first device key
//   credentials.json, device_keys.json    all of them, in the order sent / received (the spec
//                                         does not tie the order of credentials to the proofs)
//   result.json                           what the flow saw (metadata version, token type, ...)
//   http.log                              one JSON line per HTTP exchange (request + response)
//   error.json                            on failure: {stage, name, message, error?, error_description?, status?}
// Exit 0 on success, 1 with the library's error on stderr on any failure, 2 on bad usage.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';

import { Openid4vciClient, setGlobalConfig } from '@openid4vc/openid4vci';
import { clientAuthenticationAnonymous } from '@openid4vc/oauth2';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';

// ---------------------------------------------------------------------------------------------
// Arguments.

function usage(msg) {
  process.stderr.write(`wallet.mjs: ${msg}\nusage: node wallet.mjs <offer_uri_or_link> <tx_code> <out_dir> [--batch N] [--no-dpop] [--no-notification]\n`);
  process.exit(2);
}

const positional = [];
const flags = { batch: 1, dpop: true, notification: true };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--batch') {
    flags.batch = Number.parseInt(process.argv[++i], 10);
    if (!Number.isInteger(flags.batch) || flags.batch < 1) usage('--batch needs a positive integer');
  } else if (a === '--no-dpop') flags.dpop = false;
  else if (a === '--no-notification') flags.notification = false;
  else if (a.startsWith('--')) usage(`unknown flag ${a}`);
  else positional.push(a);
}
if (positional.length !== 3) usage('expected 3 arguments');
const [offerArg, txCode, outDir] = positional;
mkdirSync(outDir, { recursive: true });

// INTEROP.md item 20, plain http on loopback: oid4vc-ts validates every URL it reads from an
// offer or from metadata with `zHttpsUrl`, which refuses `http://` unless the library-wide
// configuration `allowInsecureUrls` is set (@openid4vc/utils setGlobalConfig; Credo sets the
// same flag when its agent option `allowInsecureHttpUrls` is on). The test issuer is
// http://127.0.0.1:PORT, so this script sets it, and only when the offer (its reference, or by
// value its credential_issuer) is on a loopback address; for any other offer, http:// URLs stay
// refused.
const offerText = offerArg.startsWith('http://') || offerArg.startsWith('https://')
  ? `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(offerArg)}`
  : offerArg;
const loopback = (() => {
  try {
    // The URL the client will talk to first: the offer's reference, or (offer by value) the
    // credential issuer it names.
    const params = new URL(offerText).searchParams;
    const first = params.get('credential_offer_uri') ?? JSON.parse(params.get('credential_offer') ?? '{}').credential_issuer;
    const url = new URL(first);
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
})();
if (loopback) setGlobalConfig({ allowInsecureUrls: true });

// ---------------------------------------------------------------------------------------------
// Callbacks: fetch (logged), hash, random, JWT signing with the keys this script made.

const httpLog = join(outDir, 'http.log');
writeFileSync(httpLog, '');
const loggedFetch = async (input, init = {}) => {
  const headers = Object.fromEntries(new Headers(init.headers ?? {}).entries());
  const entry = { request: { method: init.method ?? 'GET', url: String(input), headers, body: init.body === undefined ? undefined : String(init.body) } };
  try {
    const response = await fetch(input, init);
    const text = await response.clone().text();
    entry.response = { status: response.status, headers: Object.fromEntries(response.headers.entries()), body: text.length > 65536 ? `${text.slice(0, 65536)}...(${text.length} chars)` : text };
    return response;
  } catch (e) {
    entry.fetch_error = String(e?.cause ?? e);
    throw e;
  } finally {
    appendFileSync(httpLog, `${JSON.stringify(entry)}\n`);
  }
};

const privateKeys = new Map(); // "x.y" of the public JWK -> CryptoKey
const keyId = (jwk) => `${jwk.x}.${jwk.y}`;

async function newP256Key() {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  privateKeys.set(keyId(publicJwk), privateKey);
  return publicJwk;
}

const callbacks = {
  fetch: loggedFetch,
  hash: (data, alg) => {
    const name = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' }[alg];
    if (!name) throw new Error(`unsupported hash ${alg}`);
    return new Uint8Array(createHash(name).update(data).digest());
  },
  generateRandom: (n) => new Uint8Array(randomBytes(n)),
  signJwt: async (signer, { header, payload }) => {
    if (signer.method !== 'jwk') throw new Error(`signJwt: only jwk signers, got ${signer.method}`);
    const key = privateKeys.get(keyId(signer.publicJwk));
    if (!key) throw new Error('signJwt: no private key for that JWK');
    const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header)
      .sign(key);
    return { jwt, signerJwk: signer.publicJwk };
  },
  // Pre-authorized code flow without client authentication (OpenID4VCI 1.0 §6.1: client_id is
  // optional there); the library then sends no client_id and the proof carries no `iss`.
  clientAuthentication: clientAuthenticationAnonymous(),
};

// ---------------------------------------------------------------------------------------------
// The flow.

let stage = 'start';
const result = { library: '@openid4vc/openid4vci', allow_insecure_urls: loopback };

async function main() {
  const client = new Openid4vciClient({ callbacks });

  stage = 'offer';
  const credentialOffer = await client.resolveCredentialOffer(offerText);
  result.credential_offer = credentialOffer;

  stage = 'metadata';
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  result.metadata_version = issuerMetadata.originalDraftVersion;
  const as = issuerMetadata.authorizationServers[0];
  result.dpop_signing_alg_values_supported = as?.dpop_signing_alg_values_supported ?? null;
  const credentialConfigurationId = credentialOffer.credential_configuration_ids[0];
  result.credential_configuration_id = credentialConfigurationId;

  stage = 'token';
  const useDpop = flags.dpop && (as?.dpop_signing_alg_values_supported ?? []).includes('ES256');
  const dpop = useDpop ? { signer: { method: 'jwk', alg: 'ES256', publicJwk: await newP256Key() } } : undefined;
  const token = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer,
    issuerMetadata,
    txCode,
    dpop,
  });
  result.token_type = token.accessTokenResponse.token_type;
  result.dpop = Boolean(token.dpop);

  stage = 'nonce';
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });

  stage = 'proof';
  const deviceKeys = [];
  const proofs = [];
  for (let i = 0; i < flags.batch; i++) {
    const publicJwk = await newP256Key();
    deviceKeys.push(publicJwk);
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId,
      signer: { method: 'jwk', alg: 'ES256', publicJwk },
      nonce,
      issuedAt: new Date(),
    });
    proofs.push(jwt);
  }

  stage = 'credential';
  const credentialResponse = await client.retrieveCredentials({
    issuerMetadata,
    credentialConfigurationId,
    accessToken: token.accessTokenResponse.access_token,
    dpop: token.dpop,
    proofs: { jwt: proofs },
  });
  const body = credentialResponse.credentialResponse;
  const credentials = (body.credentials ?? []).map((c) => c.credential);
  if (credentials.length === 0) throw new Error(`no credentials in the response: ${JSON.stringify(body)}`);
  if (credentials.some((c) => typeof c !== 'string')) throw new Error('an mso_mdoc credential must be a string (base64url IssuerSigned)');
  writeFileSync(join(outDir, 'credential.b64'), credentials[0]);
  writeFileSync(join(outDir, 'device_key.jwk.json'), JSON.stringify(deviceKeys[0], null, 2));
  writeFileSync(join(outDir, 'credentials.json'), JSON.stringify(credentials, null, 2));
  writeFileSync(join(outDir, 'device_keys.json'), JSON.stringify(deviceKeys, null, 2));
  result.credentials = credentials.length;
  result.notification_id = body.notification_id ?? null;

  if (flags.notification && body.notification_id) {
    stage = 'notification';
    const dpopAfter = token.dpop ? { ...token.dpop, nonce: credentialResponse.dpop?.nonce ?? token.dpop.nonce } : undefined;
    const notified = await client.sendNotification({
      issuerMetadata,
      accessToken: token.accessTokenResponse.access_token,
      dpop: dpopAfter,
      notification: { notificationId: body.notification_id, event: 'credential_accepted' },
    });
    result.notification_status = notified.response.status;
  }

  stage = 'done';
  writeFileSync(join(outDir, 'result.json'), JSON.stringify(result, null, 2));
}

main().catch((e) => {
  const error = { stage, name: e?.constructor?.name ?? typeof e, message: String(e?.message ?? e) };
  const errorResponse = e?.errorResponse // token endpoint (Oauth2ClientErrorResponseError)
    ?? e?.response?.credentialErrorResponseResult?.data // credential endpoint
    ?? e?.response?.notificationErrorResponseResult?.data // notification endpoint
    ?? undefined;
  if (errorResponse) {
    error.error = errorResponse.error;
    error.error_description = errorResponse.error_description;
  }
  const status = e?.response?.status ?? e?.response?.response?.status;
  if (status !== undefined) error.status = status;
  writeFileSync(join(outDir, 'error.json'), JSON.stringify(error, null, 2));
  writeFileSync(join(outDir, 'result.json'), JSON.stringify(result, null, 2));
  process.stderr.write(`wallet.mjs: failed at ${stage}: ${error.name}: ${error.message}\n`);
  if (e?.cause) process.stderr.write(`cause: ${e.cause}\n`);
  process.exit(1);
});
