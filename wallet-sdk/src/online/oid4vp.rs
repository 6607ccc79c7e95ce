//! The wallet's end of OpenID4VP 1.0 (filled in with the request model).

use std::collections::BTreeMap;

use mso::model::SessionTranscript;

use super::pending::Offered;
use super::types::{OnlineAnswer, OnlineConsentRequest, OnlineRequest};
use crate::error::{Result, WalletError};
use crate::wallet::Wallet;

pub(crate) struct OpenId4Vp {
    pub(crate) transcript: SessionTranscript,
}

impl OpenId4Vp {
    pub(crate) fn read(
        _wallet: &Wallet,
        _request: &OnlineRequest,
        _at: i64,
    ) -> Result<(Self, OnlineConsentRequest, BTreeMap<String, Offered>)> {
        Err(WalletError::internal("todo"))
    }
    pub(crate) fn answer(&self, _responses: Vec<(String, Vec<u8>)>) -> Result<OnlineAnswer> {
        Err(WalletError::internal("todo"))
    }
    pub(crate) fn decline(&self) -> Result<Option<OnlineAnswer>> {
        Ok(None)
    }
}
