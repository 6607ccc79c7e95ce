#!/usr/bin/env node
// An independent OpenID4VP 1.0 verifier of `mso_mdoc` presentations, for checking this
// project's wallet SDK (issue 15, online presentation) against code that shares nothing with it.
//
// Every protocol message is made, parsed and checked by the OpenWallet Foundation's libraries:
// @openid4vc/openid4vp (Openid4vpVerifier: the authorization request, and the authorization
// response: JWE handling for the `.jwt` response modes, `state`, the vp_token's shape against
// the DCQL query) and dcql (the DCQL query's validity, and whether the presentations satisfy
// it); the JWE is decrypted by jose (compactDecrypt, ECDH-ES on P-256) and every
// DeviceResponse is verified by @animo-id/mdoc (Verifier.verifyDeviceResponse: issuer
// signature, x5chain to the trusted IACA, MSO validity at --now, digests, device signature
// over the SessionTranscript). The script only glues them together and supplies the callbacks
// (node:crypto webcrypto and X509Certificate), the SessionTranscript of OpenID4VP 1.0 Appendix
// B.2.6 (which @animo-id/mdoc 0.5.2 predates: its helpers are the draft-24 / 18013-7 Annex B
// ones), and the state a real verifier keeps between request and response.
//
// usage:
//   node verifier.mjs create-request --mode dc_api|dc_api.jwt|direct_post|direct_post.jwt
//        --out STATE.json [--origin https://verifier.example] [--response-uri URL]
//        [--client-id ID] [--enc A128GCM[,A256GCM]] [--dcql QUERY.json]
//   node verifier.mjs verify-response --state STATE.json --response RESPONSE
//        --trusted-iaca IACA.pem [--trusted-iaca ...] --now 2026-06-01T12:00:00Z [--origin O]
//   node verifier.mjs encrypt-response --state STATE.json --payload PAYLOAD.json [--enc E]
//        (test aid only: plays the wallet's side of the `.jwt` modes with jose)
//
// tests/interop/README.md ("Interop with an OpenID4VP 1.0 verifier") gives the contract.

import { X509Certificate, createHash, randomBytes, webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

import { DataItem, DateOnly, Verifier, cborDecode, cborEncode } from '@animo-id/mdoc';
import { Openid4vpVerifier } from '@openid4vc/openid4vp';
import { DcqlPresentationResult, DcqlQuery } from 'dcql';
import {
  CompactEncrypt,
  calculateJwkThumbprint,
  compactDecrypt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
} from 'jose';

const { subtle } = webcrypto;
const MODES = ['dc_api', 'dc_api.jwt', 'direct_post', 'direct_post.jwt'];
const DC_API_PROTOCOL = 'openid4vp-v1-unsigned';
const MDL = 'org.iso.18013.5.1.mDL';
const MDL_NS = 'org.iso.18013.5.1';

// ---------------------------------------------------------------------------------------------
// Small helpers.

function die(msg, code = 2) {
  process.stderr.write(`verifier.mjs: ${msg}\n`);
  process.exit(code);
}
const b64u = (bytes) => Buffer.from(bytes).toString('base64url');
const fromB64u = (s) => new Uint8Array(Buffer.from(s, 'base64url'));
const sha256 = (bytes) => new Uint8Array(createHash('sha256').update(bytes).digest());
const hex = (bytes) => Buffer.from(bytes).toString('hex');

function parseArgs(argv, spec) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--') || !(a.slice(2) in spec)) die(`unknown argument ${a}`);
    const name = a.slice(2);
    const value = argv[++i];
    if (value === undefined) die(`${a} needs a value`);
    if (spec[name] === 'many') (out[name] ??= []).push(value);
    else out[name] = value;
  }
  return out;
}

/// One or more certificates from a PEM file (any number of CERTIFICATE blocks) or one DER.
function readCertificates(path) {
  const raw = readFileSync(path);
  const text = raw.toString('latin1');
  if (!text.includes('-----BEGIN')) return [new Uint8Array(raw)];
  const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)];
  if (blocks.length === 0) die(`${path}: no CERTIFICATE in the PEM`);
  return blocks.map((m) => new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64')));
}

