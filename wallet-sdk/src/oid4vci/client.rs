//! [`Oid4vciClient`]: one issuance, step by step, for the app's screens.
//!
//! 1. [`Oid4vciClient::resolve_offer`] (or [`Oid4vciClient::resolve_issuer`] for a
//!    wallet-initiated flow): the offer, the issuer's and its authorization server's
//!    metadata, checked; the app shows what is offered and whether a transaction code is
//!    needed.
//! 2. Either [`Oid4vciClient::token_pre_authorized`] with the code the user typed, or
//!    [`Oid4vciClient::authorization_url`] (PAR, PKCE, `state`), the browser, and
//!    [`Oid4vciClient::finish_authorization`] with the redirect the app received.
//! 3. [`Oid4vciClient::request_credentials`]: nonce, one new device key per credential (in the
//!    app's [`KeyStore`]), key proofs, the credential request; issued or deferred
//!    ([`Oid4vciClient::poll_deferred`]).
//! 4. The app verifies and stores the credentials, then [`Oid4vciClient::notify`], and
//!    [`Oid4vciClient::close`] deletes the DPoP key.
//!
//! The access token is DPoP-bound (a key in the app's store) whenever the authorization
//! server announces ES256 DPoP; the server's `DPoP-Nonce`s are kept per origin and a
//! `use_dpop_nonce` answer is retried once. Device keys are created only once every answer
//! before the credential request checked out, and deleted again if the request fails.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::json;
use zeroize::Zeroizing;

use super::attestation::{ClientAttestation, ClientAttestationKey};
use super::authorization::{authorization_code, browser_url, request_params, PendingAuthorization};
use super::dpop::jwk_thumbprint;
use super::exchange::{
    error_of, exchange, oauth_error, Body, Call, DpopNonces, DEFAULT_MAX_CREDENTIAL_BYTES,
    DEFAULT_MAX_METADATA_BYTES, DEFAULT_MAX_TOKEN_BYTES,
};
use super::issuance::{
    bind, c_nonce, credential_answer, key_proof, pending_interval, CredentialAnswer,
};
use super::jws::{random_token, StoreKey};
use super::metadata::{
    issuer_metadata, server_metadata, Configuration, CredentialConfigurationInfo, IssuerMetadata,
    LocalizedName, ServerMetadata,
};
use super::notification::{notification_body, NotificationEvent};
use super::offer::{
    offer_source, CredentialOffer, OfferSource, TxCodeInfo, TxCodeInputMode, MAX_OFFER_LEN,
    MAX_TX_CODE_LEN,
};
use super::token::{access_token, AccessToken};
use crate::error::{Result, WalletError};
use crate::http::{header, Http, HttpClient, HttpMethod, UrlPolicy};
use crate::json::parse;
use crate::keystore::{check_point, KeyStore};
use crate::receive::IssuedCredential;

/// How the client behaves.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Oid4vciOptions {
    /// The wallet's OAuth `client_id` (required for the authorization-code flow and for client
    /// attestation; the pre-authorized flow is anonymous without it).
    pub client_id: Option<String>,
    /// The redirect URI the app receives the authorization response at (a claimed `https`
    /// link or the app's private-use scheme).
    pub redirect_uri: Option<String>,
    /// Allow plain `http` to loopback hosts (tests and development only).
    pub allow_http_loopback: bool,
    /// Largest offer-by-reference or metadata document accepted, bytes.
    pub max_metadata_bytes: u64,
    /// Largest token, PAR, nonce or notification answer accepted, bytes.
    pub max_token_bytes: u64,
    /// Largest credential answer accepted, bytes.
    pub max_credential_bytes: u64,
    /// The wallet's client attestation (sent to the PAR and token endpoints), if it has one.
    pub client_attestation: Option<ClientAttestation>,
}

/// The default options: https only, the SDK's size bounds, no client id.
#[uniffi::export]
pub fn default_oid4vci_options() -> Oid4vciOptions {
    Oid4vciOptions {
        client_id: None,
        redirect_uri: None,
        allow_http_loopback: false,
        max_metadata_bytes: DEFAULT_MAX_METADATA_BYTES,
        max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        max_credential_bytes: DEFAULT_MAX_CREDENTIAL_BYTES,
        client_attestation: None,
    }
}

