//! A pre-signed series is served exactly on its days, an emergency CRL supersedes it at once,
//! and the provision history says which CRL was served when.

use crate::fixture::*;
use crate::http::start;

#[tokio::test]
async fn a_presigned_series_is_served_on_its_days_and_an_emergency_crl_supersedes_it() {
    let root = Root::new(PUBLIC, "iaca");
    let env = Env::new(PUBLIC, &[&root.fp]).await;
    let series: Vec<Vec<u8>> = (0..4)
        .map(|i| root.crl(i + 1, T0 + DAY * i as i32, &[]))
        .collect();
    let mut bundle = BundleDir::new().file("iaca/01.der", &root.der);
    for (i, c) in series.iter().enumerate() {
        bundle = bundle.file(&format!("crl/{:08}.crl", i + 1), c);
    }
    env.ingest(&bundle).await.unwrap();
    let server = start(env.dts.clone()).await;
    let path = format!("{}/crl/iaca.crl", server.base);
    let fetch = |t| {
        env.set_time(t);
        let path = path.clone();
        let dts = env.dts.clone();
        async move {
            dts.refresh().await.unwrap();
            reqwest::get(path)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .to_vec()
        }
    };
    assert_eq!(fetch(T0).await, series[0]);
    assert_eq!(fetch(T0 + DAY - time::Duration::SECOND).await, series[0]);
    assert_eq!(fetch(T0 + DAY).await, series[1]);
    assert_eq!(
        fetch(T0 + 2 * DAY + time::Duration::hours(6)).await,
        series[2]
    );

    // An emergency CRL at 09:00 on day 2 (number 10, revoking a DS): served at once, and the
    // series' day-3 CRL never displaces it.
    let emergency_at = T0 + 2 * DAY + time::Duration::hours(9);
    env.set_time(emergency_at);
    let emergency = root.crl(10, emergency_at, &[vec![0x42]]);
    env.ingest(&BundleDir::new().file("crl/00000010.crl", &emergency))
        .await
        .unwrap();
    assert_eq!(fetch(emergency_at).await, emergency);
    assert_eq!(
        fetch(T0 + 3 * DAY + time::Duration::hours(1)).await,
        emergency
    );

    let history: Vec<(String, time::OffsetDateTime, Option<time::OffsetDateTime>)> = env
        .dts
        .history()
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.number, p.from, p.until))
        .collect();
    assert_eq!(
        history,
        [
            ("1".to_owned(), T0, Some(T0 + DAY)),
            ("2".to_owned(), T0 + DAY, Some(T0 + 2 * DAY)),
            ("3".to_owned(), T0 + 2 * DAY, Some(emergency_at)),
            ("a".to_owned(), emergency_at, None),
        ]
    );
}

#[tokio::test]
async fn a_replica_on_the_same_database_serves_what_another_ingested() {
    let root = Root::new(PUBLIC, "iaca");
    let env = Env::new(PUBLIC, &[&root.fp]).await;
    let replica = env.reopen().await;
    env.ingest(
        &BundleDir::new()
            .file("iaca/01.der", &root.der)
            .file("crl/00000001.crl", &root.crl(1, T0, &[])),
    )
    .await
    .unwrap();
    assert!(replica.site().roots.is_empty());
    replica.refresh().await.unwrap();
    assert_eq!(replica.site().roots.len(), 1);
    let a = env.dts.site();
    let b = replica.site();
    assert_eq!(a.paths(), b.paths());
    for p in a.paths() {
        assert_eq!(a.resources[p].body, b.resources[p].body, "{p}");
    }
}

#[tokio::test]
async fn two_processes_share_one_audit_chain() {
    let root = Root::new(PUBLIC, "iaca");
    let env = Env::new(PUBLIC, &[&root.fp]).await;
    // `serve` and an operator's `ingest` at once: two handles on one log.
    let other = env.reopen().await;
    env.ingest(&BundleDir::new().file("iaca/01.der", &root.der))
        .await
        .unwrap();
    let read = |b: &BundleDir| mdoc_dts::bundle::Bundle::from_dir(b.path(), &env.config.limits);
    let second = BundleDir::new().file("crl/00000001.crl", &root.crl(1, T0, &[]));
    other.ingest(read(&second), "cli:2", "op").await.unwrap();
    let third = BundleDir::new().file("crl/00000002.crl", &root.crl(2, T0, &[]));
    env.dts.ingest(read(&third), "cli:3", "op").await.unwrap();
    // The chain is whole: it reopens (verifying every hash) with all three records.
    let log = custody::audit::AuditLog::open(env.path("audit.log"), "check").unwrap();
    assert_eq!(log.next_seq(), 4, "three records: {}", env.audit_log());
}
