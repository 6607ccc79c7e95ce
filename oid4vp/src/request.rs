//! (filled in by the OpenID4VP work of issue 15)