/// The pre-authorized code grant of an offer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PreAuthorizedInfo {
    /// The transaction code the user must type, when one is needed.
    pub tx_code: Option<TxCodeInfo>,
}

/// What the issuer offers, for the app to show.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfferInfo {
    /// The credential issuer identifier.
    pub credential_issuer: String,
    /// The issuer's display names.
    pub issuer_display: Vec<LocalizedName>,
    /// The offered `mso_mdoc` configurations this SDK can request.
    pub credentials: Vec<CredentialConfigurationInfo>,
    /// Offered configurations it cannot (another format, or no ES256 `jwt` proofs).
    pub unsupported_configuration_ids: Vec<String>,
    /// The pre-authorized code grant, when offered.
    pub pre_authorized: Option<PreAuthorizedInfo>,
    /// Whether the authorization-code flow can be used.
    pub authorization_code: bool,
    /// Most credentials (device keys) one request may ask for.
    pub batch_size: u32,
}

/// The credentials of one issuance, for verify-on-receipt.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IssuedCredentials {
    /// The credential issuer identifier.
    pub credential_issuer: String,
    /// The configuration requested.
    pub configuration_id: String,
    /// Its doc type (what each credential must be).
    pub doctype: String,
    /// The credentials, each with its device key's alias.
    pub credentials: Vec<IssuedCredential>,
    /// For [`Oid4vciClient::notify`], when the issuer wants notifications.
    pub notification_id: Option<String>,
}

/// The outcome of a credential request or a deferred poll.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Issuance {
    /// Issued.
    Issued {
        /// The credentials.
        result: IssuedCredentials,
    },
    /// Not yet: call [`Oid4vciClient::poll_deferred`] after `interval_seconds`.
    Deferred {
        /// The issuer's transaction id.
        transaction_id: String,
        /// Seconds to wait before polling.
        interval_seconds: u64,
    },
}

/// Issuer, server and offer, after discovery.
struct Discovered {
    metadata: IssuerMetadata,
    server: ServerMetadata,
    offer: Option<CredentialOffer>,
    /// The configurations offered that the SDK can request.
    offered: Vec<Configuration>,
}

impl Discovered {
    /// The offered configuration `id`, or why it cannot be requested.
    fn configuration(&self, id: &str) -> Result<Configuration> {
        self.offered
            .iter()
            .find(|c| c.info.id == id)
            .cloned()
            .ok_or_else(|| WalletError::InvalidInput {
                reason: format!("{id:?} is not offered"),
            })
    }
}

struct Deferred {
    transaction_id: String,
    keys: Vec<StoreKey>,
    configuration: Configuration,
}

#[derive(Default)]
struct State {
    discovered: Option<Discovered>,
    pending: Option<PendingAuthorization>,
    token: Option<AccessToken>,
    dpop_key: Option<StoreKey>,
    nonces: DpopNonces,
    deferred: Option<Deferred>,
    notification_id: Option<String>,
    /// The `client_id` the token request carried (then key proofs carry it as `iss`;
    /// anonymous pre-authorized access omits it, OpenID4VCI 1.0 §F.1).
    client_id_sent: Option<String>,
}

/// An OpenID4VCI 1.0 client for one issuance (see the module documentation for the steps).
#[derive(uniffi::Object)]
pub struct Oid4vciClient {
    http: Http,
    keys: Arc<dyn KeyStore>,
    options: Oid4vciOptions,
    state: Mutex<State>,
}

fn flow(reason: &str) -> WalletError {
    WalletError::FlowState {
        reason: reason.into(),
    }
}