/// The default DCQL query: one mDL, a subset of its elements, intent_to_retain on some.
function defaultDcqlQuery() {
  return {
    credentials: [
      {
        id: 'mdl',
        format: 'mso_mdoc',
        meta: { doctype_value: MDL },
        claims: [
          { path: [MDL_NS, 'family_name'], intent_to_retain: true },
          { path: [MDL_NS, 'given_name'], intent_to_retain: false },
          { path: [MDL_NS, 'age_over_18'], intent_to_retain: false },
        ],
      },
    ],
  };
}

// The library's callbacks: a verifier never signs, and decrypts with the state's key.
function oid4vpCallbacks(state) {
  return {
    hash: (data, alg) => {
      const name = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' }[alg];
      if (!name) throw new Error(`unsupported hash ${alg}`);
      return new Uint8Array(createHash(name).update(data).digest());
    },
    generateRandom: (n) => new Uint8Array(randomBytes(n)),
    signJwt: () => {
      throw new Error('the verifier signs nothing (unsigned requests)');
    },
    // A signed (JARM) response is not part of OpenID4VP 1.0's encrypted responses.
    verifyJwt: () => ({ verified: false }),
    // jose's compactDecrypt: ECDH-ES (direct key agreement) with the enc values the request
    // offered, with the private key kept in the state; the library picked `jwk` by the JWE
    // header's kid among client_metadata.jwks (undefined when the kid is unknown).
    decryptJwe: async (jwe, options) => {
      const publicJwk = options?.jwk;
      if (!publicJwk || publicJwk.kid !== state.private_jwk.kid) return { decrypted: false };
      const key = await importJWK(state.private_jwk, 'ECDH-ES');
      try {
        const { plaintext, protectedHeader } = await compactDecrypt(jwe, key, {
          keyManagementAlgorithms: ['ECDH-ES'],
          contentEncryptionAlgorithms: state.enc_values,
        });
        state.jwe_header = protectedHeader;
        return { decrypted: true, decryptionJwk: publicJwk, payload: new TextDecoder().decode(plaintext) };
      } catch (e) {
        state.jwe_error = e.message;
        return { decrypted: false };
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// create-request

async function createRequest(argv) {
  const a = parseArgs(argv, { mode: 1, origin: 1, 'response-uri': 1, 'client-id': 1, out: 1, enc: 1, dcql: 1 });
  if (!MODES.includes(a.mode)) die(`--mode must be one of ${MODES.join(', ')}`);
  if (!a.out) die('--out is required');
  const dcApi = a.mode.startsWith('dc_api');
  const encrypted = a.mode.endsWith('.jwt');
  if (dcApi && !a.origin) die(`--origin is required for ${a.mode}`);
  if (dcApi && a['client-id']) die('an unsigned DC API request has no client_id (OpenID4VP 1.0 A.2); drop --client-id');
  if (!dcApi && !a['response-uri']) die(`--response-uri is required for ${a.mode}`);
  if (!encrypted && a.enc) die('--enc is for the .jwt modes');

  const dcqlQuery = a.dcql ? JSON.parse(readFileSync(a.dcql, 'utf8')) : defaultDcqlQuery();
  // dcql: the query must be a valid DCQL query (unique ids, claim paths, claim_sets).
  DcqlQuery.validate(DcqlQuery.parse(dcqlQuery));

  const nonce = b64u(randomBytes(32));
  const state = dcApi ? undefined : b64u(randomBytes(16));
  const clientId = dcApi ? undefined : (a['client-id'] ?? `redirect_uri:${a['response-uri']}`);

  const clientMetadata = {
    vp_formats_supported: { mso_mdoc: { issuerauth_alg_values: [-7, -35, -36], deviceauth_alg_values: [-7] } },
  };
  let privateJwk;
  let encValues;
  if (encrypted) {
    encValues = (a.enc ?? 'A128GCM').split(',');
    for (const e of encValues) if (!['A128GCM', 'A192GCM', 'A256GCM'].includes(e)) die(`--enc ${e}: A128GCM, A192GCM or A256GCM`);
    const { privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = b64u(randomBytes(8));
    privateJwk = { ...jwk, kid, use: 'enc', alg: 'ECDH-ES' };
    const { d: _d, ...publicJwk } = privateJwk;
    clientMetadata.jwks = { keys: [publicJwk] };
    clientMetadata.encrypted_response_enc_values_supported = encValues;
  }

  const verifier = new Openid4vpVerifier({ callbacks: oid4vpCallbacks({}) });
  const payload = {
    response_type: 'vp_token',
    response_mode: a.mode,
    nonce,
    dcql_query: dcqlQuery,
    client_metadata: clientMetadata,
    ...(dcApi ? {} : { client_id: clientId, response_uri: a['response-uri'], state }),
  };
  const created = await verifier.createOpenId4vpAuthorizationRequest({ authorizationRequestPayload: payload });
  const request = created.authorizationRequestPayload;

  const thumbprint = privateJwk
    ? b64u(fromB64u(await calculateJwkThumbprint(clientMetadata.jwks.keys[0], 'sha256')))
    : null;
  writeFileSync(
    a.out,
    JSON.stringify(
      {
        mode: a.mode,
        origin: a.origin ?? null,
        client_id: clientId ?? null,
        response_uri: a['response-uri'] ?? null,
        nonce,
        state: state ?? null,
        private_jwk: privateJwk ?? null,
        enc_values: encValues ?? null,
        jwk_thumbprint: thumbprint,
        request,
      },
      null,
      2,
    ),
  );
  const printed = dcApi
    ? { protocol: DC_API_PROTOCOL, data: request }
    : { uri: created.authorizationRequest, data: request };
  process.stdout.write(`${JSON.stringify(printed)}\n`);
}

// ---------------------------------------------------------------------------------------------
// The SessionTranscript of OpenID4VP 1.0 Appendix B.2.6, as SessionTranscriptBytes
// (#6.24-wrapped, what @animo-id/mdoc's verifier takes), encoded with @animo-id/mdoc's CBOR.

function sessionTranscriptBytes(s, origin) {
  const thumbprint = s.jwk_thumbprint ? fromB64u(s.jwk_thumbprint) : null;
  const handover = s.mode.startsWith('dc_api')
    ? ['OpenID4VPDCAPIHandover', sha256(cborEncode([origin, s.nonce, thumbprint]))]
    : ['OpenID4VPHandover', sha256(cborEncode([s.client_id, s.nonce, thumbprint, s.response_uri]))];
  return cborEncode(DataItem.fromData([null, null, handover]));
}

// ---------------------------------------------------------------------------------------------
// The X.509 and COSE callbacks of @animo-id/mdoc (it brings neither), on node:crypto.

function x509Context(now) {
  const atNow = (c) => new Date(c.validFrom) <= now && now <= new Date(c.validTo);
  return {
    getIssuerNameField: ({ certificate, field }) =>
      new X509Certificate(certificate).subject
        .split('\n')
        .filter((l) => l.startsWith(`${field}=`))
        .map((l) => l.slice(field.length + 1)),
    getPublicKey: ({ certificate }) => new X509Certificate(certificate).publicKey.export({ format: 'jwk' }),
    // x5chain[0] is the DS; every certificate must be issued (name and signature) by the next
    // one in x5chain or by a trusted IACA, which must be a CA; all must be valid at --now.
    validateCertificateChain: ({ trustedCertificates, x5chain }) => {
      const trusted = trustedCertificates.map((c) => new X509Certificate(c));
      const chain = x5chain.map((c) => new X509Certificate(c));
      for (let i = 0; i < chain.length; i++) {
        const cert = chain[i];
        if (!atNow(cert)) throw new Error(`certificate ${cert.subject.replace(/\n/g, ', ')} is not valid at ${now.toISOString()}`);
        const anchor = trusted.find((t) => cert.checkIssued(t) && t.ca && cert.verify(t.publicKey));
        if (anchor) {
          if (!atNow(anchor)) throw new Error(`the IACA ${anchor.subject.replace(/\n/g, ', ')} is not valid at ${now.toISOString()}`);
          return;
        }
        if (trusted.some((t) => t.raw.equals(cert.raw))) return; // the IACA itself in x5chain
        const next = chain[i + 1];
        if (!next || !cert.checkIssued(next) || !next.ca || !cert.verify(next.publicKey)) {
          throw new Error(`no trusted IACA issued ${cert.subject.replace(/\n/g, ', ')}`);
        }
      }
      throw new Error('x5chain does not reach a trusted IACA');
    },
    getCertificateData: ({ certificate }) => {
      const c = new X509Certificate(certificate);
      return {
        issuerName: c.issuer.replace(/\n/g, ', '),
        subjectName: c.subject.replace(/\n/g, ', '),
        serialNumber: c.serialNumber,
        thumbprint: c.fingerprint256.replace(/:/g, '').toLowerCase(),
        notBefore: new Date(c.validFrom),
        notAfter: new Date(c.validTo),
        pem: c.toString(),
      };
    },
  };
}

const COSE_ECDSA = {
  ES256: { namedCurve: 'P-256', hash: 'SHA-256' },
  ES384: { namedCurve: 'P-384', hash: 'SHA-384' },
  ES512: { namedCurve: 'P-521', hash: 'SHA-512' },
};

const mdocCrypto = {
  random: (n) => new Uint8Array(randomBytes(n)),
  digest: async ({ digestAlgorithm, bytes }) => new Uint8Array(await subtle.digest(digestAlgorithm, bytes)),
  calculateEphemeralMacKeyJwk: () => {
    throw new Error('deviceMac is not used with OpenID4VP (no reader key)');
  },
};

const mdocCose = {
  sign1: {
    sign: () => {
      throw new Error('the verifier signs nothing');
    },
    // COSE ECDSA signatures are r||s, the form webcrypto verifies.
    verify: async ({ sign1, jwk }) => {
      const { data, signature, alg } = sign1.getRawVerificationData();
      const p = COSE_ECDSA[alg];
      if (!p) throw new Error(`unsupported COSE alg ${alg}`);
      if (jwk.kty !== 'EC' || jwk.crv !== p.namedCurve) throw new Error(`${alg} with a ${jwk.kty}/${jwk.crv} key`);
      const key = await subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: p.namedCurve }, false, ['verify']);
      return subtle.verify({ name: 'ECDSA', hash: p.hash }, key, signature, data);
    },
  },
  mac0: {
    sign: () => {
      throw new Error('the verifier signs nothing');
    },
    verify: () => {
      throw new Error('deviceMac is not used with OpenID4VP (no reader key)');
    },
  },
};

/// An element value as JSON: full-date (DateOnly / tag 1004) and tdate as strings, byte
/// strings as {"$bytes": base64url}, maps as objects.
function toJson(v) {
  if (v === null || v === undefined) return null;
  if (v instanceof DateOnly) return v.toISOString?.() ?? String(v);
  if (v instanceof Date) return v.toISOString().replace('.000Z', 'Z');
  if (v instanceof Uint8Array) return { $bytes: b64u(v) };
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), toJson(x)]));
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object' && 'tag' in v && 'value' in v) return { $tag: v.tag, value: toJson(v.value) };
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

