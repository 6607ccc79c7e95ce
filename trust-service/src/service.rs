//! The DTS itself: configuration, store, audit log, VICAL signer and the current [`Site`],
//! behind one handle shared by the HTTP server and the CLI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use custody::audit::AuditEvent;
use time::OffsetDateTime;

use crate::audit::DtsAudit;
use crate::bundle::Bundle;
use crate::config::DtsConfig;
use crate::error::{DtsError, Refusal, Result};
use crate::ingest::{self, Plan};
use crate::layout::PublicUrl;
use crate::metrics::Metrics;
use crate::schedule::{self, Provision};
use crate::site::Site;
use crate::store::{self, State, Store};
use crate::vical::VicalSigner;

/// Where the time comes from (tests inject one).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told (tests, rehearsals).
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        ManualClock(Mutex::new(at))
    }

    /// Sets the time.
    pub fn set(&self, at: OffsetDateTime) {
        if let Ok(mut t) = self.0.lock() {
            *t = at;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.0.lock().map_or(OffsetDateTime::UNIX_EPOCH, |t| *t)
    }
}

/// What an ingest did.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// The ingest record's id.
    pub id: i64,
    /// What was added.
    pub plan: Plan,
    /// Whether a new VICAL was signed.
    pub new_vical: bool,
}

/// The Digital Trust Service.
pub struct Dts {
    config: DtsConfig,
    public: PublicUrl,
    pins: Vec<String>,
    store: Store,
    audit: DtsAudit,
    vical: Option<Arc<VicalSigner>>,
    clock: Arc<dyn Clock>,
    site: RwLock<Arc<Site>>,
    built_from: Mutex<(i64, i64)>,
    metrics: Metrics,
}

impl core::fmt::Debug for Dts {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dts")
            .field("public_url", &self.config.public_url)
            .finish_non_exhaustive()
    }
}

/// Bounds a string from untrusted input for the audit log: printable, at most 300 characters.
fn bounded(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(300)
        .collect();
    if text.chars().count() > 300 {
        out.push('…');
    }
    out
}

impl Dts {
    /// Opens the DTS `config` describes, with the VICAL signer it names, on the system clock.
    pub async fn open(config: DtsConfig) -> Result<Arc<Dts>> {
        let vical = config.vical.as_ref().map(VicalSigner::open).transpose()?;
        Self::open_with(config, vical, Arc::new(SystemClock)).await
    }

