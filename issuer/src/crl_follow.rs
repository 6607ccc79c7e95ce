//! Fetching the roots' CRLs for the CRL intake ([`crate::engine::Issuer::intake_crl`]): one
//! conditional GET per CRL URL per interval (an unchanged CRL costs a 304), each response
//! bounded in size and time. CRLs are signed, so plain HTTP is enough, as RFC 5280 §4.2.1.13
//! expects for CRL distribution points (no TLS dependency loop for the relying party).

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;

use crate::config::CrlIntakeConfig;
use crate::engine::{CrlIntake, CrlIntakeError, Issuer};

/// Follows the CRL URLs of the issuer's IACAs.
#[derive(Debug)]
pub struct CrlFollower {
    client: reqwest::Client,
    urls: Vec<String>,
    etags: HashMap<String, String>,
    max_bytes: u64,
}

impl CrlFollower {
    /// A follower of every http(s) cRLDistributionPoints URI of `issuer`'s IACAs.
    pub fn new(issuer: &Issuer, config: &CrlIntakeConfig) -> Self {
        let mut urls: Vec<String> = issuer
            .iacas
            .iter()
            .flat_map(|c| c.crl_distribution_uris().unwrap_or_default())
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .collect();
        urls.sort();
        urls.dedup();
        CrlFollower {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            urls,
            etags: HashMap::new(),
            max_bytes: config.max_bytes,
        }
    }

    /// The URLs followed.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    async fn fetch(&mut self, url: &str) -> Result<Option<Vec<u8>>, CrlIntakeError> {
        let fail = |reason: String| CrlIntakeError::Fetch {
            url: url.to_owned(),
            reason,
        };
        let mut request = self.client.get(url);
        if let Some(etag) = self.etags.get(url) {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let mut response = request.send().await.map_err(|e| fail(e.to_string()))?;
        match response.status().as_u16() {
            304 => return Ok(None),
            200 => {}
            other => return Err(fail(format!("HTTP {other}"))),
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes)
        {
            return Err(fail(format!("larger than {} bytes", self.max_bytes)));
        }
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
            if (body.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(fail(format!("larger than {} bytes", self.max_bytes)));
            }
            body.extend_from_slice(&chunk);
        }
        if let Some(etag) = etag {
            self.etags.insert(url.to_owned(), etag);
        }
        Ok(Some(body))
    }

    /// Fetches every CRL and applies the changed ones at `now`; one result per URL (`None`
    /// when unchanged since the last poll). A CRL that is refused is fetched again next time.
    pub async fn poll(
        &mut self,
        issuer: &Issuer,
        now: OffsetDateTime,
    ) -> Vec<(String, Result<Option<CrlIntake>, CrlIntakeError>)> {
        let mut out = Vec::new();
        for url in self.urls.clone() {
            let result = match self.fetch(&url).await {
                Ok(Some(der)) => match issuer.intake_crl(&der, &url, now).await {
                    Ok(done) => Ok(Some(done)),
                    Err(e) => {
                        self.etags.remove(&url);
                        Err(e)
                    }
                },
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
            out.push((url, result));
        }
        out
    }
}
