//! One direction of a session: AES-256-GCM under one session key, with the IV built from the
//! direction's identifier and its message counter (ISO 18013-5 §9.1.1.5).

use aes_gcm::aead::{Aead, Nonce};
use aes_gcm::{Aes256Gcm, KeyInit};

use crate::error::{Error, Result};

/// IV identifier of messages the reader encrypts (with SKReader).
pub(super) const READER_IDENTIFIER: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 0];
/// IV identifier of messages the mdoc encrypts (with SKDevice).
pub(super) const DEVICE_IDENTIFIER: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];

/// The key, identifier and counter of one direction.
///
/// The sender and the receiver of a direction each keep one, so both expect the same counter
/// for the next message; a replayed, dropped or reordered message then fails its GCM tag.
pub(super) struct Channel {
    cipher: Aes256Gcm,
    identifier: [u8; 8],
    /// Counter of the next message; `None` once `u32::MAX` has been used, because the counter
    /// must never wrap (a repeated IV under one GCM key breaks confidentiality and integrity).
    next: Option<u32>,
}

impl Channel {
    /// A direction keyed with `key`, whose first message uses counter 1.
    pub(super) fn new(key: &[u8; 32], identifier: [u8; 8]) -> Result<Self> {
        let cipher = Aes256Gcm::new_from_slice(key)
            .map_err(|_| Error::InvalidKey("AES-256 key must be 32 bytes".into()))?;
        Ok(Channel {
            cipher,
            identifier,
            next: Some(1),
        })
    }

    fn iv(&self) -> Result<(Nonce<Aes256Gcm>, u32)> {
        let counter = self.next.ok_or(Error::SessionCounterExhausted)?;
        let mut iv = [0u8; 12];
        let (id, ctr) = iv.split_at_mut(8);
        id.copy_from_slice(&self.identifier);
        ctr.copy_from_slice(&counter.to_be_bytes());
        Ok((Nonce::<Aes256Gcm>::from(iv), counter))
    }

    /// Encrypts the next message of this direction (no AAD; the tag is appended).
    pub(super) fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let (iv, counter) = self.iv()?;
        let out = self.cipher.encrypt(&iv, plaintext).map_err(|_| {
            // Only a plaintext beyond GCM's 2^36-byte limit gets here.
            Error::InvalidRequest("plaintext too long for AES-GCM".into())
        })?;
        self.next = counter.checked_add(1);
        Ok(out)
    }

    /// Decrypts the next message of this direction. The counter advances only on success, so
    /// a failed message never consumes an IV.
    pub(super) fn open(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        let (iv, counter) = self.iv()?;
        let out = self
            .cipher
            .decrypt(&iv, ciphertext)
            .map_err(|_| Error::SessionDecryption)?;
        self.next = counter.checked_add(1);
        Ok(out)
    }

    #[cfg(test)]
    fn set_next(&mut self, next: u32) {
        self.next = Some(next);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn iv_is_identifier_then_big_endian_counter() {
        let mut c = Channel::new(&KEY, DEVICE_IDENTIFIER).unwrap();
        c.set_next(0x0102_0304);
        let (iv, counter) = c.iv().unwrap();
        assert_eq!(counter, 0x0102_0304);
        assert_eq!(&*iv, [0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
    }

    #[test]
    fn counters_advance_in_step_and_a_replay_fails() {
        let mut tx = Channel::new(&KEY, READER_IDENTIFIER).unwrap();
        let mut rx = Channel::new(&KEY, READER_IDENTIFIER).unwrap();
        let first = tx.seal(b"one").unwrap();
        let second = tx.seal(b"two").unwrap();
        assert_eq!(rx.open(&first).unwrap(), b"one");
        assert_eq!(rx.open(&first), Err(Error::SessionDecryption));
        // The failed replay did not consume counter 2.
        assert_eq!(rx.open(&second).unwrap(), b"two");
    }

    #[test]
    fn the_identifier_separates_the_directions() {
        let mut reader = Channel::new(&KEY, READER_IDENTIFIER).unwrap();
        let mut device = Channel::new(&KEY, DEVICE_IDENTIFIER).unwrap();
        let sealed = reader.seal(b"request").unwrap();
        assert_eq!(device.open(&sealed), Err(Error::SessionDecryption));
    }

    #[test]
    fn the_counter_never_wraps() {
        let mut tx = Channel::new(&KEY, DEVICE_IDENTIFIER).unwrap();
        let mut rx = Channel::new(&KEY, DEVICE_IDENTIFIER).unwrap();
        tx.set_next(u32::MAX);
        rx.set_next(u32::MAX);
        let last = tx.seal(b"last").unwrap();
        assert_eq!(rx.open(&last).unwrap(), b"last");
        assert_eq!(tx.seal(b"wrap"), Err(Error::SessionCounterExhausted));
        assert_eq!(rx.open(&last), Err(Error::SessionCounterExhausted));
    }
}
