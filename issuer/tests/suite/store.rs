//! Storage tests. Every test runs twice: against a SQLite file in a temporary directory and
//! against PostgreSQL (`ISSUER_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`) in a fresh random schema that is dropped
//! afterwards. An unreachable PostgreSQL fails the PostgreSQL half loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::collections::BTreeSet;
use std::future::Future;

use mdoc_issuer::store::{
    applicant_ref, Backend, DocumentId, DocumentState, DsCertificate, DsState, Idempotency,
    IssuanceRecord, MsoRecord, NewDocument, NewOffer, NewToken, OfferIssued, OfferState,
    OutcomeKind, RecordOutcome, Redemption, RevocationReason, Scope, Store, StoreError,
    StoredResponse, UsedNonce,
};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use sqlx::Connection;
use time::{Duration, OffsetDateTime};

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const LIST: &str = "https://issuer.example/status/1";

fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

async fn run_sqlite<F, Fut>(f: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issuer.sqlite");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    let result = tokio::spawn(f(store.clone())).await;
    store.close().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn run_postgres<F, Fut>(f: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let base = std::env::var("ISSUER_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG.into());
    let mut admin = match sqlx::PgConnection::connect(&base).await {
        Ok(c) => c,
        Err(e) => panic!(
            "PostgreSQL storage tests need a server: cannot connect to {base}: {e}. \
             Start PostgreSQL or set ISSUER_TEST_POSTGRES_URL."
        ),
    };
    let schema = format!("t_{}", hex::encode(rand_bytes::<8>()));
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    let opened = Store::open(&url).await;
    let result = match opened {
        Ok(store) => {
            assert_eq!(store.backend(), Backend::Postgres);
            let r = tokio::spawn(f(store.clone())).await;
            store.close().await;
            r.map_err(|e| e.into_panic())
        }
        Err(e) => Err(Box::new(format!("opening {url}: {e}")) as Box<dyn std::any::Any + Send>),
    };
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

/// Generates `<name>::sqlite` and `<name>::postgres` tests running `<name>(store)`.
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::run_sqlite(super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::run_postgres(super::$name).await
            }
        }
    )*};
}

both!(
    issuance_roundtrip,
    issuance_is_atomic,
    idempotent_replay_returns_stored_response,
    conflicting_replay_is_refused,
    expired_idempotency_key_is_reusable,
    concurrent_index_allocation_is_unique,
    concurrent_retries_issue_once,
    revoke_document_revokes_all_msos,
    revoke_by_ds_revokes_its_documents,
    msos_of_a_ds_revoked_while_they_were_signed_are_refused,
    expired_msos_drop_off_the_lists,
    refresh_adds_msos_only_to_active_documents,
    client_token_lookup,
    schema_has_no_personal_data_columns,
    nonce_is_single_use,
    device_key_binds_one_document,
    idempotent_response_lookup,
    concurrent_issuances_keep_their_own_outcomes,
    issuance_suspension_is_one_row,
    deferred_offer_waits_until_its_deadline_then_is_purged,
    an_issuance_closes_its_offer_once,
);

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp()).unwrap()
}

async fn add_ds(store: &Store, serial: &str) {
    store
        .insert_ds_certificate(&DsCertificate {
            serial: serial.into(),
            der: vec![0x30, 0x03, 0x02, 0x01, 0x01],
            not_before: now() - Duration::days(1),
            not_after: now() + Duration::days(90),
            state: DsState::Active,
            key_uri: format!("file:keys/{serial}.pem"),
            installed_at: now(),
        })
        .await
        .unwrap();
}

async fn mso(store: &Store, ds: &str, valid_until: OffsetDateTime) -> MsoRecord {
    let index = store.allocate_status_indices(LIST, 1).await.unwrap()[0];
    let thumbprint: [u8; 32] = rand_bytes();
    MsoRecord {
        ds_serial: ds.into(),
        status_list_uri: LIST.into(),
        status_index: index,
        identifier: thumbprint.to_vec(),
        device_key_thumbprint: thumbprint,
        valid_from: valid_until - Duration::days(30),
        valid_until,
        created_at: now(),
    }
}

async fn issuance(store: &Store, ds: &str, n: usize) -> IssuanceRecord {
    let mut msos = Vec::new();
    for _ in 0..n {
        msos.push(mso(store, ds, now() + Duration::days(30)).await);
    }
    IssuanceRecord {
        document: NewDocument {
            id: DocumentId::random().unwrap(),
            doctype: "org.iso.18013.5.1.mDL".into(),
            applicant_ref: applicant_ref(b"server secret", b"canonical applicant record"),
            created_at: now(),
            client_id: "portal-1".into(),
        },
        msos,
        nonce: None,
        offer: None,
    }
}

fn response(body: &[u8]) -> StoredResponse {
    StoredResponse {
        kind: OutcomeKind::Issued,
        body: body.to_vec(),
    }
}

fn refreshed(body: &[u8]) -> StoredResponse {
    StoredResponse {
        kind: OutcomeKind::Refreshed,
        body: body.to_vec(),
    }
}

fn idem(client_id: &str, key: &str, request: &[u8]) -> Idempotency {
    Idempotency {
        client_id: client_id.into(),
        key: key.into(),
        request_hash: Sha256::digest(request).into(),
        expires_at: now() + Duration::hours(24),
    }
}

async fn client_id(store: &Store) -> String {
    store
        .create_client("portal", &[Scope::Issue])
        .await
        .unwrap()
        .0
        .id
}

