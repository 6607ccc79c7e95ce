//! Migration 0010 moves each offer's sealed applicant record into `credential_offer_claims`
//! byte for byte, on SQLite and on PostgreSQL: a database at schema 0009 holding one offer
//! with a record and one pending offer without is opened by the store, which applies 0010;
//! the store then reads the same record back, and none for the pending offer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use mdoc_issuer::store::Store;

use super::replay_migration::{on_postgres, on_sqlite, OldDb};

/// An offer row as the 0007 schema stored it.
const INSERT_OLD_OFFER: &str = "INSERT INTO credential_offers (id, client_id, doctype, \
     claims_sealed, state, pre_auth_sha256, offer_ref_sha256, offer_sealed, tx_code_mac, \
     tx_attempts, expires_at, created_at, updated_at) \
     VALUES ($1, 'portal', 'org.iso.18013.5.1.mDL', $2, 'offered', $3, $4, $5, NULL, 0, \
     4102444800, 1700000000, 1700000000)";

const WITH_RECORD: [u8; 16] = [1; 16];
const PENDING: [u8; 16] = [2; 16];

/// A sealed record as large as one with a portrait.
fn record() -> Vec<u8> {
    (0..28_000u32).map(|i| (i % 251) as u8).collect()
}

/// A database at schema 0009 holding one offer with a record and one pending offer.
async fn old_database(url: &str) {
    let old = OldDb::open(url, 9).await;
    for (id, claims, n) in [(WITH_RECORD, Some(record()), 1u8), (PENDING, None, 2u8)] {
        macro_rules! insert {
            ($pool:expr) => {
                sqlx::query(INSERT_OLD_OFFER)
                    .bind(&id[..])
                    .bind(claims.clone())
                    .bind(vec![n; 32])
                    .bind(vec![n + 10; 32])
                    .bind(b"sealed offer".to_vec())
                    .execute($pool)
                    .await
                    .unwrap()
            };
        }
        match &old {
            OldDb::Sqlite(p) => {
                insert!(p);
            }
            OldDb::Pg(p) => {
                insert!(p);
            }
        }
    }
    old.close().await;
}

async fn check_migrated(url: &str) {
    let store = Store::open(url).await.unwrap();
    let offer = store.offer(&WITH_RECORD).await.unwrap();
    assert_eq!(offer.claims_sealed, Some(record()));
    let pending = store.offer(&PENDING).await.unwrap();
    assert_eq!(pending.claims_sealed, None);
    // The record can now be given to the pending offer, once.
    let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_100).unwrap();
    assert!(store
        .set_offer_claims(&PENDING, b"late", now)
        .await
        .unwrap());
    assert!(!store
        .set_offer_claims(&PENDING, b"again", now)
        .await
        .unwrap());
    let given = store.offer(&PENDING).await.unwrap();
    assert_eq!(given.claims_sealed.as_deref(), Some(&b"late"[..]));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_offer_records_move_to_their_table() {
    on_sqlite(|url, _| async move {
        old_database(&url).await;
        check_migrated(&url).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_offer_records_move_to_their_table() {
    on_postgres(|url, _| async move {
        old_database(&url).await;
        check_migrated(&url).await;
    })
    .await;
}
