//! Which CRL a root serves when, computed from what is held (so every replica serves the same
//! CRL at the same moment, and the provision history is exact).
//!
//! At time `t` a root serves, among its CRLs that are publishable by `t` (thisUpdate reached
//! and ingested), the one with the highest cRLNumber. A pre-signed series is therefore served
//! day by day as each thisUpdate arrives, and an emergency CRL — numbered above the whole
//! series — takes over the moment it is ingested and is never displaced by the older series.

use time::{Duration, OffsetDateTime};

use crate::store::{CrlRecord, State};

/// The CRL `root` serves at `at`.
pub fn current<'s>(state: &'s State, root: &str, at: OffsetDateTime) -> Option<&'s CrlRecord> {
    state
        .crls_of(root)
        .filter(|c| c.publishable_from() <= at)
        .max_by(|a, b| a.number.cmp(&b.number))
}

/// The next moment after `at` at which `root`'s served CRL changes (a pre-signed CRL's
/// thisUpdate), if one is held.
pub fn next_switch(state: &State, root: &str, at: OffsetDateTime) -> Option<OffsetDateTime> {
    let served = current(state, root, at).map(|c| c.number.clone());
    state
        .crls_of(root)
        .filter(|c| c.publishable_from() > at && served.as_ref().is_none_or(|n| c.number > *n))
        .map(CrlRecord::publishable_from)
        .min()
}

/// How long the held CRLs keep `root` covered after `at`: the latest nextUpdate among the
/// served CRL and those that will follow it. Zero when nothing valid is held.
pub fn reserve(state: &State, root: &str, at: OffsetDateTime) -> Duration {
    let Some(served) = current(state, root, at) else {
        return Duration::ZERO;
    };
    let end = state
        .crls_of(root)
        .filter(|c| c.number >= served.number)
        .map(|c| c.next_update)
        .max()
        .unwrap_or(served.next_update);
    (end - at).max(Duration::ZERO)
}

/// One row of the CRL provision history (policy §5.5.1.2): which CRL was served from when
/// until when (`until` is `None` for the one still served).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provision {
    /// The root.
    pub root: String,
    /// The CRL's number (hex, no leading zeros).
    pub number: String,
    /// Its SHA-256.
    pub sha256: String,
    /// Served from.
    pub from: OffsetDateTime,
    /// Served until.
    pub until: Option<OffsetDateTime>,
}

/// The provision history of every root up to `at`, in time order per root.
pub fn history(state: &State, at: OffsetDateTime) -> Vec<Provision> {
    state
        .roots
        .iter()
        .flat_map(|r| history_of(state, &r.fingerprint, at))
        .collect()
}

/// The provision history of one root up to `at`, in time order.
pub fn history_of(state: &State, root: &str, at: OffsetDateTime) -> Vec<Provision> {
    let mut out = Vec::new();
    {
        let mut starts: Vec<&CrlRecord> = state
            .crls_of(root)
            .filter(|c| c.publishable_from() <= at)
            .collect();
        starts.sort_by_key(|c| (c.publishable_from(), c.number.clone()));
        let mut serving: Option<(usize, &CrlRecord)> = None;
        for crl in starts {
            if serving.is_some_and(|(_, s)| s.number >= crl.number) {
                // Superseded before its day (an emergency CRL came first): never served.
                continue;
            }
            if let Some((i, _)) = serving {
                if let Some(row) = out.get_mut(i) {
                    let row: &mut Provision = row;
                    row.until = Some(crl.publishable_from());
                }
            }
            out.push(Provision {
                root: root.to_owned(),
                number: crl.number.short().to_owned(),
                sha256: crl.sha256.clone(),
                from: crl.publishable_from(),
                until: None,
            });
            serving = Some((out.len() - 1, crl));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::store::CrlNumberHex;
    use time::macros::datetime;

    const DAY: Duration = Duration::days(1);
    const T0: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);

    fn crl(number: u8, this_update: OffsetDateTime, added_at: OffsetDateTime) -> CrlRecord {
        CrlRecord {
            root: "r".into(),
            number: CrlNumberHex::from_be_bytes(&[number]).unwrap(),
            sha256: format!("h{number}"),
            this_update,
            next_update: this_update + 3 * DAY,
            entries: 0,
            added_at,
        }
    }

    fn state(crls: Vec<CrlRecord>) -> State {
        State {
            crls,
            ..State::default()
        }
    }

    #[test]
    fn a_series_is_served_day_by_day_and_an_emergency_crl_supersedes_it() {
        let mut s = state(vec![
            crl(1, T0, T0),
            crl(2, T0 + DAY, T0),
            crl(3, T0 + 2 * DAY, T0),
        ]);
        let n = |s: &State, t| current(s, "r", t).map(|c| c.number.short().to_owned());
        assert_eq!(n(&s, T0 - DAY), None);
        assert_eq!(n(&s, T0), Some("1".into()));
        assert_eq!(n(&s, T0 + DAY - Duration::SECOND), Some("1".into()));
        assert_eq!(n(&s, T0 + DAY), Some("2".into()));
        assert_eq!(next_switch(&s, "r", T0 + DAY), Some(T0 + 2 * DAY));
        assert_eq!(reserve(&s, "r", T0 + DAY), 4 * DAY);
        // Emergency CRL 4 ingested at noon on day 1: served at once, and day 2's CRL 3 never is.
        let noon = T0 + DAY + Duration::hours(12);
        s.crls.push(crl(4, noon, noon));
        assert_eq!(n(&s, noon), Some("4".into()));
        assert_eq!(n(&s, T0 + 2 * DAY), Some("4".into()));
        assert_eq!(next_switch(&s, "r", noon), None);
        let h: Vec<_> = history_of(&s, "r", T0 + 3 * DAY)
            .into_iter()
            .map(|p| (p.number, p.from, p.until))
            .collect();
        assert_eq!(
            h,
            [
                ("1".to_owned(), T0, Some(T0 + DAY)),
                ("2".to_owned(), T0 + DAY, Some(noon)),
                ("4".to_owned(), noon, None),
            ]
        );
    }

    #[test]
    fn a_crl_ingested_after_its_day_is_served_from_its_ingest() {
        let s = state(vec![crl(1, T0, T0 + Duration::hours(5))]);
        assert!(current(&s, "r", T0 + Duration::hours(4)).is_none());
        assert!(current(&s, "r", T0 + Duration::hours(5)).is_some());
    }
}
