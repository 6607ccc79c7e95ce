//! JOSE (RFC 7515/7516/7517/7518/7638) shared by the issuer and both SDKs.
#![forbid(unsafe_code)]