async fn issuance_roundtrip(store: Store) {
    add_ds(&store, "01").await;
    let rec = issuance(&store, "01", 3).await;
    let out = store
        .record_issuance(&rec, None, &response(b"ok"))
        .await
        .unwrap();
    assert_eq!(out, RecordOutcome::Recorded);
    let doc = store.get_document(rec.document.id).await.unwrap();
    assert_eq!(doc.id, rec.document.id);
    assert_eq!(doc.doctype, rec.document.doctype);
    assert_eq!(doc.applicant_ref, rec.document.applicant_ref);
    assert_eq!(doc.created_at, rec.document.created_at);
    assert_eq!(doc.state, DocumentState::Active);
    assert_eq!(doc.revoked_at, None);
    let msos = store.msos_of(rec.document.id).await.unwrap();
    assert_eq!(msos.len(), 3);
    for (stored, orig) in msos.iter().zip(&rec.msos) {
        assert_eq!(&stored.record, orig);
        assert_eq!(stored.document_id, rec.document.id);
        assert_eq!(stored.revoked_at, None);
    }
    let found = store
        .documents_by_applicant(&rec.document.doctype, &rec.document.applicant_ref)
        .await
        .unwrap();
    assert_eq!(found, vec![doc]);
    let unknown = DocumentId::random().unwrap();
    assert!(matches!(
        store.get_document(unknown).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.msos_of(unknown).await,
        Err(StoreError::NotFound(_))
    ));
    store.ping().await.unwrap();
}

async fn issuance_is_atomic(store: Store) {
    add_ds(&store, "01").await;
    let client = client_id(&store).await;
    let key = idem(&client, "key-1", b"request");

    // Second MSO binds a device key that another document holds: the insert fails mid-way.
    let other = issuance(&store, "01", 1).await;
    store
        .record_issuance(&other, None, &response(b"other"))
        .await
        .unwrap();
    let mut rec = issuance(&store, "01", 2).await;
    rec.msos[1].device_key_thumbprint = other.msos[0].device_key_thumbprint;
    let err = store
        .record_issuance(&rec, Some(&key), &response(b"first"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DeviceKeyInUse), "{err}");
    assert!(err.is_client_error());
    assert!(matches!(
        store.get_document(rec.document.id).await,
        Err(StoreError::NotFound(_))
    ));

    // Second MSO reuses the first one's status index.
    let mut rec2 = issuance(&store, "01", 2).await;
    rec2.msos[1].status_index = rec2.msos[0].status_index;
    assert!(store
        .record_issuance(&rec2, Some(&key), &response(b"first"))
        .await
        .is_err());
    assert!(matches!(
        store.get_document(rec2.document.id).await,
        Err(StoreError::NotFound(_))
    ));

    // MSO signed by an unknown DS.
    let mut rec3 = issuance(&store, "01", 2).await;
    rec3.msos[1].ds_serial = "ff".into();
    assert!(store
        .record_issuance(&rec3, Some(&key), &response(b"first"))
        .await
        .is_err());

    // A single-MSO issuance (SQLite's one-call write path) failing in its last statement.
    let mut rec4 = issuance(&store, "01", 1).await;
    rec4.msos[0].ds_serial = "ff".into();
    rec4.nonce = Some(UsedNonce {
        sha256: rand_bytes(),
        expires_at: now() + Duration::minutes(5),
    });
    assert!(store
        .record_issuance(&rec4, Some(&key), &response(b"first"))
        .await
        .is_err());
    assert_eq!(
        store
            .precheck(
                &rec4.nonce.unwrap().sha256,
                &[rec4.msos[0].device_key_thumbprint]
            )
            .await
            .unwrap(),
        (false, vec![None]),
        "neither the nonce nor the key binding survived the rollback"
    );

    // Nothing of the failures remains: no MSO rows, and the idempotency key is still free.
    for r in [&rec, &rec2, &rec3, &rec4] {
        assert!(matches!(
            store.msos_of(r.document.id).await,
            Err(StoreError::NotFound(_))
        ));
    }
    let good = issuance(&store, "01", 2).await;
    assert_eq!(
        store
            .record_issuance(&good, Some(&key), &response(b"good"))
            .await
            .unwrap(),
        RecordOutcome::Recorded
    );
    assert_eq!(store.msos_of(good.document.id).await.unwrap().len(), 2);
}

async fn idempotent_replay_returns_stored_response(store: Store) {
    add_ds(&store, "01").await;
    let client = client_id(&store).await;
    let key = idem(&client, "retry-me", b"the request");
    let first = issuance(&store, "01", 1).await;
    let body: Vec<u8> = (0..=255u8).collect();
    assert_eq!(
        store
            .record_issuance(&first, Some(&key), &response(&body))
            .await
            .unwrap(),
        RecordOutcome::Recorded
    );
    // The retry re-did the work with a new document id and different bytes; none is kept.
    let retry = issuance(&store, "01", 1).await;
    let out = store
        .record_issuance(&retry, Some(&key), &response(b"different"))
        .await
        .unwrap();
    assert_eq!(
        out,
        RecordOutcome::Replayed(StoredResponse {
            kind: OutcomeKind::Issued,
            body
        })
    );
    assert!(matches!(
        store.get_document(retry.document.id).await,
        Err(StoreError::NotFound(_))
    ));
    let identifiers = store.msos_of(first.document.id).await.unwrap();
    assert_eq!(identifiers.len(), 1);
    // Only the first issuance's document exists for this applicant.
    let docs = store
        .documents_by_applicant(&first.document.doctype, &first.document.applicant_ref)
        .await
        .unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].id, first.document.id);
}

