//! Ingest: what is accepted, and every refusal — each leaves the store as it was and is in
//! the audit log and the ingest history.

use mdoc_dts::error::CrlUrlProblem;
use mdoc_dts::Refusal;

use crate::fixture::*;

async fn assert_nothing_published(env: &Env) {
    let state = env.dts.store().state().await.unwrap();
    assert!(state.roots.is_empty() && state.links.is_empty() && state.crls.is_empty());
    assert!(state.vical.is_none(), "no VICAL for a refused bundle");
}

/// The refusal of `bundle` on a fresh DTS pinning `pins`, after checking it changed nothing
/// and was audited and recorded.
async fn refused(pins: &[&str], bundle: BundleDir) -> Refusal {
    let env = Env::new(PUBLIC, pins).await;
    let r = refusal(env.ingest(&bundle).await.unwrap_err());
    assert_nothing_published(&env).await;
    let log = env.audit_log();
    assert!(
        log.contains("\"dts.ingest\"") && log.contains(r.code()) && log.contains("failure"),
        "{log}"
    );
    let history = env.dts.store().ingests().await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].outcome, format!("refused:{}", r.code()));
    r
}

fn good_bundle(root: &Root) -> BundleDir {
    BundleDir::new()
        .file("iaca/01.der", &root.der)
        .file("crl/00000001.crl", &root.crl(1, T0, &[]))
        .file("crl/00000002.crl", &root.crl(2, T0 + DAY, &[]))
}

#[tokio::test]
async fn a_pinned_root_and_its_crl_series_are_accepted_once() {
    let root = Root::new(PUBLIC, "iaca-2026");
    let env = Env::new(PUBLIC, &[&root.fp]).await;
    let bundle = good_bundle(&root);
    let done = env.ingest(&bundle).await.unwrap();
    assert_eq!(
        (
            done.plan.roots.len(),
            done.plan.crls.len(),
            done.plan.already_held
        ),
        (1, 2, 0)
    );
    assert!(done.new_vical);
    let state = env.dts.store().state().await.unwrap();
    assert_eq!(state.roots[0].fingerprint, root.fp);
    assert!(state.roots[0].pinned);
    assert_eq!(state.roots[0].crl_url, root.cdp);
    // The next export repeats everything: already held, nothing new, no new VICAL.
    let again = env.ingest(&bundle).await.unwrap();
    assert!(again.plan.is_empty());
    assert_eq!(again.plan.already_held, 3);
    assert!(!again.new_vical);
    assert_eq!(env.audit_log().matches("\"success\"").count(), 2);
}

#[tokio::test]
async fn an_unpinned_root_is_refused() {
    let root = Root::new(PUBLIC, "iaca");
    let other = Root::new(PUBLIC, "other");
    let r = refused(&[&other.fp], good_bundle(&root)).await;
    assert!(
        matches!(&r, Refusal::UnknownRoot { fingerprint, .. } if *fingerprint == root.fp),
        "{r}"
    );
}

#[tokio::test]
async fn a_crl_with_a_forged_signature_is_refused() {
    let root = Root::new(PUBLIC, "iaca");
    let mut crl = root.crl(1, T0, &[]);
    let last = crl.len() - 1;
    crl[last] ^= 0x01;
    // The manifest is recomputed: only the signature can tell.
    let bundle = BundleDir::new()
        .file("iaca/01.der", &root.der)
        .file("crl/00000001.crl", &crl);
    let r = refused(&[&root.fp], bundle).await;
    assert!(matches!(r, Refusal::CrlUnverified { .. }), "{r}");
}

#[tokio::test]
async fn a_crl_from_another_root_with_the_same_name_is_refused() {
    let root = Root::new(PUBLIC, "iaca");
    let impostor = Root::new(PUBLIC, "iaca-impostor");
    let bundle = BundleDir::new()
        .file("iaca/01.der", &root.der)
        .file("crl/00000001.crl", &impostor.crl(1, T0, &[]));
    let r = refused(&[&root.fp], bundle).await;
    assert!(matches!(r, Refusal::CrlUnverified { .. }), "{r}");
}