fn bound(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl Oid4vciClient {
    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| flow("a previous call panicked; start again"))
    }

    fn token_max(&self) -> usize {
        bound(self.options.max_token_bytes)
    }

    fn attestation(&self) -> Result<Option<ClientAttestationKey>> {
        self.options
            .client_attestation
            .as_ref()
            .map(|a| ClientAttestationKey::new(&*self.keys, a, self.options.client_id.as_deref()))
            .transpose()
    }

    /// The session's DPoP key, created on first use.
    fn dpop_key(&self, state: &mut State) -> Result<StoreKey> {
        if let Some(k) = &state.dpop_key {
            return Ok(k.clone());
        }
        let alias = format!("oid4vci-dpop-{}", random_token::<12>()?);
        let public = check_point(&alias, self.keys.create_key(alias.clone())?)?;
        let key = StoreKey { alias, public };
        state.dpop_key = Some(key.clone());
        Ok(key)
    }

    fn forget_session(&self, state: &mut State) {
        if let Some(k) = state.dpop_key.take() {
            let _ = self.keys.delete_key(k.alias);
        }
        if let Some(d) = state.deferred.take() {
            self.delete_keys(&d.keys);
        }
        *state = State::default();
    }

    fn delete_keys(&self, keys: &[StoreKey]) {
        for k in keys {
            let _ = self.keys.delete_key(k.alias.clone());
        }
    }

    fn discover(
        &self,
        offer: Option<CredentialOffer>,
        issuer: &str,
    ) -> Result<(Discovered, OfferInfo)> {
        let max = bound(self.options.max_metadata_bytes);
        let metadata = issuer_metadata(&self.http, issuer, max)?;
        let wanted: Vec<String> = match &offer {
            Some(o) => o.credential_configuration_ids.clone(),
            None => metadata.mdoc.iter().map(|c| c.info.id.clone()).collect(),
        };
        let mut offered = Vec::new();
        let mut unsupported = Vec::new();
        for id in &wanted {
            if !metadata.all_ids.contains(id) {
                return Err(WalletError::Protocol {
                    reason: format!("the offer names {id:?}, which the issuer's metadata lacks"),
                });
            }
            match metadata.mdoc.iter().find(|c| &c.info.id == id) {
                Some(c) => offered.push(c.clone()),
                None => unsupported.push(id.clone()),
            }
        }
        if offered.is_empty() {
            return Err(WalletError::Unsupported {
                reason: "nothing offered is an mso_mdoc credential with ES256 jwt key proofs"
                    .into(),
            });
        }
        let grants = offer.as_ref().and_then(|o| o.grants.clone());
        let named = grants.as_ref().and_then(|g| {
            g.pre_authorized
                .as_ref()
                .and_then(|p| p.authorization_server.clone())
                .or_else(|| {
                    g.authorization_code
                        .as_ref()
                        .and_then(|a| a.authorization_server.clone())
                })
        });
        let server_id = match named {
            Some(s) if metadata.authorization_servers.contains(&s) => s,
            Some(s) => {
                return Err(WalletError::IssuerMismatch {
                    expected: metadata.authorization_servers.join(" "),
                    found: s.chars().take(200).collect(),
                })
            }
            None => metadata
                .authorization_servers
                .first()
                .cloned()
                .unwrap_or_else(|| metadata.credential_issuer.clone()),
        };
        let server = server_metadata(&self.http, &server_id, max)?;
        let pre_authorized = grants
            .as_ref()
            .and_then(|g| g.pre_authorized.as_ref())
            .map(|p| {
                Ok::<_, WalletError>(PreAuthorizedInfo {
                    tx_code: p.tx_code.as_ref().map(|t| t.info()).transpose()?,
                })
            })
            .transpose()?;
        let code_grant = match &grants {
            Some(g) if g.pre_authorized.is_some() || g.authorization_code.is_some() => {
                g.authorization_code.is_some()
            }
            _ => true,
        };
        let info = OfferInfo {
            credential_issuer: metadata.credential_issuer.clone(),
            issuer_display: metadata.display.clone(),
            credentials: offered.iter().map(|c| c.info.clone()).collect(),
            unsupported_configuration_ids: unsupported,
            pre_authorized,
            authorization_code: code_grant && server.authorization_endpoint.is_some(),
            batch_size: metadata.batch_size,
        };
        Ok((
            Discovered {
                metadata,
                server,
                offer,
                offered,
            },
            info,
        ))
    }

    /// Sends a token request and keeps the token.
    fn token(&self, state: &mut State, mut form: Vec<(String, String)>) -> Result<()> {
        let server = state
            .discovered
            .as_ref()
            .map(|d| d.server.clone())
            .ok_or_else(|| flow("resolve an offer first"))?;
        let dpop = if server.dpop {
            Some(self.dpop_key(state)?)
        } else {
            None
        };
        let attestation = self.attestation()?;
        if attestation.is_some() {
            if let Some(c) = &self.options.client_id {
                if !form.iter().any(|(k, _)| k == "client_id") {
                    form.push(("client_id".into(), c.clone()));
                }
            }
        }
        let client_id = form
            .iter()
            .find(|(k, _)| k == "client_id")
            .map(|(_, v)| v.clone());
        let answer = exchange(
            &self.http,
            &*self.keys,
            &mut state.nonces,
            Call {
                method: HttpMethod::Post,
                url: &server.token_endpoint,
                body: Body::Form(form),
                max: self.token_max(),
                access_token: None,
                dpop: dpop.as_ref(),
                attestation: attestation.as_ref().map(|a| (a, server.issuer.as_str())),
            },
        )?;
        if answer.status != 200 {
            return Err(error_of(&answer));
        }
        state.token = Some(access_token(&answer, dpop.is_some())?);
        state.client_id_sent = client_id;
        Ok(())
    }

    /// A request to a protected resource of the issuer with the access token.
    fn resource(
        &self,
        state: &mut State,
        url: &url::Url,
        body: serde_json::Value,
        max: usize,
    ) -> Result<crate::http::Answer> {
        let token = state
            .token
            .as_ref()
            .ok_or_else(|| flow("get an access token first"))?;
        let secret = Zeroizing::new(token.token.to_string());
        let dpop = if token.dpop {
            state.dpop_key.clone()
        } else {
            None
        };
        if token.dpop && dpop.is_none() {
            return Err(flow("the DPoP key of the token is gone"));
        }
        exchange(
            &self.http,
            &*self.keys,
            &mut state.nonces,
            Call {
                method: HttpMethod::Post,
                url,
                body: Body::Json(body),
                max,
                access_token: Some(secret.as_str()),
                dpop: dpop.as_ref(),
                attestation: None,
            },
        )
    }

    /// Creates `count` device keys; none are left behind on failure.
    fn create_device_keys(&self, count: u32) -> Result<Vec<StoreKey>> {
        let mut made = Vec::new();
        for _ in 0..count {
            let made_one = random_token::<12>()
                .map(|r| format!("oid4vci-device-{r}"))
                .and_then(|alias| {
                    let public = self.keys.create_key(alias.clone());
                    made.push(StoreKey {
                        alias: alias.clone(),
                        public: Vec::new(),
                    });
                    check_point(&alias, public?)
                });
            match made_one {
                Ok(public) => {
                    if let Some(last) = made.last_mut() {
                        last.public = public;
                    }
                }
                Err(e) => {
                    self.delete_keys(&made);
                    return Err(e);
                }
            }
        }
        Ok(made)
    }

    fn proofs(
        &self,
        keys: &[StoreKey],
        audience: &str,
        nonce: Option<&str>,
        attest: bool,
        client_id: Option<&str>,
    ) -> Result<Vec<String>> {
        keys.iter()
            .map(|k| {
                let attestation = if attest {
                    let a = self
                        .keys
                        .key_attestation(k.alias.clone(), nonce.map(str::to_owned))?;
                    Some(a.ok_or_else(|| WalletError::Unsupported {
                        reason:
                            "the issuer requires key attestations; the key store gives none".into(),
                    })?)
                } else {
                    None
                };
                key_proof(&*self.keys, k, audience, nonce, client_id, attestation)
            })
            .collect()
    }

    fn fresh_nonce(&self, state: &mut State, metadata: &IssuerMetadata) -> Result<Option<String>> {
        let Some(endpoint) = &metadata.nonce_endpoint else {
            return Ok(None);
        };
        let answer = exchange(
            &self.http,
            &*self.keys,
            &mut state.nonces,
            Call {
                method: HttpMethod::Post,
                url: endpoint,
                body: Body::None,
                max: self.token_max(),
                access_token: None,
                dpop: None,
                attestation: None,
            },
        )?;
        if answer.status != 200 {
            return Err(error_of(&answer));
        }
        c_nonce(&answer).map(Some)
    }

    /// The credential request once keys exist; the caller deletes them on error.
    fn credential_request(
        &self,
        state: &mut State,
        metadata: &IssuerMetadata,
        configuration: &Configuration,
        keys: &[StoreKey],
        nonce: Option<String>,
    ) -> Result<Issuance> {
        let attest = configuration.info.key_attestation_required;
        let target = state.token.as_ref().and_then(|t| {
            t.credential_identifiers
                .iter()
                .find(|(c, _)| c == &configuration.info.id)
                .and_then(|(_, ids)| ids.first().cloned())
        });
        let body = |proofs: Vec<String>| match &target {
            Some(id) => json!({"credential_identifier": id, "proofs": {"jwt": proofs}}),
            None => json!({
                "credential_configuration_id": configuration.info.id,
                "proofs": {"jwt": proofs},
            }),
        };
        let audience = metadata.credential_issuer.as_str();
        let max = bound(self.options.max_credential_bytes);
        let client_id = state.client_id_sent.clone();
        let client_id = client_id.as_deref();
        let proofs = self.proofs(keys, audience, nonce.as_deref(), attest, client_id)?;
        let mut answer = self.resource(state, &metadata.credential_endpoint, body(proofs), max)?;
        let stale_nonce =
            answer.status == 400 && oauth_error(&answer).is_some_and(|(c, _)| c == "invalid_nonce");
        if stale_nonce && metadata.nonce_endpoint.is_some() {
            let nonce = self.fresh_nonce(state, metadata)?;
            let proofs = self.proofs(keys, audience, nonce.as_deref(), attest, client_id)?;
            answer = self.resource(state, &metadata.credential_endpoint, body(proofs), max)?;
        }
        if !matches!(answer.status, 200 | 202) {
            return Err(error_of(&answer));
        }
        let count = keys.len();
        match credential_answer(&answer, count)? {
            CredentialAnswer::Issued {
                credentials,
                notification_id,
            } => self.issued(
                state,
                metadata,
                configuration,
                keys,
                credentials,
                notification_id,
            ),
            CredentialAnswer::Deferred {
                transaction_id,
                interval,
            } => {
                let transaction_id = transaction_id.ok_or_else(|| WalletError::Protocol {
                    reason: "a deferred credential response without transaction_id".into(),
                })?;
                if metadata.deferred_credential_endpoint.is_none() {
                    return Err(WalletError::Protocol {
                        reason: "deferred, but the issuer has no deferred_credential_endpoint"
                            .into(),
                    });
                }
                state.deferred = Some(Deferred {
                    transaction_id: transaction_id.clone(),
                    keys: keys.to_vec(),
                    configuration: configuration.clone(),
                });
                Ok(Issuance::Deferred {
                    transaction_id,
                    interval_seconds: interval,
                })
            }
        }
    }

    /// Pairs the credentials with their keys, deletes the keys no credential binds.
    fn issued(
        &self,
        state: &mut State,
        metadata: &IssuerMetadata,
        configuration: &Configuration,
        keys: &[StoreKey],
        credentials: Vec<Vec<u8>>,
        notification_id: Option<String>,
    ) -> Result<Issuance> {
        let credentials = bind(credentials, keys)?;
        let unused: Vec<StoreKey> = keys
            .iter()
            .filter(|k| !credentials.iter().any(|c| c.key_alias == k.alias))
            .cloned()
            .collect();
        self.delete_keys(&unused);
        state.notification_id = notification_id.clone();
        Ok(Issuance::Issued {
            result: IssuedCredentials {
                credential_issuer: metadata.credential_issuer.clone(),
                configuration_id: configuration.info.id.clone(),
                doctype: configuration.info.doctype.clone(),
                credentials,
                notification_id,
            },
        })
    }
}

