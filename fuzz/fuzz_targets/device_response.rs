//! `DeviceResponse`: decode, re-encode, and verify every document over the fixed Annex D
//! SessionTranscript (deviceMac with the Annex D EReaderKey, or deviceSignature), trusting the
//! Annex D IACA, then again without the reader key and with the pinned DS.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso::cbor::{from_slice, Limits};
use mso::model::DeviceResponse;
use mso::verify::{verify_device_response, DeviceAuthInput};
use mso_fuzz::{check_reencoding, iaca_trust, opts, pinned_trust, session, transcript};

fuzz_target!(|data: &[u8]| {
    let Ok(response) = from_slice::<DeviceResponse>(data, &Limits::DEFAULT) else {
        return;
    };
    check_reencoding(&response);

    let report = verify_device_response(&response, &session(), &opts(iaca_trust()));
    if mso_fuzz::verbose() {
        eprintln!(
            "device_response (IACA trust, reader key): valid={} checks={} failures={:?}",
            report.is_valid(),
            report
                .documents
                .iter()
                .map(|d| d.checks.len())
                .sum::<usize>(),
            report.failures().collect::<Vec<_>>()
        );
    }

    let no_reader_key = DeviceAuthInput {
        transcript: transcript(),
        e_reader_key: None,
    };
    let report = verify_device_response(&response, &no_reader_key, &opts(pinned_trust()));
    let _ = report.is_valid();
});