#[tokio::test]
async fn crl_rollback_and_reused_numbers_are_refused_and_change_nothing() {
    let root = Root::new(PUBLIC, "iaca");
    let env = Env::new(PUBLIC, &[&root.fp]).await;
    let first = BundleDir::new()
        .file("iaca/01.der", &root.der)
        .file("crl/00000005.crl", &root.crl(5, T0, &[]));
    env.ingest(&first).await.unwrap();
    let before = env.dts.store().state().await.unwrap().crls;

    let rollback = BundleDir::new().file("crl/00000003.crl", &root.crl(3, T0 + DAY, &[]));
    let r = refusal(env.ingest(&rollback).await.unwrap_err());
    assert!(
        matches!(&r, Refusal::CrlRollback { number, held, .. } if number == "3" && held == "5"),
        "{r}"
    );
    // Same number, other bytes (another revocation list under number 5).
    let reused = BundleDir::new().file(
        "crl/00000005.crl",
        &root.crl(5, T0, &[vec![0x01, 0x02, 0x03]]),
    );
    let r = refusal(env.ingest(&reused).await.unwrap_err());
    assert!(matches!(r, Refusal::CrlNumberReused { .. }), "{r}");
    assert_eq!(env.dts.store().state().await.unwrap().crls, before);
    let outcomes: Vec<String> = env
        .dts
        .store()
        .ingests()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [
            "accepted",
            "refused:crl_rollback",
            "refused:crl_number_reused"
        ]
    );
}

#[tokio::test]
async fn a_document_signer_certificate_is_refused_wherever_it_is() {
    let root = Root::new(PUBLIC, "iaca");
    for name in [
        "iaca/ds.der",
        "link/ds.der",
        "ds/ds.der",
        "crl/00000009.crl",
    ] {
        let bundle = good_bundle(&root).file(name, &root.ds());
        let r = refused(&[&root.fp], bundle).await;
        assert!(matches!(r, Refusal::DocumentSigner { .. }), "{name}: {r}");
    }
}

#[tokio::test]
async fn files_the_dts_does_not_publish_are_refused() {
    let root = Root::new(PUBLIC, "iaca");
    let r = refused(
        &[&root.fp],
        good_bundle(&root).file("extra/notes.txt", b"hello"),
    )
    .await;
    assert!(matches!(r, Refusal::UnexpectedFile { .. }), "{r}");
    // A root put where a link belongs, and a CRL where a root belongs.
    let r = refused(&[&root.fp], BundleDir::new().file("link/01.der", &root.der)).await;
    assert!(matches!(r, Refusal::WrongKind { .. }), "{r}");
    let r = refused(
        &[&root.fp],
        BundleDir::new().file("iaca/01.der", &root.crl(1, T0, &[])),
    )
    .await;
    assert!(matches!(r, Refusal::Undecodable { .. }), "{r}");
}

