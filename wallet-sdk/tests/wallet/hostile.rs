//! Hostile session messages and records: a typed error, no panic, no key used, nothing
//! stored.

use mso::session::SessionData;
use proptest::prelude::*;
use wallet_sdk::{Storage as _, WalletError};

use crate::common::{at, Fixture};
use crate::present::{engage, mdl_request};

/// The status code a failed message is answered with (0: no reply).
fn status_of(e: &WalletError) -> u64 {
    match e {
        WalletError::Session {
            status_code, reply, ..
        } => {
            if *status_code != 0 {
                let reply = SessionData::from_bytes(reply, &mso::cbor::Limits::DEFAULT).unwrap();
                assert_eq!(reply.status.map(|s| s.code()), Some(*status_code));
                assert!(reply.data.is_none());
            }
            *status_code
        }
        other => panic!("expected a session error, got {other}"),
    }
}

#[test]
fn broken_establishments_end_the_session_with_a_status() {
    let f = Fixture::new();
    f.holding(1);
    let puts = f.puts();
    let (_, _, good) = engage(&f, None);
    let mut oversized = good.clone();
    oversized.extend(std::iter::repeat_n(0, 64));
    let cases: Vec<(Vec<u8>, u64)> = vec![
        (good[..good.len() / 2].to_vec(), 11),       // truncated
        (vec![0x01], 11),                            // an integer, not a map
        (vec![0xa0], 11),                            // a map without its fields
        (oversized, 11),                             // trailing bytes
        (vec![0x5a, 0xff, 0xff, 0xff, 0xff], 11),    // a 4 GiB bstr header
        (SessionData::termination().to_bytes(), 11), // SessionData, not an establishment
    ];
    for (message, status) in cases {
        let (session, _, _) = engage(&f, None);
        let err = session.receive_establishment(message, at()).unwrap_err();
        assert_eq!(status_of(&err), status, "{err}");
        assert!(session.is_terminated().unwrap());
        // An ended session takes nothing more.
        let (_, _, fresh) = engage(&f, None);
        assert_eq!(
            status_of(&session.receive_establishment(fresh, at()).unwrap_err()),
            0
        );
    }
    // A ciphertext changed in flight does not decrypt: status 10.
    let (session, _, mut tampered) = engage(&f, None);
    // {"data": h'…' — the map head, "data" and the bstr head take at most 9 bytes.
    tampered[12] ^= 1;
    let err = session.receive_establishment(tampered, at()).unwrap_err();
    assert_eq!(status_of(&err), 10, "{err}");
    assert_eq!(f.signs(), 0);
    assert_eq!(f.puts(), puts);
}

#[test]
fn a_request_that_is_not_a_device_request_is_refused_before_any_key_is_used() {
    let f = Fixture::new();
    f.holding(1);
    let puts = f.puts();
    for request in [vec![0xa0], b"not cbor".to_vec(), vec![0x82, 0x01, 0x02]] {
        let session = f.wallet.clone().start_presentation().unwrap();
        let reader =
            verifier_sdk::ReaderSession::from_qr_code(session.qr_code_uri().unwrap()).unwrap();
        let establishment = reader.establish(request).unwrap();
        let err = session
            .receive_establishment(establishment, at())
            .unwrap_err();
        assert_eq!(status_of(&err), 11, "{err}");
        assert!(session.respond(Vec::new(), at()).is_err());
    }
    // A later message that replays the establishment's ciphertext: status 10.
    let session = f.wallet.clone().start_presentation().unwrap();
    let reader = verifier_sdk::ReaderSession::from_qr_code(session.qr_code_uri().unwrap()).unwrap();
    let request = reader
        .device_request(mdl_request(&[("family_name", false)]), None)
        .unwrap();
    session
        .receive_establishment(reader.establish(request.clone()).unwrap(), at())
        .unwrap();
    let replay = SessionData {
        data: Some(vec![0; 40]),
        status: None,
    };
    let err = session
        .receive_message(replay.to_bytes(), at())
        .unwrap_err();
    assert_eq!(status_of(&err), 10, "{err}");
    assert!(session.respond(Vec::new(), at()).is_err());
    assert_eq!(f.signs(), 0);
    assert_eq!(f.puts(), puts);
}

#[test]
fn a_damaged_record_is_a_typed_error() {
    let f = Fixture::new();
    let id = f.holding(1);
    let key = format!("cred.{id}");
    let good = f.storage.get(key.clone()).unwrap().unwrap();
    f.storage
        .put(key.clone(), good[..good.len() / 3].to_vec())
        .unwrap();
    assert!(matches!(
        f.wallet.credential(id.clone()),
        Err(WalletError::StoredFormat { .. })
    ));
    // A presentation does not get past it either, and uses no key.
    let (session, _, establishment) = engage(&f, None);
    assert!(matches!(
        session.receive_establishment(establishment, at()),
        Err(WalletError::StoredFormat { .. })
    ));
    assert_eq!(f.signs(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any bytes as establishment or later message: an error or a consent request, never a
    /// panic, never a signature, never a write.
    #[test]
    fn arbitrary_session_messages_never_use_a_key(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let f = FIXTURE.with(|f| f.clone());
        let signs = f.signs();
        let puts = f.puts();
        let session = f.wallet.clone().start_presentation().unwrap();
        let _ = session.receive_establishment(bytes.clone(), at());
        let _ = session.receive_message(bytes, at());
        prop_assert_eq!(f.signs(), signs);
        prop_assert_eq!(f.puts(), puts);
    }
}

thread_local! {
    static FIXTURE: std::rc::Rc<Fixture> = {
        let f = Fixture::new();
        f.holding(1);
        std::rc::Rc::new(f)
    };
}
