//! Migration 0011 adds what credential identifiers need (OpenID4VCI 1.0 §6.2) to rows made
//! before it, on SQLite and on PostgreSQL: a database at schema 0010 holding a pushed
//! authorization request and a redeemed offer is opened by the store, which applies 0011;
//! the old rows read back as scope-only (no `authorization_details`, no identifier granted),
//! and the new columns then take a request by `authorization_details` and a token with its
//! identifier's hash.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use mdoc_issuer::store::{NewAuthorization, NewOffer, NewToken, Redemption, Store};
use time::{Duration, OffsetDateTime};

use super::replay_migration::{on_postgres, on_sqlite, OldDb};

const OLD_OFFER: [u8; 16] = [3; 16];
const OLD_REQUEST: [u8; 16] = [4; 16];
const OLD_TOKEN: [u8; 32] = [5; 32];
const OLD_REQUEST_URI: [u8; 32] = [6; 32];

/// A redeemed offer and a pushed request as the 0008 and 0010 schemas stored them.
const INSERT_OLD: [&str; 2] = [
    "INSERT INTO credential_offers (id, client_id, doctype, state, pre_auth_sha256, \
     offer_ref_sha256, offer_sealed, tx_code_mac, tx_attempts, expires_at, token_sha256, \
     token_expires_at, created_at, updated_at) \
     VALUES ($1, 'portal', 'org.iso.18013.5.1.mDL', 'redeemed', $2, $3, $4, NULL, 0, \
     4102444800, $5, 4102444800, 1700000000, 1700000000)",
    "INSERT INTO authorization_requests (id, request_uri_sha256, client_id, redirect_uri, \
     code_challenge, doctype, status, request_expires_at, created_at, updated_at) \
     VALUES ($1, $2, 'wallet', 'https://wallet.example/cb', 'challenge', \
     'org.iso.18013.5.1.mDL', 'pushed', 4102444800, 1700000000, 1700000000)",
];

async fn old_database(url: &str) {
    let old = OldDb::open(url, 10).await;
    macro_rules! insert {
        ($pool:expr) => {{
            sqlx::query(INSERT_OLD[0])
                .bind(&OLD_OFFER[..])
                .bind(vec![1u8; 32])
                .bind(vec![2u8; 32])
                .bind(b"sealed offer".to_vec())
                .bind(&OLD_TOKEN[..])
                .execute($pool)
                .await
                .unwrap();
            sqlx::query(INSERT_OLD[1])
                .bind(&OLD_REQUEST[..])
                .bind(&OLD_REQUEST_URI[..])
                .execute($pool)
                .await
                .unwrap();
        }};
    }
    match &old {
        OldDb::Sqlite(p) => insert!(p),
        OldDb::Pg(p) => insert!(p),
    }
    old.close().await;
}

async fn check_migrated(url: &str) {
    let store = Store::open(url).await.unwrap();
    let offer = store.offer_by_token(&OLD_TOKEN).await.unwrap().unwrap();
    assert_eq!(offer.id, OLD_OFFER);
    assert_eq!(offer.credential_identifier_sha256, None);
    let request = store
        .authorization_by_request_uri(&OLD_REQUEST_URI)
        .await
        .unwrap()
        .unwrap();
    assert!(!request.by_authorization_details);

    // The new columns work: a request by authorization_details, a token with an identifier.
    let now = OffsetDateTime::now_utc();
    let uri = [7u8; 32];
    store
        .insert_authorization(&NewAuthorization {
            id: [8; 16],
            request_uri_sha256: uri,
            client_id: "wallet".into(),
            redirect_uri: "https://wallet.example/cb".into(),
            code_challenge: "challenge".into(),
            doctype: "org.iso.18013.5.1.mDL".into(),
            by_authorization_details: true,
            oauth_state: None,
            dpop_jkt: None,
            attested_by: None,
            offer_id: None,
            request_expires_at: now + Duration::minutes(1),
            created_at: now,
        })
        .await
        .unwrap();
    let request = store
        .authorization_by_request_uri(&uri)
        .await
        .unwrap()
        .unwrap();
    assert!(request.by_authorization_details);
    let code = [9u8; 32];
    store
        .insert_offer(&NewOffer {
            id: [10; 16],
            client_id: "portal".into(),
            doctype: "org.iso.18013.5.1.mDL".into(),
            claims_sealed: None,
            pre_auth_sha256: code,
            offer_ref_sha256: [11; 32],
            offer_sealed: b"sealed offer".to_vec(),
            tx_code_mac: None,
            expires_at: now + Duration::hours(1),
            created_at: now,
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .pre_authorized_doctype(&code)
            .await
            .unwrap()
            .as_deref(),
        Some("org.iso.18013.5.1.mDL")
    );
    let token = NewToken {
        sha256: [12; 32],
        expires_at: now + Duration::minutes(5),
        dpop_jkt: None,
        credential_identifier_sha256: Some([13; 32]),
    };
    let redeemed = store
        .redeem_pre_auth(&code, None, 5, &token, now)
        .await
        .unwrap();
    assert!(matches!(redeemed, Redemption::Redeemed(id) if id == [10; 16]));
    let offer = store.offer_by_token(&[12; 32]).await.unwrap().unwrap();
    assert_eq!(offer.credential_identifier_sha256, Some([13; 32]));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_credential_identifier_columns_are_added() {
    on_sqlite(|url, _| async move {
        old_database(&url).await;
        check_migrated(&url).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_credential_identifier_columns_are_added() {
    on_postgres(|url, _| async move {
        old_database(&url).await;
        check_migrated(&url).await;
    })
    .await;
}