#[tokio::test]
async fn truncated_and_garbage_files_are_refused() {
    let root = Root::new(PUBLIC, "iaca");
    let crl = root.crl(1, T0, &[]);
    for (name, bytes) in [
        ("iaca/01.der", root.der[..root.der.len() / 2].to_vec()),
        ("iaca/01.der", b"-----BEGIN CERTIFICATE-----\n".to_vec()),
        ("iaca/01.der", [root.der.clone(), vec![0]].concat()),
        ("crl/00000001.crl", crl[..crl.len() - 3].to_vec()),
        ("crl/00000001.crl", vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
        ("crl/00000001.crl", Vec::new()),
    ] {
        let mut bundle = BundleDir::new();
        if name.starts_with("crl") {
            bundle = bundle.file("iaca/01.der", &root.der);
        }
        let r = refused(&[&root.fp], bundle.file(name, &bytes)).await;
        assert!(matches!(r, Refusal::Undecodable { .. }), "{name}: {r}");
    }
}

#[tokio::test]
async fn oversized_files_and_bundles_are_refused_before_they_are_read() {
    let root = Root::new(PUBLIC, "iaca");
    // The test limits: 1 MiB per file, 4 MiB per bundle, 64 files.
    let big = vec![0u8; 1024 * 1024 + 1];
    let r = refused(&[&root.fp], good_bundle(&root).file("crl/big.crl", &big)).await;
    assert!(matches!(r, Refusal::FileTooLarge { .. }), "{r}");
    let mut bundle = good_bundle(&root);
    for i in 0..5 {
        bundle = bundle.file(&format!("crl/big{i}.crl"), &big[..1024 * 1024]);
    }
    let r = refused(&[&root.fp], bundle).await;
    assert!(matches!(r, Refusal::BundleTooLarge { .. }), "{r}");
    let mut bundle = BundleDir::new();
    for i in 0..70 {
        bundle = bundle.file(&format!("crl/{i}.crl"), b"x");
    }
    let r = refused(&[&root.fp], bundle).await;
    assert!(matches!(r, Refusal::TooManyFiles { .. }), "{r}");
}

#[tokio::test]
async fn links_in_a_bundle_directory_are_refused() {
    let root = Root::new(PUBLIC, "iaca");
    let bundle = good_bundle(&root);
    std::os::unix::fs::symlink("/etc/passwd", bundle.path().join("crl/00000009.crl")).unwrap();
    let r = refused(&[&root.fp], bundle).await;
    assert!(matches!(r, Refusal::NotRegularFile { .. }), "{r}");
    let bundle = good_bundle(&root);
    std::os::unix::fs::symlink("/etc", bundle.path().join("link")).unwrap();
    let r = refused(&[&root.fp], bundle).await;
    assert!(matches!(r, Refusal::NotRegularFile { .. }), "{r}");
}

/// A tar with one extra entry of `kind` named `name`.
fn tar_with(base: &BundleDir, name: &str, kind: tar::EntryType, data: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", base.path()).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    if kind.is_symlink() || kind.is_hard_link() {
        h.set_link_name("/etc/passwd").unwrap();
    }
    // Raw name bytes: `set_path` refuses `..`, an attacker's archive does not.
    let raw = &mut h.as_old_mut().name;
    raw.fill(0);
    raw[..name.len()].copy_from_slice(name.as_bytes());
    h.set_cksum();
    b.append(&h, data).unwrap();
    b.into_inner().unwrap()
}

#[tokio::test]
async fn unsafe_names_and_links_in_an_upload_are_refused() {
    let root = Root::new(PUBLIC, "iaca");
    let base = good_bundle(&root);
    let limits = mdoc_dts::config::Limits::default();
    let regular = tar::EntryType::Regular;
    for (name, kind, want) in [
        ("../escape.crl", regular, "unsafe_name"),
        ("crl/../../etc/x", regular, "unsafe_name"),
        ("/etc/cron.d/x", regular, "unsafe_name"),
        ("crl/a/b/c.crl", regular, "unsafe_name"),
        ("crl/link.crl", tar::EntryType::Symlink, "not_regular_file"),
        ("crl/hard.crl", tar::EntryType::Link, "not_regular_file"),
        ("crl/dev", tar::EntryType::Char, "not_regular_file"),
    ] {
        let tar = tar_with(&base, name, kind, b"");
        let r = mdoc_dts::bundle::Bundle::from_tar(&tar, &limits).unwrap_err();
        assert_eq!(r.code(), want, "{name}: {r}");
    }
    // The plain upload of the same directory reads back to the same bundle.
    let from_tar = mdoc_dts::bundle::Bundle::from_tar(&base.tar(), &limits).unwrap();
    let from_dir = mdoc_dts::bundle::Bundle::from_dir(base.path(), &limits).unwrap();
    assert_eq!(from_tar, from_dir);
}

