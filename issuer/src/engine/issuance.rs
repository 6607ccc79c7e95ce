//! Issuing and refreshing documents.
//!
//! Order of work, so that a refused request changes nothing and costs little: schema validation
//! → nonce → device keys and proofs → nonce/key pre-check → DS choice → status indices →
//! signing → audit → one transaction (document, MSOs, device keys, nonce, idempotency record).
//! A refusal is first checked against the idempotency record: a retry of a request that
//! succeeded gets the earlier answer, rebuilt by [`super::replay`].

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use custody::audit::AuditEvent;
use mso::cbor::{encode_value, TDate, ToCbor, Value};
use mso::crypto::PublicKey;
use mso::issue::MdocBuilder;
use mso::issue::PreparedMdoc;
use mso::model::{IdentifierListRef, Status, StatusListRef, ValidityInfo};
use mso::status::cose_key_thumbprint;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use schemas::{ValidateOptions, Validated};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{EngineError, FieldError, Issuer, SigningDs};
use crate::audit::events;
use crate::device_key::{from_cose_key_b64, from_jwk};
use crate::pop::{proof_jwk, verify_proof, ProofContext};
use crate::store::{
    applicant_ref, DocumentId, DocumentState, Idempotency, IssuanceRecord, MsoRecord, NewDocument,
    RecordOutcome, StoredResponse, UsedNonce,
};

/// Status-list indices reserved from the store at a time.
pub const INDEX_BLOCK: u64 = 1024;

/// A reserved run of status-list indices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexBlock {
    list: u64,
    next: u64,
    end: u64,
}

/// How old a proof's `iat` may be: the nonce lifetime bounds it anyway.
const PROOF_MAX_AGE: Duration = Duration::minutes(10);

/// One device key and its proof of possession.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceKeyInput {
    /// The key as base64url of a COSE_Key.
    #[serde(default)]
    pub cose_key: Option<String>,
    /// The key as a public JWK.
    #[serde(default)]
    pub jwk: Option<Json>,
    /// An `openid4vci-proof+jwt` signed by the key over the nonce. When neither `cose_key`
    /// nor `jwk` is given, its `jwk` header is the key.
    pub proof: String,
}

/// `POST /v1/documents`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// The doc type, e.g. `org.iso.18013.5.1.mDL`.
    pub doctype: String,
    /// `{namespace: {element: value}}`, checked against the doc type's schema.
    pub claims: Json,
    /// A nonce from `POST /v1/nonces`.
    pub nonce: String,
    /// One entry per MSO to issue (a batch gives independent salts per MSO).
    pub device_keys: Vec<DeviceKeyInput>,
}

/// `POST /v1/documents/{id}/refresh`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The same claims the document was issued with.
    pub claims: Json,
    /// A nonce from `POST /v1/nonces`.
    pub nonce: String,
    /// One entry per new MSO.
    pub device_keys: Vec<DeviceKeyInput>,
}

/// Where an MSO's status is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusOut {
    /// The list's URI.
    pub uri: String,
    /// Index in the status list.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub idx: Option<u64>,
    /// Identifier in the identifier list (base64url).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
}

/// One signed MSO with its namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// base64url (no padding) of the CBOR IssuerSigned.
    pub issuer_signed: String,
    /// Serial of the DS certificate that signed it.
    pub ds_serial: String,
    /// validFrom (RFC 3339).
    pub valid_from: String,
    /// validUntil (RFC 3339).
    pub valid_until: String,
    /// expectedUpdate (RFC 3339), when set.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expected_update: Option<String>,
    /// The MSO's status-list entry.
    pub status_list: StatusOut,
    /// The MSO's identifier-list entry.
    pub identifier_list: StatusOut,
}

/// The body of a successful issuance or refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueResponse {
    /// The document id (32 hex digits).
    pub document_id: String,
    /// The doc type.
    pub doctype: String,
    /// One credential per device key, in request order.
    pub credentials: Vec<Credential>,
}

/// What an issuance or refresh returns to the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueOutcome {
    /// HTTP status (201 issued, 200 refreshed).
    pub status: u16,
    /// The JSON body, byte for byte what the first attempt returned.
    pub body: Vec<u8>,
    /// Whether this is a replay of an earlier attempt.
    pub replayed: bool,
}