async fn conflicting_replay_is_refused(store: Store) {
    add_ds(&store, "01").await;
    let client = client_id(&store).await;
    let other_client = client_id(&store).await;
    let first = issuance(&store, "01", 1).await;
    store
        .record_issuance(&first, Some(&idem(&client, "k", b"A")), &response(b"a"))
        .await
        .unwrap();
    let second = issuance(&store, "01", 1).await;
    let err = store
        .record_issuance(&second, Some(&idem(&client, "k", b"B")), &response(b"b"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict));
    assert!(err.is_client_error());
    assert!(matches!(
        store.get_document(second.document.id).await,
        Err(StoreError::NotFound(_))
    ));
    // The stored response is unchanged.
    assert_eq!(
        store
            .record_issuance(&second, Some(&idem(&client, "k", b"A")), &response(b"x"))
            .await
            .unwrap(),
        RecordOutcome::Replayed(response(b"a"))
    );
    // Keys are per client.
    assert_eq!(
        store
            .record_issuance(
                &second,
                Some(&idem(&other_client, "k", b"B")),
                &response(b"b")
            )
            .await
            .unwrap(),
        RecordOutcome::Recorded
    );
}

async fn expired_idempotency_key_is_reusable(store: Store) {
    add_ds(&store, "01").await;
    let client = client_id(&store).await;
    let mut old = idem(&client, "k", b"A");
    old.expires_at = now() - Duration::seconds(10);
    let first = issuance(&store, "01", 1).await;
    store
        .record_issuance(&first, Some(&old), &response(b"a"))
        .await
        .unwrap();
    let second = issuance(&store, "01", 1).await;
    assert_eq!(
        store
            .record_issuance(&second, Some(&idem(&client, "k", b"B")), &response(b"b"))
            .await
            .unwrap(),
        RecordOutcome::Recorded
    );
    assert_eq!(
        store
            .record_issuance(&first, Some(&idem(&client, "k", b"B")), &response(b"c"))
            .await
            .unwrap(),
        RecordOutcome::Replayed(response(b"b"))
    );
    let mut third = idem(&client, "k3", b"C");
    third.expires_at = now() - Duration::seconds(1);
    store
        .record_issuance(
            &issuance(&store, "01", 1).await,
            Some(&third),
            &response(b"c"),
        )
        .await
        .unwrap();
    assert_eq!(store.purge_expired_idempotency(now()).await.unwrap(), 1);
}

async fn concurrent_index_allocation_is_unique(store: Store) {
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for round in 0..10u64 {
                let n = 1 + (t + round) % 4;
                let indices = store.allocate_status_indices(LIST, n).await.unwrap();
                assert_eq!(indices.len() as u64, n);
                got.extend(indices);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "an index was handed out twice");
    // Dense from 0: no index skipped or reused.
    assert_eq!(unique, (0..all.len() as u64).collect::<BTreeSet<_>>());
    // Lists are independent; n = 0 allocates nothing.
    assert_eq!(
        store.allocate_status_indices("other", 2).await.unwrap(),
        vec![0, 1]
    );
    assert!(store
        .allocate_status_indices(LIST, 0)
        .await
        .unwrap()
        .is_empty());
    let next = store.allocate_status_indices(LIST, 1).await.unwrap();
    assert_eq!(next, vec![all.len() as u64]);
}

async fn concurrent_retries_issue_once(store: Store) {
    add_ds(&store, "01").await;
    let client = client_id(&store).await;
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let store = store.clone();
        let rec = issuance(&store, "01", 2).await;
        let key = idem(&client, "same-key", b"same request");
        tasks.push(tokio::spawn(async move {
            let out = store
                .record_issuance(&rec, Some(&key), &response(&[i]))
                .await
                .unwrap();
            (rec.document.id, out)
        }));
    }
    let mut recorded = Vec::new();
    let mut replayed = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (id, RecordOutcome::Recorded) => recorded.push(id),
            (_, RecordOutcome::Replayed(r)) => replayed.push(r),
        }
    }
    assert_eq!(recorded.len(), 1, "exactly one request may issue");
    assert_eq!(replayed.len(), 7);
    let winner = store.get_document(recorded[0]).await.unwrap();
    assert!(replayed.windows(2).all(|w| w[0] == w[1]));
    let docs = store
        .documents_by_applicant(&winner.doctype, &winner.applicant_ref)
        .await
        .unwrap();
    assert_eq!(docs.len(), 1);
}