#[tokio::test]
async fn the_manifest_must_match_every_file() {
    let root = Root::new(PUBLIC, "iaca");
    let bundle = good_bundle(&root);
    std::fs::write(bundle.path().join("crl/00000002.crl"), root.crl(2, T0, &[])).unwrap();
    let r = refused(&[&root.fp], bundle).await;
    assert!(matches!(r, Refusal::Manifest { .. }), "{r}");
    let bundle = good_bundle(&root);
    std::fs::remove_file(bundle.path().join("MANIFEST.sha256")).unwrap();
    let r = refused(&[&root.fp], bundle).await;
    assert!(matches!(r, Refusal::NoManifest), "{r}");
}

#[tokio::test]
async fn one_bad_file_refuses_the_whole_bundle() {
    let root = Root::new(PUBLIC, "iaca");
    let impostor = Root::new(PUBLIC, "x");
    // Root and two good CRLs, then a third CRL nobody trusted signed.
    let bundle = good_bundle(&root).file("crl/00000003.crl", &impostor.crl(3, T0, &[]));
    let r = refused(&[&root.fp], bundle).await;
    assert!(matches!(r, Refusal::CrlUnverified { .. }), "{r}");
}

#[tokio::test]
async fn a_rolled_over_root_is_accepted_through_its_link_certificate_only() {
    let old = Root::new(PUBLIC, "iaca-2026");
    let (new, new_with_old, old_with_new) = old.rollover(PUBLIC, "iaca-2031");
    let env = Env::new(PUBLIC, &[&old.fp]).await;
    env.ingest(&good_bundle(&old)).await.unwrap();
    // Without the link, the new root is unknown.
    let alone = BundleDir::new().file("iaca/02.der", &new.der);
    let r = refusal(env.ingest(&alone).await.unwrap_err());
    assert!(matches!(r, Refusal::UnknownRoot { .. }), "{r}");
    let bundle = BundleDir::new()
        .file("iaca/02.der", &new.der)
        .file("link/01.der", &new_with_old)
        .file("link/02.der", &old_with_new)
        .file("crl/00000001.crl", &new.crl(1, T0, &[]));
    let done = env.ingest(&bundle).await.unwrap();
    assert_eq!((done.plan.roots.len(), done.plan.links.len()), (1, 2));
    let state = env.dts.store().state().await.unwrap();
    let added = state.root(&new.fp).unwrap();
    assert!(!added.pinned);
    assert_eq!(
        added.via_link.as_deref(),
        Some(sha256_hex(&new_with_old).as_str())
    );
    let vical = state.vical.unwrap();
    assert_eq!(vical.issue_id, 2, "the set changed: a new VICAL");
    assert_eq!(vical.roots.len(), 2);
}

#[tokio::test]
async fn a_link_certificate_to_another_name_or_from_an_untrusted_root_is_refused() {
    let old = Root::new(PUBLIC, "iaca-2026");
    let (new, new_with_old, _) = old.rollover(PUBLIC, "iaca-2031");
    // The link certifies the new key under the old DN; a root with another DN is not reached.
    let other_dn = Root::with_cdp(&format!("{PUBLIC}/crl/other.crl"), "Another IACA");
    let bundle = good_bundle(&old)
        .file("iaca/02.der", &other_dn.der)
        .file("link/01.der", &new_with_old);
    let r = refused(&[&old.fp], bundle).await;
    assert!(matches!(r, Refusal::LinkUnverified { .. }), "{r}");
    // The right pair, but the old root is not trusted.
    let stranger = Root::new(PUBLIC, "stranger");
    let bundle = BundleDir::new()
        .file("iaca/01.der", &stranger.der)
        .file("iaca/02.der", &new.der)
        .file("link/01.der", &new_with_old);
    let r = refused(&[&stranger.fp], bundle).await;
    assert!(matches!(r, Refusal::LinkUnverified { .. }), "{r}");
}