    /// Opens with an explicit VICAL signer and clock.
    pub async fn open_with(
        config: DtsConfig,
        vical: Option<VicalSigner>,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Dts>> {
        config.check()?;
        let public = PublicUrl::parse(&config.public_url)
            .map_err(|e| crate::config::ConfigError::Invalid(format!("public_url: {e}")))?;
        let store = Store::open(&config.database_url).await?;
        let audit = DtsAudit::open(&config.audit_log, &config.terminal_id)?;
        let at = clock.now();
        let dts = Dts {
            pins: config.pins(),
            public,
            store,
            audit,
            vical: vical.map(Arc::new),
            clock,
            site: RwLock::new(Arc::new(Site::build(
                &State::default(),
                &PublicUrl::parse(&config.public_url)
                    .map_err(|e| crate::config::ConfigError::Invalid(format!("public_url: {e}")))?,
                at,
                &HashMap::new(),
            ))),
            built_from: Mutex::new((-1, -1)),
            metrics: Metrics::new(),
            config,
        };
        dts.rebuild().await?;
        Ok(Arc::new(dts))
    }

    /// The configuration.
    pub fn config(&self) -> &DtsConfig {
        &self.config
    }

    /// The public URL.
    pub fn public(&self) -> &PublicUrl {
        &self.public
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The clock's time.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The site being served.
    pub fn site(&self) -> Arc<Site> {
        self.site
            .read()
            .map(|s| Arc::clone(&s))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }

    /// Ingests a bundle (or records why it could not be read): all or nothing, audited either
    /// way. A refusal is `Err(DtsError::Refused)`.
    pub async fn ingest(
        &self,
        bundle: std::result::Result<Bundle, Refusal>,
        source: &str,
        actor: &str,
    ) -> Result<Ingested> {
        let at = self.now();
        let source = bounded(source);
        let bundle = match bundle {
            Ok(b) => b,
            Err(refusal) => return Err(self.refuse(at, &source, actor, "", refusal).await),
        };
        let sha = bundle.sha256().to_owned();
        let (pins, public, vical) = (self.pins.clone(), self.public.clone(), self.vical.clone());
        let max_validity = time::Duration::days(i64::from(self.config.crl.max_validity_days));
        let (src, who, digest) = (source.clone(), actor.to_owned(), sha.clone());
        let result = self
            .store
            .write(move |conn, state| {
                Box::pin(async move {
                    let plan = ingest::plan(&state, &bundle, &pins, &public, at, max_validity)?;
                    let id = store::insert_ingest(
                        conn,
                        at,
                        &src,
                        &who,
                        &digest,
                        "accepted",
                        &plan.summary(),
                    )
                    .await?;
                    for r in &plan.roots {
                        store::insert_root(conn, r, id).await?;
                    }
                    for l in &plan.links {
                        store::insert_link(conn, l, id).await?;
                    }
                    for (c, der) in &plan.crls {
                        store::insert_crl(conn, c, der, id).await?;
                    }
                    let mut new_vical = false;
                    if let Some(signer) = &vical {
                        let mut next = state;
                        next.roots.extend(plan.roots.iter().cloned());
                        if signer.due(&next, at) {
                            let record = signer.sign(&next, &public, at)?;
                            store::insert_vical(conn, &record).await?;
                            new_vical = true;
                        }
                    }
                    Ok::<_, DtsError>(Ingested {
                        id,
                        plan,
                        new_vical,
                    })
                })
            })
            .await;
        match result {
            Ok(done) => {
                self.metrics.ingest("accepted", at);
                let event = AuditEvent::success("dts.ingest")
                    .actor(actor)
                    .detail("source", source.clone())
                    .detail("bundle_sha256", sha)
                    .detail("ingest_id", done.id.to_string())
                    .detail("added", done.plan.summary())
                    .detail("vical_signed", done.new_vical.to_string());
                self.audit(event)?;
                self.rebuild().await?;
                Ok(done)
            }
            Err(DtsError::Refused(refusal)) => {
                Err(self.refuse(at, &source, actor, &sha, refusal).await)
            }
            Err(other) => {
                self.metrics.ingest("error", at);
                let event = AuditEvent::failure("dts.ingest")
                    .actor(actor)
                    .detail("source", source)
                    .detail("bundle_sha256", sha)
                    .detail("error", bounded(&other.to_string()));
                let _ = self.audit(event);
                Err(other)
            }
        }
    }

    /// Records and audits a refusal; returns it as the error to hand back.
    async fn refuse(
        &self,
        at: OffsetDateTime,
        source: &str,
        actor: &str,
        sha: &str,
        refusal: Refusal,
    ) -> DtsError {
        self.metrics.ingest("refused", at);
        let reason = bounded(&refusal.to_string());
        if let Err(e) = self
            .store
            .record_refusal(at, source, actor, sha, refusal.code(), &reason)
            .await
        {
            tracing::error!(error = %e, "could not record a refused ingest");
        }
        let event = AuditEvent::failure("dts.ingest")
            .actor(actor)
            .detail("source", source.to_owned())
            .detail("bundle_sha256", sha.to_owned())
            .detail("refusal", refusal.code())
            .detail("reason", reason);
        if let Err(e) = self.audit(event) {
            return e;
        }
        DtsError::Refused(refusal)
    }

    fn audit(&self, event: AuditEvent) -> Result<()> {
        self.audit.record(event)
    }

    /// Builds the site at `at` from the store.
    pub async fn build_site(&self, at: OffsetDateTime) -> Result<(Site, State)> {
        let state = self.store.state().await?;
        let mut ders = HashMap::new();
        for key in Site::served_crls(&state, at) {
            let der = self.store.crl_der(&key.0, &key.1).await?;
            ders.insert(key, der);
        }
        Ok((Site::build(&state, &self.public, at, &ders), state))
    }

    /// Rebuilds the served site now.
    pub async fn rebuild(&self) -> Result<()> {
        let generation = self.store.generation().await?;
        let at = self.now();
        let (site, _) = self.build_site(at).await?;
        let alarm = time::Duration::days(i64::from(self.config.crl.reserve_alarm_days));
        for root in &site.roots {
            if root.reserve < alarm {
                tracing::warn!(
                    root = %root.fingerprint,
                    reserve_hours = root.reserve.whole_hours(),
                    "pre-signed CRL reserve under the alarm threshold: a CRL ceremony is due"
                );
            }
        }
        if let Ok(mut s) = self.site.write() {
            *s = Arc::new(site);
        }
        if let Ok(mut b) = self.built_from.lock() {
            *b = generation;
        }
        Ok(())
    }

    /// Periodic upkeep: signs a new VICAL when one is due, and rebuilds the site when the
    /// store changed (another replica or the CLI ingested) or a served CRL switches.
    pub async fn refresh(&self) -> Result<()> {
        let at = self.now();
        if let Some(signer) = self.vical.clone() {
            let state = self.store.state().await?;
            if signer.due(&state, at) {
                let public = self.public.clone();
                let signed = self
                    .store
                    .write(move |conn, state| {
                        Box::pin(async move {
                            // Re-checked under the write lock: one replica signs.
                            if !signer.due(&state, at) {
                                return Ok::<_, DtsError>(false);
                            }
                            let record = signer.sign(&state, &public, at)?;
                            store::insert_vical(conn, &record).await?;
                            Ok(true)
                        })
                    })
                    .await?;
                if signed {
                    self.audit(AuditEvent::success("dts.vical.sign").actor("mdoc-dts"))?;
                }
            }
        }
        let generation = self.store.generation().await?;
        let built = self.built_from.lock().map(|b| *b).unwrap_or((-1, -1));
        let switch_due = self.site().next_switch.is_some_and(|t| t <= at);
        if generation != built || switch_due {
            self.rebuild().await?;
        }
        Ok(())
    }

    /// The CRL provision history up to now.
    pub async fn history(&self) -> Result<Vec<Provision>> {
        let state = self.store.state().await?;
        Ok(schedule::history(&state, self.now()))
    }
}