#[uniffi::export]
impl Oid4vciClient {
    /// A client over the app's HTTP stack and key store.
    #[uniffi::constructor]
    pub fn new(
        http: Arc<dyn HttpClient>,
        keys: Arc<dyn KeyStore>,
        options: Oid4vciOptions,
    ) -> Result<Arc<Self>> {
        let policy = UrlPolicy {
            allow_http_loopback: options.allow_http_loopback,
        };
        if let Some(r) = &options.redirect_uri {
            let u = url::Url::parse(r).map_err(|_| WalletError::InvalidInput {
                reason: "redirect_uri is not an absolute URL".into(),
            })?;
            if u.fragment().is_some() || r.len() > 512 {
                return Err(WalletError::InvalidInput {
                    reason: "redirect_uri has a fragment or is too long".into(),
                });
            }
        }
        if let Some(c) = &options.client_id {
            if c.is_empty() || c.len() > 512 || !c.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                return Err(WalletError::InvalidInput {
                    reason: "client_id must be 1 to 512 printable ASCII characters".into(),
                });
            }
        }
        Ok(Arc::new(Oid4vciClient {
            http: Http::new(http, policy),
            keys,
            options,
            state: Mutex::new(State::default()),
        }))
    }

    /// Reads a credential offer (an `openid-credential-offer://` or `haip-vci://` link, an
    /// `https` link with `credential_offer` or `credential_offer_uri`, or the bare JSON),
    /// fetches it if it is by reference, then the issuer's and its authorization server's
    /// metadata; checks them all. Starts a new issuance (the previous one's DPoP key and
    /// pending device keys are deleted).
    pub fn resolve_offer(&self, offer: String) -> Result<OfferInfo> {
        let mut state = self.lock()?;
        self.forget_session(&mut state);
        let json = match offer_source(&offer, &self.http.policy)? {
            OfferSource::Value(json) => {
                if json.len() > MAX_OFFER_LEN {
                    return Err(WalletError::SizeLimit {
                        reason: format!("the credential offer is over {MAX_OFFER_LEN} bytes"),
                    });
                }
                json.into_bytes()
            }
            OfferSource::Reference(url) => {
                let max = bound(self.options.max_metadata_bytes).min(MAX_OFFER_LEN);
                let answer = self.http.send(
                    HttpMethod::Get,
                    &url,
                    vec![header("Accept", "application/json")],
                    Vec::new(),
                    max,
                )?;
                if answer.status != 200 {
                    return Err(error_of(&answer));
                }
                answer.body
            }
        };
        let parsed: CredentialOffer = parse(&json, "credential offer")?;
        parsed.check(&self.http.policy)?;
        let issuer = parsed.credential_issuer.clone();
        let (discovered, info) = self.discover(Some(parsed), &issuer)?;
        state.discovered = Some(discovered);
        Ok(info)
    }

    /// Starts a wallet-initiated issuance at `credential_issuer` (no offer): every `mso_mdoc`
    /// configuration it lists, through the authorization-code flow.
    pub fn resolve_issuer(&self, credential_issuer: String) -> Result<OfferInfo> {
        let mut state = self.lock()?;
        self.forget_session(&mut state);
        let (discovered, info) = self.discover(None, &credential_issuer)?;
        state.discovered = Some(discovered);
        Ok(info)
    }

    /// Redeems the offer's pre-authorized code, with the transaction code the user typed
    /// when the offer asks for one.
    pub fn token_pre_authorized(&self, tx_code: Option<String>) -> Result<()> {
        let mut state = self.lock()?;
        if state.token.is_some() {
            return Err(flow("this issuance already has an access token"));
        }
        let grant = state
            .discovered
            .as_ref()
            .ok_or_else(|| flow("resolve an offer first"))?
            .offer
            .as_ref()
            .and_then(|o| o.grants.as_ref())
            .and_then(|g| g.pre_authorized.clone())
            .ok_or_else(|| WalletError::InvalidInput {
                reason: "the offer has no pre-authorized code".into(),
            })?;
        let mut form = vec![
            (
                "grant_type".to_owned(),
                super::offer::PRE_AUTHORIZED_GRANT.to_owned(),
            ),
            ("pre-authorized_code".to_owned(), grant.code.clone()),
        ];
        if let Some(spec) = &grant.tx_code {
            let info = spec.info()?;
            let code =
                tx_code
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| WalletError::InvalidInput {
                        reason: "the offer asks for a transaction code".into(),
                    })?;
            let digits_ok = info.input_mode == TxCodeInputMode::Text
                || code.bytes().all(|b| b.is_ascii_digit());
            if !digits_ok || code.len() > MAX_TX_CODE_LEN {
                return Err(WalletError::InvalidInput {
                    reason: "the transaction code is not what the offer describes".into(),
                });
            }
            form.push(("tx_code".into(), code));
        }
        self.token(&mut state, form)
    }

    /// Starts the authorization-code flow for `configuration_id`: pushes the request (PAR,
    /// PKCE S256, `state`, the offer's `issuer_state`, DPoP binding) and returns the URL for
    /// the app to open in the browser.
    pub fn authorization_url(&self, configuration_id: String) -> Result<String> {
        let mut state = self.lock()?;
        if state.token.is_some() {
            return Err(flow("this issuance already has an access token"));
        }
        let (client_id, redirect_uri) = match (&self.options.client_id, &self.options.redirect_uri)
        {
            (Some(c), Some(r)) => (c.clone(), r.clone()),
            _ => {
                return Err(WalletError::InvalidInput {
                    reason: "the authorization-code flow needs client_id and redirect_uri".into(),
                })
            }
        };
        let d = state
            .discovered
            .as_ref()
            .ok_or_else(|| flow("resolve an offer first"))?;
        let server = d.server.clone();
        let configuration = d.configuration(&configuration_id)?;
        let issuer_state = d
            .offer
            .as_ref()
            .and_then(|o| o.grants.as_ref())
            .and_then(|g| g.authorization_code.as_ref())
            .and_then(|a| a.issuer_state.clone());
        let endpoint =
            server
                .authorization_endpoint
                .clone()
                .ok_or_else(|| WalletError::Unsupported {
                    reason: "the authorization server has no authorization endpoint".into(),
                })?;
        let (pending, challenge) =
            PendingAuthorization::new(&client_id, &redirect_uri, &configuration.info.id)?;
        let dpop = if server.dpop {
            Some(self.dpop_key(&mut state)?)
        } else {
            None
        };
        // With PAR the DPoP header binds the request (RFC 9449 §10.1); without, `dpop_jkt`.
        let jkt = match (&server.par_endpoint, &dpop) {
            (None, Some(k)) => Some(jwk_thumbprint(k)?),
            _ => None,
        };
        let params = request_params(
            &pending,
            &challenge,
            configuration.scope.as_deref(),
            issuer_state.as_deref(),
            jkt.as_deref(),
        );
        let url = match &server.par_endpoint {
            Some(par) => {
                let attestation = self.attestation()?;
                let answer = exchange(
                    &self.http,
                    &*self.keys,
                    &mut state.nonces,
                    Call {
                        method: HttpMethod::Post,
                        url: par,
                        body: Body::Form(params),
                        max: self.token_max(),
                        access_token: None,
                        dpop: dpop.as_ref(),
                        attestation: attestation.as_ref().map(|a| (a, server.issuer.as_str())),
                    },
                )?;
                if !matches!(answer.status, 200 | 201) {
                    return Err(error_of(&answer));
                }
                #[derive(serde::Deserialize)]
                struct Pushed {
                    request_uri: String,
                }
                let pushed: Pushed = parse(&answer.body, "pushed authorization response")?;
                if pushed.request_uri.is_empty() || pushed.request_uri.len() > 2048 {
                    return Err(WalletError::Protocol {
                        reason: "request_uri is empty or too long".into(),
                    });
                }
                browser_url(
                    &endpoint,
                    &[
                        ("client_id".into(), client_id),
                        ("request_uri".into(), pushed.request_uri),
                    ],
                )
            }
            None if server.require_par => {
                return Err(WalletError::Protocol {
                    reason: "the server requires PAR but names no PAR endpoint".into(),
                })
            }
            None => browser_url(&endpoint, &params),
        };
        state.pending = Some(pending);
        Ok(url.to_string())
    }

    /// Takes the redirect the browser delivered to the app (`redirect_uri?code=…&state=…&iss=…`),
    /// checks its `state` and `iss` (RFC 9207), and redeems the code (PKCE verifier, DPoP).
    /// An `error` in the redirect is [`WalletError::IssuerError`] with status 0.
    pub fn finish_authorization(&self, redirect_url: String) -> Result<()> {
        let mut state = self.lock()?;
        let pending = state
            .pending
            .take()
            .ok_or_else(|| flow("no authorization request is waiting"))?;
        let server = state
            .discovered
            .as_ref()
            .map(|d| d.server.clone())
            .ok_or_else(|| flow("resolve an offer first"))?;
        let code = authorization_code(&redirect_url, &pending, &server)?;
        let form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_string()),
            (
                "code_verifier".to_owned(),
                pending.code_verifier.to_string(),
            ),
            ("redirect_uri".to_owned(), pending.redirect_uri.clone()),
            ("client_id".to_owned(), pending.client_id.clone()),
        ];
        self.token(&mut state, form)
    }

    /// Requests `count` credentials of `configuration_id` (1 to the offer's `batch_size`),
    /// each bound to a new device key in the app's store: nonce, key proofs, credential
    /// request. Issued credentials come with their key aliases and are not yet verified.
    pub fn request_credentials(&self, configuration_id: String, count: u32) -> Result<Issuance> {
        let mut state = self.lock()?;
        if state.token.is_none() {
            return Err(flow("get an access token first"));
        }
        if state.deferred.is_some() {
            return Err(flow("a deferred request is pending: poll it"));
        }
        let d = state
            .discovered
            .as_ref()
            .ok_or_else(|| flow("resolve an offer first"))?;
        let metadata = d.metadata.clone();
        let configuration = d.configuration(&configuration_id)?;
        if count == 0 || count > metadata.batch_size {
            return Err(WalletError::InvalidInput {
                reason: format!("count must be 1 to {}", metadata.batch_size),
            });
        }
        let nonce = self.fresh_nonce(&mut state, &metadata)?;
        let keys = self.create_device_keys(count)?;
        let outcome = self.credential_request(&mut state, &metadata, &configuration, &keys, nonce);
        if outcome.is_err() {
            self.delete_keys(&keys);
        }
        outcome
    }

    /// Polls the deferred credential endpoint for the pending request.
    pub fn poll_deferred(&self) -> Result<Issuance> {
        let mut state = self.lock()?;
        let (transaction_id, keys, configuration) = match &state.deferred {
            Some(d) => (
                d.transaction_id.clone(),
                d.keys.clone(),
                d.configuration.clone(),
            ),
            None => return Err(flow("no deferred request is pending")),
        };
        let metadata = state
            .discovered
            .as_ref()
            .map(|d| d.metadata.clone())
            .ok_or_else(|| flow("resolve an offer first"))?;
        let endpoint = metadata
            .deferred_credential_endpoint
            .clone()
            .ok_or_else(|| flow("the issuer has no deferred endpoint"))?;
        let max = bound(self.options.max_credential_bytes);
        let answer = self.resource(
            &mut state,
            &endpoint,
            json!({"transaction_id": transaction_id}),
            max,
        )?;
        if let Some(interval) = pending_interval(&answer) {
            return Ok(Issuance::Deferred {
                transaction_id,
                interval_seconds: interval,
            });
        }
        let outcome = if matches!(answer.status, 200 | 202) {
            credential_answer(&answer, keys.len())
        } else {
            Err(error_of(&answer))
        };
        match outcome {
            Ok(CredentialAnswer::Deferred {
                transaction_id: next,
                interval,
            }) => {
                let id = next.unwrap_or(transaction_id);
                if let Some(d) = state.deferred.as_mut() {
                    d.transaction_id = id.clone();
                }
                Ok(Issuance::Deferred {
                    transaction_id: id,
                    interval_seconds: interval,
                })
            }
            Ok(CredentialAnswer::Issued {
                credentials,
                notification_id,
            }) => {
                state.deferred = None;
                let issued = self.issued(
                    &mut state,
                    &metadata,
                    &configuration,
                    &keys,
                    credentials,
                    notification_id,
                );
                if issued.is_err() {
                    self.delete_keys(&keys);
                }
                issued
            }
            Err(e) => {
                state.deferred = None;
                self.delete_keys(&keys);
                Err(e)
            }
        }
    }

    /// Tells the issuer what became of the credentials (after verify-on-receipt and
    /// storage). False when there is nothing to notify (no `notification_id` or no
    /// notification endpoint).
    pub fn notify(&self, event: NotificationEvent, description: Option<String>) -> Result<bool> {
        let mut state = self.lock()?;
        let endpoint = state
            .discovered
            .as_ref()
            .and_then(|d| d.metadata.notification_endpoint.clone());
        let (Some(endpoint), Some(id)) = (endpoint, state.notification_id.clone()) else {
            return Ok(false);
        };
        let body = notification_body(&id, event, description.as_deref())?;
        let max = self.token_max();
        let answer = self.resource(&mut state, &endpoint, body, max)?;
        if !matches!(answer.status, 200 | 204) {
            return Err(error_of(&answer));
        }
        Ok(true)
    }

    /// Ends the issuance: deletes the DPoP key and the keys of a deferred request that was
    /// not delivered. Issued credentials' keys stay (they are the app's now).
    pub fn close(&self) -> Result<()> {
        let mut state = self.lock()?;
        self.forget_session(&mut state);
        Ok(())
    }
}
