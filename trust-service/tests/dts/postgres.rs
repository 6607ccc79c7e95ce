//! The same ingest and site on PostgreSQL (127.0.0.1:5432, database `test`), in a fresh schema.

use crate::fixture::*;

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

#[tokio::test]
async fn ingest_refusal_and_site_on_postgresql() {
    let base = std::env::var("MDOC_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_PG.into());
    let schema = format!("dts_test_{}", std::process::id());
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&base)
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 (see README)");
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let url = format!("{base}?options=-csearch_path%3D{schema}");
    let root = Root::new(PUBLIC, "iaca");
    let env = Env::with_db(PUBLIC, &[&root.fp], Some(&url)).await;
    assert_eq!(
        env.dts.store().backend(),
        mdoc_dts::store::Backend::Postgres
    );
    env.ingest(
        &BundleDir::new()
            .file("iaca/01.der", &root.der)
            .file("crl/00000002.crl", &root.crl(2, T0, &[])),
    )
    .await
    .unwrap();
    let r = refusal(
        env.ingest(&BundleDir::new().file("crl/00000001.crl", &root.crl(1, T0, &[])))
            .await
            .unwrap_err(),
    );
    assert_eq!(r.code(), "crl_rollback");
    let replica = env.reopen().await;
    let path = "/crl/iaca.crl".to_owned();
    assert_eq!(
        replica.site().resources[&path].body.as_ref(),
        root.crl(2, T0, &[]).as_slice()
    );
    let history = env.dts.store().ingests().await.unwrap();
    assert_eq!(history.len(), 2);
    env.dts.store().close().await;
    replica.store().close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}
