//! `IssuerSigned` (the OpenID4VCI `mso_mdoc` credential): decode, re-encode, verify against the
//! Annex D IACA and against the pinned Annex D DS, and present it (selective disclosure +
//! deviceSignature) as a holder would.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso::cbor::{from_slice, Limits};
use mso::model::{DeviceResponse, IssuerSigned, MDL_DOCTYPE};
use mso::present::{device_response, present_with_signature, Disclosure};
use mso::verify::verify_issuer_signed;
use mso_fuzz::{check_reencoding, device_key, iaca_trust, opts, pinned_trust, transcript};

fuzz_target!(|data: &[u8]| {
    let Ok(issued) = from_slice::<IssuerSigned>(data, &Limits::DEFAULT) else {
        return;
    };
    check_reencoding(&issued);

    let auth = &issued.issuer_auth;
    let _ = auth.algorithm();
    let _ = auth.x5chain();
    let mso = auth.mso().value();
    let _ = mso.device_key_info.public_key();
    let _ = mso.digest_algorithm.digest(auth.mso().inner_bytes());

    for (trust, doc_type) in [(iaca_trust(), Some(MDL_DOCTYPE)), (pinned_trust(), None)] {
        let report = verify_issuer_signed(&issued, doc_type, &opts(trust));
        if mso_fuzz::verbose() {
            eprintln!(
                "issuer_signed: valid={} checks={} failures={:?}",
                report.is_valid(),
                report.checks.len(),
                report.failures().collect::<Vec<_>>()
            );
        }
    }

    // Holder side: disclose the first element of every namespace, sign, encode, decode.
    if let Some(ns) = &issued.name_spaces {
        let selection: Disclosure = ns
            .iter()
            .map(|(k, items)| {
                let ids = items
                    .iter()
                    .take(1)
                    .map(|i| i.value().element_identifier.clone())
                    .collect();
                (k.clone(), ids)
            })
            .collect();
        if let Ok(doc) =
            present_with_signature(&issued, Some(&selection), transcript(), device_key())
        {
            let response: DeviceResponse = device_response(vec![doc]);
            check_reencoding(&response);
        }
    }
});
