//! Where every artifact lives on the DTS: one place for the URL layout, shared by the server,
//! the export tree and the index.
//!
//! Under the public URL (its path is the prefix `P`, `/` by default):
//!
//! | path | what |
//! |---|---|
//! | `P` and `Pindex.html` | the human page with the root fingerprints |
//! | `Pindex.json` | the machine-readable index of every artifact |
//! | `Proots/{sha256}.der`, `.pem` | a root (self-signed IACA) certificate, by fingerprint |
//! | `Plinks/{sha256}.der`, `.pem` | a link certificate, by fingerprint |
//! | `Pvical.cbor` | the current VICAL |
//! | the path of each IACA's CRLDistributionPoints URL | that IACA's current CRL |
//!
//! The CRL URL is the one thing the CA decides (it writes it into the IACA and every DS
//! certificate under it): the DTS serves the CRL exactly there, so the two cannot disagree. An
//! IACA whose URL lies outside the public URL, collides with the layout above, or is shared
//! with another IACA is refused at ingest ([`CrlPathError`]). The CA's configuration should
//! name `{public_url}/crl/{name}.crl`, one name per IACA (a rolled-over key gets its own).

use url::Url;

/// Names the DTS itself uses directly under the prefix; a CRL path may not take them.
const RESERVED: &[&str] = &[
    "index.html",
    "index.json",
    "vical.cbor",
    "roots",
    "links",
    "metrics",
    "healthz",
    "readyz",
    "admin",
];

/// Why a URL cannot be a CRL location on this DTS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlPathError {
    /// Not an absolute http(s) URL.
    #[error("not an http(s) URL")]
    NotHttp,
    /// Another host, port or scheme than the DTS's public URL.
    #[error("outside the DTS's public URL {0}")]
    OutsidePublicUrl(String),
    /// Has a query, a fragment, user information, or a segment that is not a plain file name
    /// (ASCII letters, digits, `.`, `_`, `-`; not starting with `.` or `_`).
    #[error("not a plain path ({0})")]
    NotPlain(&'static str),
    /// Takes a name the DTS layout uses.
    #[error("collides with the DTS's own {0}")]
    Reserved(String),
}

/// The DTS's public base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    url: Url,
    /// The path prefix, ending with `/`.
    prefix: String,
}

fn plain_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && !s.starts_with('.')
        && !s.starts_with('_')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl PublicUrl {
    /// Parses an absolute http(s) URL without query or fragment.
    pub fn parse(text: &str) -> Result<Self, CrlPathError> {
        let url = Url::parse(text).map_err(|_| CrlPathError::NotHttp)?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(CrlPathError::NotHttp);
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(CrlPathError::NotPlain(
                "query, fragment or user information",
            ));
        }
        let mut prefix = url.path().to_owned();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        if !prefix
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .all(plain_segment)
        {
            return Err(CrlPathError::NotPlain("path segment"));
        }
        Ok(PublicUrl { url, prefix })
    }

    /// The path prefix (ends with `/`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The absolute URL of a site path (one from this module).
    pub fn absolute(&self, path: &str) -> String {
        let origin = self.url.origin().ascii_serialization();
        format!("{origin}{path}")
    }

    /// The site path of the human page.
    pub fn page(&self) -> String {
        self.prefix.clone()
    }

    /// The site path of the index.
    pub fn index(&self) -> String {
        format!("{}index.json", self.prefix)
    }

    /// The site path of the VICAL.
    pub fn vical(&self) -> String {
        format!("{}vical.cbor", self.prefix)
    }

    /// The site path of a root certificate, `pem` or DER.
    pub fn root(&self, fingerprint: &str, pem: bool) -> String {
        format!("{}roots/{fingerprint}.{}", self.prefix, ext(pem))
    }

    /// The site path of a link certificate, `pem` or DER.
    pub fn link(&self, fingerprint: &str, pem: bool) -> String {
        format!("{}links/{fingerprint}.{}", self.prefix, ext(pem))
    }

    /// The site path at which the CRL named by `crl_url` (an IACA's CRLDistributionPoints URI)
    /// is served, or why it cannot be.
    pub fn crl_path(&self, crl_url: &str) -> Result<String, CrlPathError> {
        // Dot segments, escapes and backslashes would be normalised away by one client and sent
        // raw by another: the URL must already be in its one plain form.
        if ["/../", "/./", "%", "\\"]
            .iter()
            .any(|p| crl_url.contains(p))
            || crl_url.ends_with("/..")
            || crl_url.ends_with("/.")
        {
            return Err(CrlPathError::NotPlain("dot segment or escape"));
        }
        let url = Url::parse(crl_url).map_err(|_| CrlPathError::NotHttp)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CrlPathError::NotHttp);
        }
        if url.origin() != self.url.origin() {
            return Err(CrlPathError::OutsidePublicUrl(
                self.url.origin().ascii_serialization(),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(CrlPathError::NotPlain(
                "query, fragment or user information",
            ));
        }
        // `Url` has already resolved `.`/`..` and percent-encoded odd bytes; the segment rule
        // below refuses what is left (`%`, encoded dots).
        let path = url.path();
        let rest = path
            .strip_prefix(self.prefix.as_str())
            .ok_or_else(|| CrlPathError::OutsidePublicUrl(self.url.to_string()))?;
        if rest.is_empty() || rest.ends_with('/') || !rest.split('/').all(plain_segment) {
            return Err(CrlPathError::NotPlain("path segment"));
        }
        let first = rest.split('/').next().unwrap_or_default();
        if RESERVED.contains(&first) {
            return Err(CrlPathError::Reserved(first.to_owned()));
        }
        Ok(path.to_owned())
    }
}

fn ext(pem: bool) -> &'static str {
    if pem {
        "pem"
    } else {
        "der"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn base() -> PublicUrl {
        PublicUrl::parse("https://dts.example.go.jp/trust").unwrap()
    }

    #[test]
    fn paths_live_under_the_prefix() {
        let b = base();
        assert_eq!(b.prefix(), "/trust/");
        assert_eq!(b.index(), "/trust/index.json");
        assert_eq!(b.root("ab", true), "/trust/roots/ab.pem");
        assert_eq!(
            b.absolute(&b.vical()),
            "https://dts.example.go.jp/trust/vical.cbor"
        );
    }

    #[test]
    fn crl_urls_must_be_plain_paths_under_the_public_url() {
        let b = base();
        assert_eq!(
            b.crl_path("https://dts.example.go.jp/trust/crl/iaca-2026.crl"),
            Ok("/trust/crl/iaca-2026.crl".into())
        );
        for (url, want) in [
            ("https://other.example/trust/crl/a.crl", "outside"),
            ("http://dts.example.go.jp/trust/crl/a.crl", "outside"),
            ("https://dts.example.go.jp/elsewhere/a.crl", "outside"),
            ("https://dts.example.go.jp/trust/crl/a.crl?x=1", "plain"),
            ("https://dts.example.go.jp/trust/crl/../../a.crl", "plain"),
            ("https://dts.example.go.jp/trust/crl/./a.crl", "plain"),
            ("https://dts.example.go.jp/trust/crl/%2e%2e/a.crl", "plain"),
            ("https://dts.example.go.jp/trust/index.json", "own"),
            ("https://dts.example.go.jp/trust/roots/x.der", "own"),
            ("https://dts.example.go.jp/trust/", "plain"),
            ("ldap://dts.example.go.jp/trust/a.crl", "http"),
        ] {
            let e = b.crl_path(url).unwrap_err().to_string();
            assert!(e.contains(want), "{url}: {e}");
        }
    }
}