// ---------------------------------------------------------------------------------------------
// verify-response

/// The response as the verifier receives it: a JSON object (the DC API's `data`, or the whole
/// `{protocol, data}`), or an application/x-www-form-urlencoded body (direct_post).
function readResponse(path) {
  const text = readFileSync(path, 'utf8').trim();
  if (text.startsWith('{')) {
    const obj = JSON.parse(text);
    return obj.protocol !== undefined && obj.data !== undefined ? obj.data : obj;
  }
  return Object.fromEntries(new URLSearchParams(text));
}

async function verifyResponse(argv) {
  const a = parseArgs(argv, { state: 1, response: 1, 'trusted-iaca': 'many', now: 1, origin: 1 });
  if (!a.state || !a.response || !a['trusted-iaca'] || !a.now) die('--state, --response, --trusted-iaca and --now are required');
  const now = new Date(a.now);
  if (Number.isNaN(now.getTime())) die(`--now ${a.now} is not a date`);
  const s = JSON.parse(readFileSync(a.state, 'utf8'));
  const origin = a.origin ?? s.origin;
  const trusted = a['trusted-iaca'].flatMap(readCertificates);

  const errors = [];
  const disclosed = {};
  const result = { ok: false, mode: s.mode, disclosed, errors };
  const finish = () => {
    result.ok = errors.length === 0;
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(result.ok ? 0 : 1);
  };

  // 1. The authorization response: @openid4vc/openid4vp decrypts (.jwt modes, through jose),
  //    checks the response mode (encrypted iff the request asked so), `state`, and that the
  //    vp_token is a DCQL vp_token {query id: [presentation, ...]}.
  const verifier = new Openid4vpVerifier({ callbacks: oid4vpCallbacks(s) });
  let parsed;
  try {
    parsed = await verifier.parseOpenid4vpAuthorizationResponse({
      authorizationResponse: readResponse(a.response),
      authorizationRequestPayload: s.request,
      origin,
      callbacks: oid4vpCallbacks(s),
    });
  } catch (e) {
    errors.push(`authorization response: ${e.message}${s.jwe_error ? ` (jose: ${s.jwe_error})` : ''}`);
    return finish();
  }
  if (s.jwe_header) {
    result.jwe_header = s.jwe_header;
    if (s.jwe_header.kid !== s.private_jwk.kid) errors.push(`JWE kid ${s.jwe_header.kid} is not the request's ${s.private_jwk.kid}`);
  }
  if (parsed.type !== 'dcql') {
    errors.push(`expected a DCQL response, got ${parsed.type}`);
    return finish();
  }
  const presentations = parsed.dcql.presentations;
  // The library also takes a bare presentation for a query id (drafts); 1.0 wants an array.
  const rawVpToken = parsed.authorizationResponsePayload.vp_token;
  for (const [id, v] of Object.entries(typeof rawVpToken === 'string' ? JSON.parse(rawVpToken) : rawVpToken)) {
    if (!Array.isArray(v)) errors.push(`vp_token.${id} is not an array (OpenID4VP 1.0 8.1)`);
  }

  // 2. Every presentation: one DeviceResponse verified by @animo-id/mdoc over the transcript.
  const transcript = sessionTranscriptBytes(s, origin);
  result.session_transcript = hex(cborDecode(transcript).buffer);
  const ctx = { crypto: mdocCrypto, cose: mdocCose, x509: x509Context(now) };
  const dcqlCredentials = {};
  for (const [queryId, list] of Object.entries(presentations)) {
    const query = s.request.dcql_query.credentials.find((c) => c.id === queryId);
    dcqlCredentials[queryId] = [];
    for (const [i, p] of list.entries()) {
      const where = `${queryId}[${i}]`;
      if (typeof p !== 'string') {
        errors.push(`${where}: an mso_mdoc presentation is a base64url string`);
        continue;
      }
      const failed = [];
      let mdoc;
      try {
        mdoc = await new Verifier().verifyDeviceResponse(
          {
            encodedDeviceResponse: fromB64u(p),
            encodedSessionTranscript: transcript,
            trustedCertificates: trusted,
            now,
            onCheck: (c) => {
              if (c.status === 'FAILED') failed.push(`${c.category}: ${c.check}${c.reason ? ` (${c.reason})` : ''}`);
            },
          },
          ctx,
        );
      } catch (e) {
        errors.push(`${where}: ${e.message}`);
        continue;
      }
      for (const f of failed) errors.push(`${where}: ${f}`);
      if (mdoc.status !== 0) errors.push(`${where}: DeviceResponse status ${mdoc.status}`);
      if (mdoc.documents.length !== 1) errors.push(`${where}: ${mdoc.documents.length} documents, one mdoc per DeviceResponse`);
      for (const doc of mdoc.documents) {
        if (query?.meta?.doctype_value && doc.docType !== query.meta.doctype_value) {
          errors.push(`${where}: docType ${doc.docType}, the query asks for ${query.meta.doctype_value}`);
        }
        const namespaces = {};
        for (const [ns, items] of doc.issuerSigned.nameSpaces ?? new Map()) {
          namespaces[ns] = {};
          for (const item of items) namespaces[ns][item.elementIdentifier] = item.elementValue;
        }
        for (const [ns, elems] of Object.entries(namespaces)) {
          disclosed[ns] ??= {};
          for (const [id, v] of Object.entries(elems)) disclosed[ns][id] = toJson(v);
        }
        const deviceNs = doc.deviceSigned?.nameSpaces;
        if (deviceNs && deviceNs.size > 0) result.device_signed = toJson(deviceNs);
        // Nothing beyond the query: an mdoc wallet discloses only what was asked.
        const asked = new Set((query?.claims ?? []).map((c) => JSON.stringify(c.path ?? [c.namespace, c.claim_name])));
        for (const [ns, elems] of Object.entries(namespaces)) {
          for (const id of Object.keys(elems)) {
            if (query?.claims && !asked.has(JSON.stringify([ns, id]))) errors.push(`${where}: ${ns}/${id} disclosed but not requested`);
          }
        }
        dcqlCredentials[queryId].push({
          credential_format: 'mso_mdoc',
          doctype: doc.docType,
          namespaces,
          cryptographic_holder_binding: true,
        });
      }
    }
  }

  // 3. dcql: do the verified presentations satisfy the query (ids, doctype, claims, values,
  //    claim_sets, credential_sets, `multiple`)? (A presentation that could not be read is
  //    left out: it has its own error above.)
  for (const [id, list] of Object.entries(dcqlCredentials)) if (list.length === 0) delete dcqlCredentials[id];
  try {
    const r = DcqlPresentationResult.fromDcqlPresentation(dcqlCredentials, { dcqlQuery: DcqlQuery.parse(s.request.dcql_query) });
    if (!r.can_be_satisfied) {
      const why = Object.entries(r.credential_matches)
        .filter(([, m]) => !m.success)
        .map(([id, m]) => `${id}: ${JSON.stringify(m.failed_credentials ?? m).slice(0, 600)}`);
      errors.push(`the presentations do not satisfy the DCQL query${why.length ? `: ${why.join('; ')}` : ''}`);
    }
  } catch (e) {
    errors.push(`dcql: ${e.message}`);
  }
  finish();
}