#[tokio::test]
async fn a_root_whose_crl_url_the_dts_cannot_serve_is_refused() {
    let outside = Root::with_cdp("https://crl.elsewhere.example/iaca.crl", "Japan mDL IACA");
    let r = refused(
        &[&outside.fp],
        BundleDir::new().file("iaca/01.der", &outside.der),
    )
    .await;
    assert!(
        matches!(
            &r,
            Refusal::CrlUrl {
                problem: CrlUrlProblem::Path(_),
                ..
            }
        ),
        "{r}"
    );
    let reserved = Root::with_cdp(&format!("{PUBLIC}/index.json"), "Japan mDL IACA");
    let r = refused(
        &[&reserved.fp],
        BundleDir::new().file("iaca/01.der", &reserved.der),
    )
    .await;
    assert!(matches!(&r, Refusal::CrlUrl { .. }), "{r}");
    // Two roots cannot share one CRL URL: a DS under either would get the other's CRL.
    let a = Root::new(PUBLIC, "shared");
    let b = Root::new(PUBLIC, "shared");
    let bundle = BundleDir::new()
        .file("iaca/01.der", &a.der)
        .file("iaca/02.der", &b.der);
    let r = refused(&[&a.fp, &b.fp], bundle).await;
    assert!(
        matches!(
            &r,
            Refusal::CrlUrl {
                problem: CrlUrlProblem::Shared(_),
                ..
            }
        ),
        "{r}"
    );
}

mod hostile {
    use proptest::prelude::*;

    use super::*;

    fn base_tar() -> Vec<u8> {
        let root = Root::new(PUBLIC, "iaca");
        good_bundle(&root).tar()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A mutated upload is read or refused with a typed reason, never a panic; whatever
        /// is read has only plain, shallow names.
        #[test]
        fn mutated_uploads_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
            let mut tar = base_tar();
            for (at, byte) in flips {
                let i = at % tar.len();
                tar[i] ^= byte;
            }
            tar.truncate(cut % (tar.len() + 1));
            if let Ok(bundle) = mdoc_dts::bundle::Bundle::from_tar(&tar, &mdoc_dts::config::Limits::default()) {
                for (name, _) in bundle.files() {
                    prop_assert!(!name.contains("..") && !name.starts_with('/'), "{name}");
                    prop_assert!(name.split('/').count() <= 2, "{name}");
                }
            }
        }

        /// Arbitrary bytes as a certificate or a CRL are refused with a typed reason.
        #[test]
        fn garbage_files_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..2048), as_crl in any::<bool>()) {
            let dir = BundleDir::new();
            let dir = if as_crl { dir.file("crl/00000001.crl", &bytes) } else { dir.file("iaca/01.der", &bytes) };
            let bundle = mdoc_dts::bundle::Bundle::from_dir(dir.path(), &mdoc_dts::config::Limits::default()).unwrap();
            let public = mdoc_dts::layout::PublicUrl::parse(PUBLIC).unwrap();
            let r = mdoc_dts::ingest::plan(&mdoc_dts::store::State::default(), &bundle, &[], &public, T0, time::Duration::days(3));
            prop_assert!(r.is_err());
        }
    }
}

#[tokio::test]
async fn a_crl_outside_the_annex_b_profile_is_refused_even_when_its_root_signed_it() {
    let root = Root::new(PUBLIC, "iaca");
    // The root's own tool allowed a 10-day CRL; the published profile says 3 days at most.
    let mut params = mdoc_ca::crl::CrlParams::new(1, T0);
    params.next_update = T0 + 10 * DAY;
    params.policy.max_crl_validity_days = 30;
    let long = mdoc_ca::crl::build_crl(&root.der, &params, &[], &root.key).unwrap();
    let bundle = BundleDir::new()
        .file("iaca/01.der", &root.der)
        .file("crl/00000001.crl", &long);
    let r = refused(&[&root.fp], bundle).await;
    assert!(
        matches!(&r, Refusal::Profile { violations, .. } if violations.iter().any(|v| v.contains("at most 3 days"))),
        "{r}"
    );
}