/// Encoded IssuerSigned of each MSO, and each raw signature.
type Signed = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// The parts of a request a replay rebuilds its answer from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Inputs<'a> {
    pub(super) claims: &'a Json,
    pub(super) device_keys: &'a [DeviceKeyInput],
}

/// Who asks, and the exact request (for idempotency).
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The authenticated API client's id.
    pub client_id: &'a str,
    /// Whether that client has the `admin` scope, so may act on documents other clients
    /// issued.
    pub admin: bool,
    /// The `Idempotency-Key` header, if any.
    pub idempotency_key: Option<&'a str>,
    /// Method and path, e.g. `POST /v1/documents`.
    pub route: &'a str,
    /// The raw request body.
    pub body: &'a [u8],
    /// The time of the request.
    pub now: OffsetDateTime,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl Issuer {
    fn request_hash(cx: &RequestContext<'_>) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(cx.route.as_bytes());
        h.update([0]);
        h.update(cx.body);
        h.finalize().into()
    }

    /// The idempotency record for this request, if a key was given.
    fn idempotency(&self, cx: &RequestContext<'_>) -> Option<Idempotency> {
        let key = cx.idempotency_key?;
        let ttl = i64::try_from(self.config.issuance.idempotency_ttl_secs).unwrap_or(86400);
        Some(Idempotency {
            client_id: cx.client_id.to_owned(),
            key: key.to_owned(),
            request_hash: Self::request_hash(cx),
            expires_at: cx.now.saturating_add(Duration::seconds(ttl)),
        })
    }

    /// The answer to a retry of an earlier identical request, if any: rebuilt byte for byte
    /// from the request and the stored replay record (see [`super::replay`]).
    async fn replay(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
    ) -> Result<Option<IssueOutcome>, EngineError> {
        let Some(key) = cx.idempotency_key else {
            return Ok(None);
        };
        let hash = Self::request_hash(cx);
        match self
            .store
            .idempotent_response(cx.client_id, key, &hash, cx.now)
            .await?
        {
            Some(stored) => Ok(Some(self.regenerate(cx, inputs, &stored).await?)),
            None => Ok(None),
        }
    }

    pub(super) fn validate(&self, doctype: &str, claims: &Json) -> Result<Validated, EngineError> {
        let options = ValidateOptions {
            image_max_bytes: self.config.issuance.portrait_max_bytes,
        };
        if self.registry.get(doctype).is_none() {
            return Err(EngineError::UnknownDoctype(doctype.to_owned()));
        }
        self.registry
            .validate_with(doctype, claims, &options)
            .map_err(|errors| {
                EngineError::Validation(
                    errors
                        .into_iter()
                        .map(|e| {
                            let path = if e.path.is_empty() {
                                "claims".to_owned()
                            } else {
                                format!("claims{}", e.path)
                            };
                            FieldError::new(path, e.code.as_str(), e.message)
                        })
                        .collect(),
                )
            })
    }

    /// Parses every device key without checking proofs (for rebuilding a replayed answer to
    /// a request whose proofs were checked the first time).
    pub(super) fn parse_device_keys(
        &self,
        inputs: &[DeviceKeyInput],
    ) -> Result<Vec<PublicKey>, EngineError> {
        inputs
            .iter()
            .enumerate()
            .map(|(i, input)| self.parse_device_key(i, input))
            .collect()
    }

    fn parse_device_key(&self, i: usize, input: &DeviceKeyInput) -> Result<PublicKey, EngineError> {
        let key_err = |field: &str, m: String| {
            EngineError::DeviceKey(FieldError::new(
                format!("device_keys/{i}/{field}"),
                "invalid_device_key",
                m,
            ))
        };
        match (&input.cose_key, &input.jwk) {
            (Some(_), Some(_)) => Err(key_err("jwk", "give cose_key or jwk, not both".into())),
            (Some(c), None) => from_cose_key_b64(c).map_err(|e| key_err("cose_key", e.0)),
            (None, Some(j)) => from_jwk(j).map_err(|e| key_err("jwk", e.0)),
            (None, None) => proof_jwk(&input.proof)
                .map_err(|e| {
                    EngineError::Proof(FieldError::new(
                        format!("device_keys/{i}/proof"),
                        "invalid_proof",
                        e.to_string(),
                    ))
                })?
                .ok_or_else(|| {
                    key_err(
                        "cose_key",
                        "no device key: give cose_key, jwk, or a proof with a jwk header".into(),
                    )
                }),
        }
    }

    /// Parses every device key and verifies its proof over `nonce`.
    fn device_keys(
        &self,
        inputs: &[DeviceKeyInput],
        nonce: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<PublicKey>, EngineError> {
        let max = self.config.issuance.max_batch;
        if inputs.is_empty() || inputs.len() > max {
            return Err(EngineError::DeviceKey(FieldError::new(
                "device_keys",
                "batch_size",
                format!("give 1 to {max} device keys, found {}", inputs.len()),
            )));
        }
        let cx = ProofContext {
            audience: self.issuer_id(),
            nonce,
            now,
            max_age: PROOF_MAX_AGE,
        };
        let mut keys = Vec::with_capacity(inputs.len());
        let mut seen = BTreeSet::new();
        for (i, input) in inputs.iter().enumerate() {
            let key_err = |field: &str, m: String| {
                EngineError::DeviceKey(FieldError::new(
                    format!("device_keys/{i}/{field}"),
                    "invalid_device_key",
                    m,
                ))
            };
            let key = self.parse_device_key(i, input)?;
            verify_proof(&input.proof, &key, &cx, &self.verifier).map_err(|e| {
                EngineError::Proof(FieldError::new(
                    format!("device_keys/{i}/proof"),
                    "invalid_proof",
                    e.to_string(),
                ))
            })?;
            if !seen.insert(cose_key_thumbprint(&key)) {
                return Err(key_err(
                    "cose_key",
                    "the same device key appears twice in the batch".into(),
                ));
            }
            keys.push(key);
        }
        Ok(keys)
    }

    /// The keyed hash that lets a refresh recognise the applicant record without storing it.
    fn applicant_ref(&self, v: &Validated) -> [u8; 32] {
        // Canonical form: doctype, then namespaces (sorted) with elements sorted by name, as
        // deterministic CBOR.
        let namespaces = v
            .namespaces
            .iter()
            .map(|(ns, els)| {
                let mut els: Vec<_> = els.iter().collect();
                els.sort_by(|a, b| a.0.cmp(&b.0));
                let map = els
                    .into_iter()
                    .map(|(id, value)| (Value::Text(id.clone()), value.clone()))
                    .collect();
                (Value::Text(ns.clone()), Value::Map(map))
            })
            .collect();
        let canonical = encode_value(&Value::Array(vec![
            Value::Text(v.doctype.clone()),
            Value::Map(namespaces),
        ]));
        applicant_ref(&self.secret.derive(b"applicant-ref"), &canonical)
    }

    /// `issuing_country` / `issuing_jurisdiction` must equal the DS certificate's C / ST, or
    /// every verifier would reject the document.
    fn check_ds_consistency(v: &Validated, ds: &SigningDs) -> Result<(), EngineError> {
        let mut errors = Vec::new();
        for (ns, id, value) in v.elements() {
            let (expected, what) = match id {
                "issuing_country" => (ds.cert.country(), "countryName (C)"),
                "issuing_jurisdiction" => (ds.cert.state_or_province(), "stateOrProvinceName (ST)"),
                _ => continue,
            };
            let (Value::Text(given), Some(expected)) = (value, expected) else {
                continue;
            };
            if given != &expected {
                errors.push(FieldError::new(
                    format!("claims/{ns}/{id}"),
                    "ds_mismatch",
                    format!("must equal the DS certificate's {what}, {expected:?}"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Validation(errors))
        }
    }

    /// Allocates `n` status-list indices in the current list, moving to the next list when it
    /// is full. Returns the list's URI and the indices.
    ///
    /// Indices are reserved from the store in blocks of [`INDEX_BLOCK`] and handed out from
    /// memory, so an issuance costs one write transaction, not two. Indices of a block not used
    /// before a restart are simply never used (an index is never handed out twice).
    async fn allocate(&self, n: u64) -> Result<(String, Vec<u64>), EngineError> {
        let size = self.config.status.list_size;
        if n > size.min(INDEX_BLOCK) {
            return Err(EngineError::Internal(
                "batch larger than a status list or an index block".into(),
            ));
        }
        let mut cursor = self.list_cursor.lock().await;
        loop {
            if let Some(b) = cursor.as_mut() {
                if b.end - b.next >= n {
                    let out: Vec<u64> = (b.next..b.next + n).collect();
                    b.next += n;
                    return Ok((self.status_list_uri(b.list), out));
                }
            }
            // The block is used up (or too short for this batch): reserve the next one.
            let list = match cursor.as_ref() {
                Some(b) => b.list,
                None => self.highest_list().await?,
            };
            *cursor = Some(self.reserve(list, size, n).await?);
        }
    }

    /// The highest-numbered status list in use, or list 1.
    async fn highest_list(&self) -> Result<u64, EngineError> {
        let prefix = self.status_list_uri(0);
        let prefix = prefix.trim_end_matches('0');
        Ok(self
            .store
            .status_lists()
            .await?
            .iter()
            .filter_map(|(uri, _)| uri.strip_prefix(prefix)?.parse::<u64>().ok())
            .max()
            .unwrap_or(1))
    }

    /// Reserves the next block of indices, in `list` or, when it is full, the next list.
    async fn reserve(&self, mut list: u64, size: u64, n: u64) -> Result<IndexBlock, EngineError> {
        loop {
            let uri = self.status_list_uri(list);
            let got = self
                .store
                .allocate_status_indices(&uri, INDEX_BLOCK)
                .await?;
            let start = got.first().copied().unwrap_or(size);
            let end = got.last().map_or(size, |l| l + 1).min(size);
            if start < end && end - start >= n {
                return Ok(IndexBlock {
                    list,
                    next: start,
                    end,
                });
            }
            list = list
                .checked_add(1)
                .ok_or_else(|| EngineError::Internal("status list numbers exhausted".into()))?;
        }
    }

    fn validity(
        &self,
        doctype: &str,
        ds: &SigningDs,
        now: OffsetDateTime,
    ) -> Result<ValidityInfo, EngineError> {
        let policy = self.config.validity_for(doctype);
        let now = OffsetDateTime::from_unix_timestamp(now.unix_timestamp())
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let until = now
            .saturating_add(Duration::days(policy.valid_days))
            .min(ds.cert.not_after());
        if until <= now {
            return Err(EngineError::NoSigningDs);
        }
        let expected = policy
            .expected_update_days
            .map(|d| now.saturating_add(Duration::days(d)))
            .filter(|e| *e < until);
        Ok(ValidityInfo {
            signed: TDate::new(now),
            valid_from: TDate::new(now),
            valid_until: TDate::new(until),
            expected_update: expected.map(TDate::new),
        })
    }

    /// Builds the MSOs, one per key. Deterministic given `seeds` (each MSO's salts, digest
    /// IDs and order come from a ChaCha20 stream seeded by its seed), which is what lets a
    /// replay rebuild them byte for byte.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn prepare_all(
        &self,
        validated: &Validated,
        keys: &[PublicKey],
        ds_der: &[u8],
        alg: mso::crypto::Algorithm,
        validity: ValidityInfo,
        decoys: usize,
        list_uri: &str,
        indices: &[u64],
        seeds: &[[u8; 32]],
    ) -> Result<Vec<PreparedMdoc>, EngineError> {
        let id_uri = self.identifier_list_uri();
        let x5chain = vec![ds_der.to_vec()];
        keys.iter()
            .zip(indices)
            .zip(seeds)
            .map(|((key, &idx), seed)| {
                let builder = validated
                    .apply(MdocBuilder::new(validated.doctype.clone()))
                    .device_key(key)
                    .validity(validity)
                    .decoy_digests(decoys)
                    .status(Status {
                        status_list: Some(StatusListRef {
                            idx,
                            uri: list_uri.to_owned(),
                            certificate: None,
                        }),
                        identifier_list: Some(IdentifierListRef {
                            id: cose_key_thumbprint(key).to_vec(),
                            uri: id_uri.clone(),
                            certificate: None,
                        }),
                    });
                builder
                    .prepare(alg, &x5chain, &mut ChaCha20Rng::from_seed(*seed))
                    .map_err(|e| EngineError::Internal(format!("prepare MSO: {e}")))
            })
            .collect()
    }

    /// Signs prepared MSOs with the DS (on the blocking pool for an HSM); returns the encoded
    /// IssuerSigned of each and its raw signature.
    async fn sign_prepared(
        &self,
        prepared: Vec<PreparedMdoc>,
        ds: &SigningDs,
    ) -> Result<Signed, EngineError> {
        let signer = std::sync::Arc::clone(&ds.signer);
        let sign = move || -> mso::Result<Signed> {
            let mut out = Vec::with_capacity(prepared.len());
            let mut sigs = Vec::with_capacity(prepared.len());
            for p in prepared {
                let sig = signer.sign(p.to_be_signed())?;
                out.push(encode_value(&p.complete(sig.clone())?.to_value()));
                sigs.push(sig);
            }
            Ok((out, sigs))
        };
        if ds.inline {
            sign()
        } else {
            tokio::task::spawn_blocking(sign)
                .await
                .map_err(|e| EngineError::Internal(format!("signing task: {e}")))?
        }
        .map_err(|e| EngineError::Internal(format!("signing: {e}")))
    }

    /// The response entries for signed MSOs.
    pub(super) fn credentials(
        &self,
        signed: Vec<Vec<u8>>,
        keys: &[PublicKey],
        ds_serial: &str,
        validity: ValidityInfo,
        list_uri: &str,
        indices: &[u64],
    ) -> Vec<Credential> {
        let id_uri = self.identifier_list_uri();
        signed
            .into_iter()
            .zip(keys.iter().zip(indices))
            .map(|(bytes, (key, &idx))| Credential {
                issuer_signed: URL_SAFE_NO_PAD.encode(bytes),
                ds_serial: ds_serial.to_owned(),
                valid_from: rfc3339(validity.valid_from.datetime()),
                valid_until: rfc3339(validity.valid_until.datetime()),
                expected_update: validity.expected_update.map(|t| rfc3339(t.datetime())),
                status_list: StatusOut {
                    uri: list_uri.to_owned(),
                    idx: Some(idx),
                    id: None,
                },
                identifier_list: StatusOut {
                    uri: id_uri.clone(),
                    idx: None,
                    id: Some(URL_SAFE_NO_PAD.encode(cose_key_thumbprint(key))),
                },
            })
            .collect()
    }

    /// Refuses a nonce already consumed or a key bound to a document other than `document`,
    /// before anything is signed (the transaction checks both again, race free). A concurrent
    /// twin of this request may have just committed: then its answer is the answer.
    async fn precheck(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        nonce: &UsedNonce,
        keys: &[PublicKey],
        document: Option<DocumentId>,
    ) -> Result<Option<IssueOutcome>, EngineError> {
        let mut refusal = None;
        if self.store.nonce_used(&nonce.sha256).await? {
            refusal = Some(EngineError::NonceReused);
        } else {
            for (i, key) in keys.iter().enumerate() {
                let owner = self
                    .store
                    .device_key_owner(&cose_key_thumbprint(key))
                    .await?;
                if owner.is_some_and(|o| Some(o) != document) {
                    refusal = Some(EngineError::DeviceKeyInUse(Some(i)));
                    break;
                }
            }
        }
        let Some(refusal) = refusal else {
            return Ok(None);
        };
        if let Some(replayed) = self.replay(cx, inputs).await? {
            return Ok(Some(replayed));
        }
        // The key may be bound because this very nonce's issuance won the race.
        if self.store.nonce_used(&nonce.sha256).await? {
            return Err(EngineError::NonceReused);
        }
        Err(refusal)
    }

    /// Signs one MSO per key for `doc` and commits it with its audit record. Shared by issue
    /// (`existing` = false) and refresh.
    #[allow(clippy::too_many_arguments)]
    async fn sign_and_commit(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        validated: &Validated,
        keys: &[PublicKey],
        nonce: UsedNonce,
        document: DocumentId,
        doctype: &str,
        existing: bool,
    ) -> Result<IssueOutcome, EngineError> {
        let ds = self.signing_ds(cx.now)?;
        Self::check_ds_consistency(validated, &ds)?;
        let validity = self.validity(doctype, &ds, cx.now)?;
        let n = u64::try_from(keys.len()).map_err(|e| EngineError::Internal(e.to_string()))?;
        let (list_uri, indices) = self.allocate(n).await?;
        let seeds = (0..keys.len())
            .map(|_| crate::store::random_bytes::<32>())
            .collect::<Result<Vec<_>, _>>()?;
        let decoys = self.config.issuance.decoys;
        let prepared = self.prepare_all(
            validated,
            keys,
            ds.cert.der(),
            ds.signer.algorithm(),
            validity,
            decoys,
            &list_uri,
            &indices,
            &seeds,
        )?;
        let (signed, signatures) = self.sign_prepared(prepared, &ds).await?;
        let credentials = self.credentials(signed, keys, &ds.serial, validity, &list_uri, &indices);
        let msos: Vec<MsoRecord> = keys
            .iter()
            .zip(&indices)
            .map(|(key, &idx)| {
                let thumbprint = cose_key_thumbprint(key);
                MsoRecord {
                    ds_serial: ds.serial.clone(),
                    status_list_uri: list_uri.clone(),
                    status_index: idx,
                    identifier: thumbprint.to_vec(),
                    device_key_thumbprint: thumbprint,
                    valid_from: validity.valid_from.datetime(),
                    valid_until: validity.valid_until.datetime(),
                    created_at: validity.signed.datetime(),
                }
            })
            .collect();
        let status = if existing { 200 } else { 201 };
        let body = serde_json::to_vec(&IssueResponse {
            document_id: document.to_hex(),
            doctype: doctype.to_owned(),
            credentials,
        })
        .map_err(|e| EngineError::Internal(e.to_string()))?;
        let replay = super::replay::ReplayRecord::new(
            status,
            document,
            doctype,
            validity,
            decoys,
            &ds.serial,
            &list_uri,
            &indices,
            &seeds,
            &signatures,
        );
        let event = if existing {
            events::REFRESH
        } else {
            events::ISSUE
        };
        let audit = AuditEvent::success(event)
            .actor(cx.client_id)
            .detail("document", document.to_hex())
            .detail("doctype", doctype)
            .detail("ds_serial", &ds.serial)
            .detail("msos", n.to_string())
            .detail("status_list", &list_uri)
            .detail(
                "status_indices",
                indices
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            );
        let (stored, idem) = self.to_store(cx, &replay, status)?;
        self.audit.record(audit).await?;
        let result = if existing {
            self.store
                .record_refresh(document, &msos, Some(&nonce), idem.as_ref(), &stored)
                .await
        } else {
            let record = IssuanceRecord {
                document: NewDocument {
                    id: document,
                    doctype: doctype.to_owned(),
                    applicant_ref: self.applicant_ref(validated),
                    created_at: validity.signed.datetime(),
                    client_id: cx.client_id.to_owned(),
                },
                msos,
                nonce: Some(nonce),
            };
            self.store
                .record_issuance(&record, idem.as_ref(), &stored)
                .await
        };
        let outcome = self
            .finish(cx, inputs, result, event, &document.to_hex(), body, status)
            .await?;
        if !outcome.replayed {
            self.metrics
                .msos_signed
                .with_label_values(&[doctype, if existing { "refresh" } else { "issue" }])
                .inc_by(n);
        }
        Ok(outcome)
    }

    /// Issues a new document: one MSO per device key.
    pub async fn issue(
        &self,
        cx: RequestContext<'_>,
        req: &IssueRequest,
    ) -> Result<IssueOutcome, EngineError> {
        let inputs = Inputs {
            claims: &req.claims,
            device_keys: &req.device_keys,
        };
        match self.issue_new(&cx, &inputs, req).await {
            Err(e) if e.is_client_error() => self.replay_or(&cx, &inputs, e).await,
            other => other,
        }
    }

    /// A refused request may be the retry of one that succeeded (its nonce is used now, or
    /// expired): then the earlier answer is the answer. Retries are rare, so the lookup is
    /// made only on refusal, not on every request.
    async fn replay_or(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        refusal: EngineError,
    ) -> Result<IssueOutcome, EngineError> {
        match self.replay(cx, inputs).await {
            Ok(Some(replayed)) => Ok(replayed),
            Ok(None) => Err(refusal),
            // A different request under the same key: that is the client's real error.
            Err(EngineError::IdempotencyConflict) => Err(EngineError::IdempotencyConflict),
            Err(_) => Err(refusal),
        }
    }

    async fn issue_new(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        req: &IssueRequest,
    ) -> Result<IssueOutcome, EngineError> {
        let cx = *cx;
        let inputs = *inputs;
        let validated = self.validate(&req.doctype, &req.claims)?;
        let nonce = self
            .nonces
            .check(&req.nonce, cx.now)
            .map_err(EngineError::Nonce)?;
        let keys = self.device_keys(&req.device_keys, &req.nonce, cx.now)?;
        if let Some(replayed) = self.precheck(&cx, &inputs, &nonce, &keys, None).await? {
            return Ok(replayed);
        }
        let id = DocumentId::random()?;
        self.sign_and_commit(
            &cx,
            &inputs,
            &validated,
            &keys,
            nonce,
            id,
            &req.doctype,
            false,
        )
        .await
    }

    /// Signs new MSOs for an existing active document, with new validity. The claims must be
    /// the ones the document was issued with (checked through the applicant reference).
    pub async fn refresh(
        &self,
        cx: RequestContext<'_>,
        document: DocumentId,
        req: &RefreshRequest,
    ) -> Result<IssueOutcome, EngineError> {
        let inputs = Inputs {
            claims: &req.claims,
            device_keys: &req.device_keys,
        };
        match self.refresh_existing(&cx, &inputs, document, req).await {
            Err(e) if e.is_client_error() => self.replay_or(&cx, &inputs, e).await,
            other => other,
        }
    }

    async fn refresh_existing(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        document: DocumentId,
        req: &RefreshRequest,
    ) -> Result<IssueOutcome, EngineError> {
        let cx = *cx;
        let inputs = *inputs;
        let doc = self.store.get_document(document).await?;
        // Another client's document is answered as unknown, so ids cannot be probed.
        if !self.may_access(&doc, cx.client_id, cx.admin) {
            return Err(EngineError::NotFound("document"));
        }
        if doc.state == DocumentState::Revoked {
            return Err(EngineError::Revoked);
        }
        let validated = self.validate(&doc.doctype, &req.claims)?;
        if self.applicant_ref(&validated) != doc.applicant_ref {
            return Err(EngineError::ApplicantMismatch);
        }
        let nonce = self
            .nonces
            .check(&req.nonce, cx.now)
            .map_err(EngineError::Nonce)?;
        let keys = self.device_keys(&req.device_keys, &req.nonce, cx.now)?;
        if let Some(replayed) = self
            .precheck(&cx, &inputs, &nonce, &keys, Some(document))
            .await?
        {
            return Ok(replayed);
        }
        self.sign_and_commit(
            &cx,
            &inputs,
            &validated,
            &keys,
            nonce,
            document,
            &doc.doctype,
            true,
        )
        .await
    }

    /// The sealed replay record and idempotency record to store with the transaction.
    fn to_store(
        &self,
        cx: &RequestContext<'_>,
        replay: &super::replay::ReplayRecord,
        status: u16,
    ) -> Result<(StoredResponse, Option<Idempotency>), EngineError> {
        let plain = serde_json::to_vec(replay).map_err(|e| EngineError::Internal(e.to_string()))?;
        let sealed = super::sealing::seal(&self.secret, cx, &plain)?;
        Ok((
            StoredResponse {
                status,
                body: sealed,
            },
            self.idempotency(cx),
        ))
    }

    /// Turns the store's answer into the outcome. The audit record of the operation was
    /// written before the transaction; if the transaction did not record (a concurrent
    /// identical request won, or it failed), a second record says the first was rolled back.
    /// So no signed MSO leaves the service without its audit record on disk.
    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        cx: &RequestContext<'_>,
        inputs: &Inputs<'_>,
        result: crate::store::Result<RecordOutcome>,
        event: &str,
        document: &str,
        body: Vec<u8>,
        status: u16,
    ) -> Result<IssueOutcome, EngineError> {
        let rollback = |reason: &str| {
            AuditEvent::failure(event)
                .actor(cx.client_id)
                .detail("document", document)
                .detail("rolled_back", reason)
        };
        match result {
            Ok(RecordOutcome::Recorded) => Ok(IssueOutcome {
                status,
                body,
                replayed: false,
            }),
            Ok(RecordOutcome::Replayed(earlier)) => {
                self.audit.record(rollback("idempotent_replay")).await?;
                self.regenerate(cx, inputs, &earlier).await
            }
            Err(e) => {
                let e = EngineError::from(e);
                self.audit.record(rollback(e.code())).await?;
                Err(e)
            }
        }
    }
}
