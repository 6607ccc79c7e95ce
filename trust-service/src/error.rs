//! Why an ingest was refused ([`Refusal`]) and the DTS's other failures ([`DtsError`]).

use crate::layout::CrlPathError;
use crate::store::StoreError;

/// Why a bundle was refused. Every refusal changes nothing and is written to the audit log
/// with its [`Refusal::code`]. `name` is always the file's name inside the bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The bundle (a directory or an upload) could not be read.
    #[error("bundle unreadable: {reason}")]
    Unreadable {
        /// What failed.
        reason: String,
    },
    /// More files than allowed.
    #[error("the bundle holds more than {max} files")]
    TooManyFiles {
        /// The limit.
        max: usize,
    },
    /// One file is over the size limit.
    #[error("{name} is larger than {max} bytes")]
    FileTooLarge {
        /// The file.
        name: String,
        /// The limit.
        max: u64,
    },
    /// The whole bundle is over the size limit.
    #[error("the bundle is larger than {max} bytes")]
    BundleTooLarge {
        /// The limit.
        max: u64,
    },
    /// A name that could escape the bundle or is not a plain file name (`..`, absolute,
    /// odd characters, too deep).
    #[error("unsafe name {name:?}: {reason}")]
    UnsafeName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A symbolic or hard link, a device or another non-regular entry.
    #[error("{name} is a link or a special file")]
    NotRegularFile {
        /// The entry.
        name: String,
    },
    /// The same name twice.
    #[error("{name} appears twice")]
    DuplicateName {
        /// The file.
        name: String,
    },
    /// A file the DTS does not publish (only `iaca/*.der`, `link/*.der`, `crl/*.crl` and the
    /// manifest belong in a bundle).
    #[error("{name} is not something the DTS publishes")]
    UnexpectedFile {
        /// The file.
        name: String,
    },
    /// No `MANIFEST.sha256`.
    #[error("the bundle has no MANIFEST.sha256")]
    NoManifest,
    /// A manifest line is not `<sha256-hex>  <name>`.
    #[error("MANIFEST.sha256 line {line} is malformed")]
    ManifestMalformed {
        /// 1-based line number.
        line: usize,
    },
    /// A file's SHA-256 is not the manifest's, or it is not listed, or a listed file is absent.
    #[error("{name}: {problem}")]
    Manifest {
        /// The file.
        name: String,
        /// `digest differs`, `not listed` or `missing`.
        problem: &'static str,
    },
    /// Not a DER certificate / CRL (truncated, garbage, trailing bytes, PEM).
    #[error("{name} does not decode: {reason}")]
    Undecodable {
        /// The file.
        name: String,
        /// The decoder's reason.
        reason: String,
    },
    /// A Document Signer certificate: never published (policy §4.4.2.3).
    #[error("{name} is a Document Signer certificate; DS certificates are not published")]
    DocumentSigner {
        /// The file.
        name: String,
    },
    /// A certificate that is not what its directory says (a non-CA, a root that is not
    /// self-signed, a link certificate that is).
    #[error("{name} is not a {expected}")]
    WrongKind {
        /// The file.
        name: String,
        /// `self-signed IACA` or `link certificate`.
        expected: &'static str,
    },
    /// The certificate breaks its Annex B profile (the shared `mso::x509::profile` checks).
    #[error("{name} breaks the Annex B profile: {}", violations.join("; "))]
    Profile {
        /// The file.
        name: String,
        /// Each error finding.
        violations: Vec<String>,
    },
    /// A root whose fingerprint is not pinned and that no verified link certificate reaches.
    #[error(
        "{name}: root {fingerprint} is neither pinned nor reached by a verified link certificate"
    )]
    UnknownRoot {
        /// The file.
        name: String,
        /// Its SHA-256 fingerprint.
        fingerprint: String,
    },
    /// A link certificate not signed by a trusted root, or whose subject name and key are no
    /// root's.
    #[error("{name}: link certificate {reason}")]
    LinkUnverified {
        /// The file.
        name: String,
        /// Why.
        reason: String,
    },
    /// A CRL no trusted root signed (name, key identifier or signature).
    #[error("{name}: CRL not signed by a trusted root ({reason})")]
    CrlUnverified {
        /// The file.
        name: String,
        /// Why.
        reason: String,
    },
    /// A CRL without the cRLNumber or authorityKeyIdentifier Annex B requires.
    #[error("{name}: CRL has no {missing}")]
    CrlIncomplete {
        /// The file.
        name: String,
        /// `cRLNumber` or `authorityKeyIdentifier`.
        missing: &'static str,
    },
    /// A CRL numbered below one already held for its root: never a rollback.
    #[error("{name}: CRL number {number} of root {root} is below {held}, already held")]
    CrlRollback {
        /// The file.
        name: String,
        /// The root's fingerprint.
        root: String,
        /// The CRL's number (hex).
        number: String,
        /// The highest number held (hex).
        held: String,
    },
    /// A CRL number already held for its root, with other bytes.
    #[error("{name}: CRL number {number} of root {root} is already held with other content")]
    CrlNumberReused {
        /// The file.
        name: String,
        /// The root's fingerprint.
        root: String,
        /// The number (hex).
        number: String,
    },
    /// A root whose CRLDistributionPoints URL the DTS cannot serve.
    #[error("{name}: CRL URL {url:?}: {problem}")]
    CrlUrl {
        /// The file.
        name: String,
        /// The URL (empty when absent).
        url: String,
        /// Why.
        problem: CrlUrlProblem,
    },
}