async fn revoke_document_revokes_all_msos(store: Store) {
    add_ds(&store, "01").await;
    let rec = issuance(&store, "01", 3).await;
    let keep = issuance(&store, "01", 1).await;
    store
        .record_issuance(&rec, None, &response(b""))
        .await
        .unwrap();
    store
        .record_issuance(&keep, None, &response(b""))
        .await
        .unwrap();
    assert!(store.revoked_entries(LIST, now()).await.unwrap().is_empty());

    let at = now();
    assert!(store
        .revoke_document(rec.document.id, RevocationReason::HolderRequest, at)
        .await
        .unwrap());
    // Idempotent; the original time and reason stay.
    assert!(!store
        .revoke_document(
            rec.document.id,
            RevocationReason::KeyCompromise,
            at + Duration::hours(1)
        )
        .await
        .unwrap());
    let doc = store.get_document(rec.document.id).await.unwrap();
    assert_eq!(doc.state, DocumentState::Revoked);
    assert_eq!(doc.revoked_at, Some(at));
    assert_eq!(doc.revocation_reason, Some(RevocationReason::HolderRequest));
    assert!(store
        .msos_of(rec.document.id)
        .await
        .unwrap()
        .iter()
        .all(|m| m.revoked_at == Some(at)));
    assert_eq!(
        store.get_document(keep.document.id).await.unwrap().state,
        DocumentState::Active
    );

    let mut expected: Vec<u64> = rec.msos.iter().map(|m| m.status_index).collect();
    expected.sort();
    assert_eq!(store.revoked_entries(LIST, now()).await.unwrap(), expected);
    assert!(store
        .revoked_entries("https://other/list", now())
        .await
        .unwrap()
        .is_empty());
    let mut thumbs: Vec<[u8; 32]> = rec.msos.iter().map(|m| m.device_key_thumbprint).collect();
    thumbs.sort();
    assert_eq!(
        store.revoked_device_thumbprints(now()).await.unwrap(),
        thumbs
    );
    let mut ids: Vec<Vec<u8>> = rec.msos.iter().map(|m| m.identifier.clone()).collect();
    ids.sort();
    assert_eq!(store.revoked_identifiers(now()).await.unwrap(), ids);

    assert!(matches!(
        store
            .revoke_document(
                DocumentId::random().unwrap(),
                RevocationReason::Unspecified,
                at
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn revoke_by_ds_revokes_its_documents(store: Store) {
    add_ds(&store, "01").await;
    add_ds(&store, "02").await;
    let a = issuance(&store, "01", 2).await;
    let b = issuance(&store, "01", 1).await;
    // A batch signed across a rotation: one MSO by each DS.
    let mut mixed = issuance(&store, "02", 2).await;
    mixed.msos[0].ds_serial = "01".into();
    let other = issuance(&store, "02", 2).await;
    for r in [&a, &b, &mixed, &other] {
        store
            .record_issuance(r, None, &response(b""))
            .await
            .unwrap();
    }
    let at = now();
    assert_eq!(store.revoke_by_ds("01", at).await.unwrap(), 3);
    assert_eq!(store.revoke_by_ds("01", at).await.unwrap(), 0);
    for r in [&a, &b, &mixed] {
        let doc = store.get_document(r.document.id).await.unwrap();
        assert_eq!(doc.state, DocumentState::Revoked);
        assert_eq!(doc.revocation_reason, Some(RevocationReason::DsRevoked));
        assert!(store
            .msos_of(r.document.id)
            .await
            .unwrap()
            .iter()
            .all(|m| m.revoked_at.is_some()));
    }
    assert_eq!(
        store.get_document(other.document.id).await.unwrap().state,
        DocumentState::Active
    );
    assert_eq!(
        store.ds_certificate("01").await.unwrap().state,
        DsState::Revoked
    );
    assert_eq!(
        store.ds_certificate("02").await.unwrap().state,
        DsState::Active
    );
    assert_eq!(store.revoked_entries(LIST, now()).await.unwrap().len(), 5);
    assert!(matches!(
        store.set_ds_state("01", DsState::Active).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.revoke_by_ds("99", at).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.ds_certificates().await.unwrap().len(), 2);
}

/// Issue 12 (`kill -9` under load): an issuance signed while a DS revocation committed was
/// recorded afterwards, its document left active with a valid MSO of the revoked DS. The
/// transaction now refuses MSOs of a revoked DS, for a one-MSO issuance (the SQLite batch
/// writer), a batch and a refresh, and records nothing; a replay of an earlier answer still
/// replays.
async fn msos_of_a_ds_revoked_while_they_were_signed_are_refused(store: Store) {
    add_ds(&store, "01").await;
    add_ds(&store, "02").await;
    let client = client_id(&store).await;
    let earlier = issuance(&store, "01", 1).await;
    let key = idem(&client, "k-earlier", b"earlier");
    store
        .record_issuance(&earlier, Some(&key), &response(b"first"))
        .await
        .unwrap();
    // Signed with DS 01, then the DS revocation commits before the issuance is recorded.
    let one = issuance(&store, "01", 1).await;
    let batch = issuance(&store, "01", 3).await;
    let refresh = vec![mso(&store, "01", now() + Duration::days(30)).await];
    let survivor = issuance(&store, "02", 1).await;
    store
        .record_issuance(&survivor, None, &response(b""))
        .await
        .unwrap();
    store.revoke_by_ds("01", now()).await.unwrap();
    let before = (
        store.revoked_entries(LIST, now()).await.unwrap(),
        store.status_lists().await.unwrap(),
    );
    for (name, r) in [("one MSO", &one), ("a batch", &batch)] {
        let got = store
            .record_issuance(
                r,
                Some(&idem(&client, name, name.as_bytes())),
                &response(b""),
            )
            .await;
        assert!(matches!(got, Err(StoreError::DsRevoked)), "{name}: {got:?}");
        assert!(
            matches!(
                store.get_document(r.document.id).await,
                Err(StoreError::NotFound(_))
            ),
            "{name}: recorded"
        );
    }
    let got = store
        .record_refresh(survivor.document.id, &refresh, None, None, &refreshed(b""))
        .await;
    assert!(matches!(got, Err(StoreError::DsRevoked)), "{got:?}");
    assert_eq!(store.msos_of(survivor.document.id).await.unwrap().len(), 1);
    assert_eq!(
        (
            store.revoked_entries(LIST, now()).await.unwrap(),
            store.status_lists().await.unwrap(),
        ),
        before
    );
    // The retry of a request recorded before the revocation gets its answer back.
    let again = issuance(&store, "01", 1).await;
    assert!(matches!(
        store
            .record_issuance(&again, Some(&key), &response(b"second"))
            .await,
        Ok(RecordOutcome::Replayed(r)) if r.body == b"first"
    ));
}

async fn expired_msos_drop_off_the_lists(store: Store) {
    add_ds(&store, "01").await;
    let t0 = now();
    let mut rec = issuance(&store, "01", 0).await;
    let expired = mso(&store, "01", t0 - Duration::days(1)).await;
    let live = mso(&store, "01", t0 + Duration::days(1)).await;
    rec.msos = vec![expired.clone(), live.clone()];
    store
        .record_issuance(&rec, None, &response(b""))
        .await
        .unwrap();
    store
        .revoke_document(rec.document.id, RevocationReason::KeyCompromise, t0)
        .await
        .unwrap();
    assert_eq!(
        store.revoked_entries(LIST, t0).await.unwrap(),
        vec![live.status_index]
    );
    assert_eq!(
        store.revoked_device_thumbprints(t0).await.unwrap(),
        vec![live.device_key_thumbprint]
    );
    assert_eq!(
        store.revoked_identifiers(t0).await.unwrap(),
        vec![live.identifier.clone()]
    );
    // Before the first one expired both are listed; after both expired, none.
    let earlier = t0 - Duration::days(2);
    let mut both = vec![expired.status_index, live.status_index];
    both.sort();
    assert_eq!(store.revoked_entries(LIST, earlier).await.unwrap(), both);
    assert!(store
        .revoked_entries(LIST, t0 + Duration::days(2))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .revoked_device_thumbprints(t0 + Duration::days(2))
        .await
        .unwrap()
        .is_empty());
}

async fn refresh_adds_msos_only_to_active_documents(store: Store) {
    add_ds(&store, "01").await;
    let client = client_id(&store).await;
    let rec = issuance(&store, "01", 1).await;
    store
        .record_issuance(&rec, None, &response(b""))
        .await
        .unwrap();
    let new = vec![mso(&store, "01", now() + Duration::days(60)).await];
    let key = idem(&client, "refresh-1", b"refresh");
    assert_eq!(
        store
            .record_refresh(rec.document.id, &new, None, Some(&key), &refreshed(b"r"))
            .await
            .unwrap(),
        RecordOutcome::Recorded
    );
    assert_eq!(
        store
            .record_refresh(
                rec.document.id,
                &new,
                None,
                Some(&key),
                &refreshed(b"other")
            )
            .await
            .unwrap(),
        RecordOutcome::Replayed(refreshed(b"r"))
    );
    // The kind is stored with the record, not derived from the request.
    assert_eq!(
        store
            .idempotent_response(&client, "refresh-1", &key.request_hash, now())
            .await
            .unwrap(),
        Some(refreshed(b"r"))
    );
    assert_eq!(store.msos_of(rec.document.id).await.unwrap().len(), 2);
    store
        .revoke_document(rec.document.id, RevocationReason::Superseded, now())
        .await
        .unwrap();
    let more = vec![mso(&store, "01", now() + Duration::days(60)).await];
    assert!(matches!(
        store
            .record_refresh(rec.document.id, &more, None, None, &response(b""))
            .await,
        Err(StoreError::Revoked)
    ));
    assert!(matches!(
        store
            .record_refresh(
                DocumentId::random().unwrap(),
                &more,
                None,
                None,
                &response(b"")
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.msos_of(rec.document.id).await.unwrap().len(), 2);
}

async fn client_token_lookup(store: Store) {
    let (client, token) = store
        .create_client("portal", &[Scope::Revoke, Scope::Issue, Scope::Issue])
        .await
        .unwrap();
    assert_eq!(client.scopes, vec![Scope::Issue, Scope::Revoke]);
    assert!(!format!("{token:?}").contains(&token.0));
    let (other, other_token) = store.create_client("admin", &[Scope::Admin]).await.unwrap();
    assert_ne!(token, other_token);

    let found = store.client_by_token(&token.0).await.unwrap().unwrap();
    assert_eq!(found, client);
    assert!(found.has_scope(Scope::Issue) && !found.has_scope(Scope::Admin));
    assert_eq!(
        store
            .client_by_token(&other_token.0)
            .await
            .unwrap()
            .unwrap()
            .id,
        other.id
    );

    // Wrong tokens: altered last character, truncated, no prefix, empty.
    let mut wrong = token.0.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [
        wrong.as_str(),
        &token.0[..token.0.len() - 1],
        &token.0[4..],
        "",
    ] {
        assert_eq!(store.client_by_token(bad).await.unwrap(), None, "{bad}");
    }

    store.disable_client(&client.id).await.unwrap();
    assert_eq!(store.client_by_token(&token.0).await.unwrap(), None);
    assert!(store.client(&client.id).await.unwrap().disabled);
    assert!(store
        .client_by_token(&other_token.0)
        .await
        .unwrap()
        .is_some());
    assert!(matches!(
        store.disable_client("nope").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn schema_has_no_personal_data_columns(store: Store) {
    let columns = store.schema_columns().await.unwrap();
    let tables: BTreeSet<&str> = columns.iter().map(|(t, _)| t.as_str()).collect();
    for t in [
        "documents",
        "msos",
        "api_clients",
        "idempotency",
        "ds_certificates",
    ] {
        assert!(tables.contains(t), "missing table {t}: {tables:?}");
    }
    const PERSONAL: &[&str] = &[
        "family_name",
        "given_name",
        "name_",
        "birth",
        "portrait",
        "address",
        "sex",
        "gender",
        "nationality",
        "document_number",
        "individual_number",
        "driving_privileges",
        "applicant_data",
        "signature_usual_mark",
    ];
    for (table, column) in &columns {
        let c = column.to_ascii_lowercase();
        for p in PERSONAL {
            assert!(!c.contains(p), "personal-data-like column {table}.{column}");
        }
    }
    // The only applicant-derived value is the 32-byte keyed hash.
    let applicant: Vec<_> = columns
        .iter()
        .filter(|(_, c)| c.contains("applicant"))
        .collect();
    assert_eq!(
        applicant,
        vec![&("documents".to_string(), "applicant_ref".to_string())]
    );
}

async fn nonce_is_single_use(store: Store) {
    add_ds(&store, "01").await;
    let nonce = UsedNonce {
        sha256: rand_bytes(),
        expires_at: now() + Duration::minutes(5),
    };
    let mut first = issuance(&store, "01", 1).await;
    first.nonce = Some(nonce);
    store
        .record_issuance(&first, None, &response(b""))
        .await
        .unwrap();
    // A second issuance with the same nonce is refused and leaves nothing behind.
    let mut second = issuance(&store, "01", 1).await;
    second.nonce = Some(nonce);
    let err = store
        .record_issuance(&second, None, &response(b""))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NonceReused), "{err}");
    assert!(err.is_client_error());
    assert!(matches!(
        store.get_document(second.document.id).await,
        Err(StoreError::NotFound(_))
    ));
    // So is a refresh with it.
    let more = vec![mso(&store, "01", now() + Duration::days(60)).await];
    assert!(matches!(
        store
            .record_refresh(first.document.id, &more, Some(&nonce), None, &response(b""))
            .await,
        Err(StoreError::NonceReused)
    ));
    assert_eq!(store.msos_of(first.document.id).await.unwrap().len(), 1);
    // Expired nonces are purged.
    assert_eq!(
        store
            .purge_expired_nonces(now() + Duration::minutes(6))
            .await
            .unwrap(),
        1
    );
}

async fn device_key_binds_one_document(store: Store) {
    add_ds(&store, "01").await;
    let a = issuance(&store, "01", 1).await;
    store
        .record_issuance(&a, None, &response(b""))
        .await
        .unwrap();
    // A refresh of the same document may reuse its device key (same identifier).
    let mut again = mso(&store, "01", now() + Duration::days(60)).await;
    again.device_key_thumbprint = a.msos[0].device_key_thumbprint;
    again.identifier = a.msos[0].identifier.clone();
    store
        .record_refresh(a.document.id, &[again], None, None, &response(b""))
        .await
        .unwrap();
    // Another document may not.
    let mut b = issuance(&store, "01", 1).await;
    b.msos[0].device_key_thumbprint = a.msos[0].device_key_thumbprint;
    assert!(matches!(
        store.record_issuance(&b, None, &response(b"")).await,
        Err(StoreError::DeviceKeyInUse)
    ));
    // Revoking the document lists the shared identifier once.
    store
        .revoke_document(a.document.id, RevocationReason::KeyCompromise, now())
        .await
        .unwrap();
    assert_eq!(
        store.revoked_identifiers(now()).await.unwrap(),
        vec![a.msos[0].identifier.clone()]
    );
}

async fn idempotent_response_lookup(store: Store) {
    add_ds(&store, "01").await;
    let client = client_id(&store).await;
    let key = idem(&client, "look-me-up", b"request");
    assert_eq!(
        store
            .idempotent_response(&client, "look-me-up", &key.request_hash, now())
            .await
            .unwrap(),
        None
    );
    let rec = issuance(&store, "01", 1).await;
    store
        .record_issuance(&rec, Some(&key), &response(b"stored"))
        .await
        .unwrap();
    assert_eq!(
        store
            .idempotent_response(&client, "look-me-up", &key.request_hash, now())
            .await
            .unwrap(),
        Some(response(b"stored"))
    );
    assert!(matches!(
        store
            .idempotent_response(&client, "look-me-up", &[0u8; 32], now())
            .await,
        Err(StoreError::Conflict)
    ));
    // After expiry the key is free again.
    assert_eq!(
        store
            .idempotent_response(
                &client,
                "look-me-up",
                &key.request_hash,
                now() + Duration::hours(25)
            )
            .await
            .unwrap(),
        None
    );
}

/// Many one-MSO issuances at once (on SQLite they are committed in shared batches): each gets
/// exactly the outcome it would get alone, and a failing one takes nothing else down with it.
async fn concurrent_issuances_keep_their_own_outcomes(store: Store) {
    add_ds(&store, "01").await;
    let client = client_id(&store).await;
    let nonce = |sha256| UsedNonce {
        sha256,
        expires_at: now() + Duration::minutes(5),
    };
    let mut jobs: Vec<(&str, IssuanceRecord, Option<Idempotency>, Vec<u8>)> = Vec::new();
    for i in 0..40u8 {
        let mut good = issuance(&store, "01", 1).await;
        good.nonce = Some(nonce(rand_bytes()));
        let key = (i % 2 == 0).then(|| idem(&client, &format!("good-{i}"), &[i]));
        jobs.push(("good", good, key, vec![i]));
    }
    // Two issuances with one nonce, two binding one device key, two retries of one request,
    // and one whose MSO names an unknown DS (a foreign-key failure in its last statement).
    let shared_nonce = rand_bytes();
    for _ in 0..2 {
        let mut rec = issuance(&store, "01", 1).await;
        rec.nonce = Some(nonce(shared_nonce));
        jobs.push(("nonce", rec, None, b"n".to_vec()));
    }
    let shared_key: [u8; 32] = rand_bytes();
    for _ in 0..2 {
        let mut rec = issuance(&store, "01", 1).await;
        rec.msos[0].device_key_thumbprint = shared_key;
        jobs.push(("key", rec, None, b"k".to_vec()));
    }
    for body in [b"twin-a", b"twin-b"] {
        let rec = issuance(&store, "01", 1).await;
        let key = idem(&client, "twin", b"same request");
        jobs.push(("twin", rec, Some(key), body.to_vec()));
    }
    let mut bad = issuance(&store, "01", 1).await;
    bad.msos[0].ds_serial = "ff".into();
    bad.nonce = Some(nonce(rand_bytes()));
    jobs.push((
        "bad",
        bad.clone(),
        Some(idem(&client, "bad", b"bad")),
        b"x".to_vec(),
    ));

    let tasks: Vec<_> = jobs
        .iter()
        .cloned()
        .map(|(_, rec, key, body)| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .record_issuance(&rec, key.as_ref(), &response(&body))
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }

    let of = |kind: &str| -> Vec<&Result<RecordOutcome, StoreError>> {
        jobs.iter()
            .zip(&outcomes)
            .filter(|((k, ..), _)| *k == kind)
            .map(|(_, o)| o)
            .collect()
    };
    for (((_, rec, ..), outcome), i) in jobs.iter().zip(&outcomes).zip(0..40) {
        assert!(
            matches!(outcome, Ok(RecordOutcome::Recorded)),
            "good {i}: {outcome:?}"
        );
        assert_eq!(store.msos_of(rec.document.id).await.unwrap().len(), 1);
    }
    let nonces = of("nonce");
    assert_eq!(nonces.iter().filter(|o| o.is_ok()).count(), 1, "{nonces:?}");
    assert!(nonces
        .iter()
        .any(|o| matches!(o, Err(StoreError::NonceReused))));
    let keys = of("key");
    assert_eq!(keys.iter().filter(|o| o.is_ok()).count(), 1, "{keys:?}");
    assert!(keys
        .iter()
        .any(|o| matches!(o, Err(StoreError::DeviceKeyInUse))));
    // The twin that lost the race gets the winner's stored answer, byte for byte.
    let twins = of("twin");
    let recorded = twins
        .iter()
        .position(|o| matches!(o, Ok(RecordOutcome::Recorded)))
        .expect("one twin recorded");
    let winner_body = if recorded == 0 { b"twin-a" } else { b"twin-b" };
    assert_eq!(
        *twins[1 - recorded].as_ref().unwrap(),
        RecordOutcome::Replayed(response(winner_body))
    );
    // The failed one left nothing: no document, its nonce unused, its idempotency key free.
    let failed = of("bad");
    assert!(matches!(failed[0], Err(StoreError::Db(_))), "{failed:?}");
    assert!(matches!(
        store.get_document(bad.document.id).await,
        Err(StoreError::NotFound(_))
    ));
    let unused = store
        .precheck(
            &bad.nonce.unwrap().sha256,
            &[bad.msos[0].device_key_thumbprint],
        )
        .await
        .unwrap();
    assert_eq!(unused, (false, vec![None]));
    bad.msos[0].ds_serial = "01".into();
    assert_eq!(
        store
            .record_issuance(&bad, Some(&idem(&client, "bad", b"bad")), &response(b"x"))
            .await
            .unwrap(),
        RecordOutcome::Recorded
    );
}

/// The database holds personal data: its files are owner-only whatever the umask, and a file
/// an operator left open to others is narrowed when the issuer opens it.
#[cfg(unix)]
#[tokio::test]
async fn sqlite_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issuer.sqlite");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    store.close().await;
    assert_eq!(mode(&path), 0o600);
    for side in ["issuer.sqlite-wal", "issuer.sqlite-shm"] {
        let p = dir.path().join(side);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{side}");
        }
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let url = format!("sqlite://{}", path.display());
    let store = Store::open(&url).await.unwrap();
    store.close().await;
    assert_eq!(mode(&path), 0o600);
}

async fn issuance_suspension_is_one_row(store: Store) {
    use mdoc_issuer::store::Suspension;
    assert_eq!(store.issuance_suspension().await.unwrap(), None);
    let first = Suspension {
        since: now(),
        reason: "key compromise".into(),
        by: "admin-1".into(),
    };
    assert!(store.suspend_issuance(&first).await.unwrap());
    // A second suspension keeps the first.
    let second = Suspension {
        reason: "again".into(),
        by: "admin-2".into(),
        ..first.clone()
    };
    assert!(!store.suspend_issuance(&second).await.unwrap());
    assert_eq!(
        store.issuance_suspension().await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.resume_issuance().await.unwrap(), Some(first));
    assert_eq!(store.issuance_suspension().await.unwrap(), None);
    assert_eq!(store.resume_issuance().await.unwrap(), None);
}

/// A deferred request outlives its access token's ordinary lifetime (the portal may take
/// days to give the record): until its deadline the offer keeps its keys and takes a record,
/// and the upkeep leaves it alone; past it both are refused and dropped. A regression test:
/// deferred offers were purged with the ordinary token lifetime and their wallets locked out.
async fn deferred_offer_waits_until_its_deadline_then_is_purged(store: Store) {
    let client = client_id(&store).await;
    let t0 = now();
    let offer = NewOffer {
        id: rand_bytes(),
        client_id: client,
        doctype: "org.iso.18013.5.1.mDL".into(),
        claims_sealed: None,
        pre_auth_sha256: rand_bytes(),
        offer_ref_sha256: rand_bytes(),
        offer_sealed: b"sealed offer".to_vec(),
        tx_code_mac: None,
        expires_at: t0 + Duration::hours(1),
        created_at: t0,
    };
    store.insert_offer(&offer).await.unwrap();
    let token = NewToken {
        sha256: rand_bytes(),
        expires_at: t0 + Duration::minutes(5),
        dpop_jkt: None,
        credential_identifier_sha256: None,
    };
    let redeemed = store
        .redeem_pre_auth(&offer.pre_auth_sha256, None, 5, &token, t0)
        .await
        .unwrap();
    assert!(matches!(redeemed, Redemption::Redeemed(_)));
    let nonce = UsedNonce {
        sha256: rand_bytes(),
        expires_at: t0 + Duration::minutes(5),
    };
    let deadline = t0 + Duration::days(7);
    assert!(store
        .defer_offer(&offer.id, &rand_bytes(), b"[\"key\"]", &nonce, t0, deadline)
        .await
        .unwrap());
    let deferred = store.offer(&offer.id).await.unwrap();
    assert_eq!(deferred.state, OfferState::Deferred);
    assert_eq!(deferred.token_expires_at, Some(deadline));

    // An hour later (token and offer lifetimes long past) nothing is purged and the portal
    // can still give the record.
    let later = t0 + Duration::hours(2);
    store.purge_offers(later).await.unwrap();
    assert!(store
        .offer(&offer.id)
        .await
        .unwrap()
        .deferred_keys
        .is_some());
    assert!(store
        .set_offer_claims(&offer.id, b"sealed record", later)
        .await
        .unwrap());

    // Past the deadline the record and keys are dropped.
    let past = deadline + Duration::seconds(1);
    assert!(store.purge_offers(past).await.unwrap() >= 1);
    let purged = store.offer(&offer.id).await.unwrap();
    assert!(purged.claims_sealed.is_none());
    assert!(purged.deferred_keys.is_none());

    // A second deferred offer past its deadline takes no record.
    let mut other = offer.clone();
    other.id = rand_bytes();
    other.pre_auth_sha256 = rand_bytes();
    other.offer_ref_sha256 = rand_bytes();
    store.insert_offer(&other).await.unwrap();
    let token = NewToken {
        sha256: rand_bytes(),
        ..token
    };
    store
        .redeem_pre_auth(&other.pre_auth_sha256, None, 5, &token, t0)
        .await
        .unwrap();
    let nonce = UsedNonce {
        sha256: rand_bytes(),
        ..nonce
    };
    assert!(store
        .defer_offer(&other.id, &rand_bytes(), b"[]", &nonce, t0, deadline)
        .await
        .unwrap());
    assert!(!store
        .set_offer_claims(&other.id, b"sealed record", past)
        .await
        .unwrap());
}

/// An issuance that redeems an offer closes it in its own write: the first is recorded and
/// the offer becomes issued; a second issuance for the same offer, and one for an offer
/// withdrawn meanwhile, are refused as `OfferClosed` with nothing of them recorded (on
/// PostgreSQL through `record_one_issuance`'s own refusal code).
async fn an_issuance_closes_its_offer_once(store: Store) {
    add_ds(&store, "01").await;
    let client = client_id(&store).await;
    let t0 = now();
    let new_offer = || NewOffer {
        id: rand_bytes(),
        client_id: client.clone(),
        doctype: "org.iso.18013.5.1.mDL".into(),
        claims_sealed: Some(b"sealed record".to_vec()),
        pre_auth_sha256: rand_bytes(),
        offer_ref_sha256: rand_bytes(),
        offer_sealed: b"sealed offer".to_vec(),
        tx_code_mac: None,
        expires_at: t0 + Duration::hours(1),
        created_at: t0,
    };
    let redeem = |offer: NewOffer| {
        let store = store.clone();
        async move {
            store.insert_offer(&offer).await.unwrap();
            let token = NewToken {
                sha256: rand_bytes(),
                expires_at: t0 + Duration::minutes(5),
                dpop_jkt: None,
                credential_identifier_sha256: None,
            };
            let r = store
                .redeem_pre_auth(&offer.pre_auth_sha256, None, 5, &token, t0)
                .await
                .unwrap();
            assert!(matches!(r, Redemption::Redeemed(_)));
            offer.id
        }
    };
    let closing = |id: [u8; 16]| OfferIssued {
        id,
        notification_id: hex::encode(rand_bytes::<16>()),
    };

    let id = redeem(new_offer()).await;
    let mut first = issuance(&store, "01", 1).await;
    first.offer = Some(closing(id));
    let outcome = store
        .record_issuance(&first, None, &response(b"first"))
        .await
        .unwrap();
    assert!(matches!(outcome, RecordOutcome::Recorded));
    let issued = store.offer(&id).await.unwrap();
    assert_eq!(issued.state, OfferState::Issued);
    assert_eq!(issued.document_id, Some(first.document.id));

    let mut second = issuance(&store, "01", 1).await;
    second.offer = Some(closing(id));
    let refused = store
        .record_issuance(&second, None, &response(b"second"))
        .await;
    assert!(
        matches!(refused, Err(StoreError::OfferClosed)),
        "{refused:?}"
    );
    assert!(store.get_document(second.document.id).await.is_err());
    assert_eq!(
        store.offer(&id).await.unwrap().document_id,
        Some(first.document.id)
    );

    let withdrawn = redeem(new_offer()).await;
    assert!(store.withdraw_offer(&withdrawn, t0).await.unwrap());
    assert!(store
        .offer(&withdrawn)
        .await
        .unwrap()
        .claims_sealed
        .is_none());
    let mut late = issuance(&store, "01", 1).await;
    late.offer = Some(closing(withdrawn));
    late.nonce = Some(UsedNonce {
        sha256: rand_bytes(),
        expires_at: t0 + Duration::minutes(5),
    });
    let refused = store.record_issuance(&late, None, &response(b"late")).await;
    assert!(
        matches!(refused, Err(StoreError::OfferClosed)),
        "{refused:?}"
    );
    assert!(store.get_document(late.document.id).await.is_err());
    // Its nonce was not consumed either: the refusal rolled the whole write back.
    assert!(!store
        .nonce_used(&late.nonce.as_ref().unwrap().sha256)
        .await
        .unwrap());
}