// ---------------------------------------------------------------------------------------------
// encrypt-response (test aid): what a wallet sends in the .jwt modes, made with jose.

async function encryptResponse(argv) {
  const a = parseArgs(argv, { state: 1, payload: 1, enc: 1 });
  if (!a.state || !a.payload) die('--state and --payload are required');
  const s = JSON.parse(readFileSync(a.state, 'utf8'));
  if (!s.private_jwk) die(`mode ${s.mode} has no encryption key`);
  const enc = a.enc ?? s.enc_values[0];
  const { d: _d, ...publicJwk } = s.private_jwk;
  const key = await importJWK(publicJwk, 'ECDH-ES');
  const jwe = await new CompactEncrypt(new TextEncoder().encode(readFileSync(a.payload, 'utf8')))
    .setProtectedHeader({ alg: 'ECDH-ES', enc, kid: publicJwk.kid })
    .encrypt(key);
  const body = s.mode === 'dc_api.jwt' ? JSON.stringify({ response: jwe }) : new URLSearchParams({ response: jwe }).toString();
  process.stdout.write(`${body}\n`);
}

// ---------------------------------------------------------------------------------------------

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === 'create-request') await createRequest(rest);
  else if (command === 'verify-response') await verifyResponse(rest);
  else if (command === 'encrypt-response') await encryptResponse(rest);
  else die('usage: node verifier.mjs create-request|verify-response|encrypt-response --help');
} catch (e) {
  die(e.stack ?? String(e), 1);
}