/// What is wrong with a root's CRL URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlUrlProblem {
    /// No (or more than one) URI in CRLDistributionPoints.
    #[error("the IACA must name exactly one CRL URI")]
    NotExactlyOne,
    /// The URL is not a location under this DTS.
    #[error("{0}")]
    Path(CrlPathError),
    /// Another root's CRL is served there.
    #[error("already the CRL URL of root {0}")]
    Shared(String),
}

impl Refusal {
    /// A stable code for the audit log, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unreadable { .. } => "unreadable",
            Refusal::TooManyFiles { .. } => "too_many_files",
            Refusal::FileTooLarge { .. } => "file_too_large",
            Refusal::BundleTooLarge { .. } => "bundle_too_large",
            Refusal::UnsafeName { .. } => "unsafe_name",
            Refusal::NotRegularFile { .. } => "not_regular_file",
            Refusal::DuplicateName { .. } => "duplicate_name",
            Refusal::UnexpectedFile { .. } => "unexpected_file",
            Refusal::NoManifest => "no_manifest",
            Refusal::ManifestMalformed { .. } => "manifest_malformed",
            Refusal::Manifest { .. } => "manifest_mismatch",
            Refusal::Undecodable { .. } => "undecodable",
            Refusal::DocumentSigner { .. } => "document_signer_certificate",
            Refusal::WrongKind { .. } => "wrong_kind",
            Refusal::Profile { .. } => "profile",
            Refusal::UnknownRoot { .. } => "unknown_root",
            Refusal::LinkUnverified { .. } => "link_unverified",
            Refusal::CrlUnverified { .. } => "crl_unverified",
            Refusal::CrlIncomplete { .. } => "crl_incomplete",
            Refusal::CrlRollback { .. } => "crl_rollback",
            Refusal::CrlNumberReused { .. } => "crl_number_reused",
            Refusal::CrlUrl { .. } => "crl_url",
        }
    }
}

/// The DTS's failures other than refusals.
#[derive(Debug, thiserror::Error)]
pub enum DtsError {
    /// The bundle was refused.
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The audit log failed.
    #[error("audit log: {0}")]
    Audit(#[from] custody::Error),
    /// The VICAL could not be built or signed.
    #[error("VICAL: {0}")]
    Vical(#[from] mso::Error),
    /// Configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// File system.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// Results of this crate.
pub type Result<T, E = DtsError> = std::result::Result<T, E>;
