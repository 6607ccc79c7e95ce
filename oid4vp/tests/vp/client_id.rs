use mdoc_oid4vp::request::{ClientId, ClientIdError};

#[test]
fn prefixes_parse_to_their_variant() {
    assert_eq!(
        ClientId::parse("redirect_uri:https://rp.example/cb").unwrap(),
        ClientId::RedirectUri("https://rp.example/cb".into())
    );
    assert_eq!(
        ClientId::parse("x509_san_dns:rp.example.com").unwrap(),
        ClientId::X509SanDns("rp.example.com".into())
    );
    let hash = ClientId::parse("x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk").unwrap();
    assert!(matches!(hash, ClientId::X509Hash(h) if h[0] == 0x52));
    for (id, prefix) in [
        (
            "decentralized_identifier:did:example:123",
            "decentralized_identifier",
        ),
        (
            "verifier_attestation:verifier.example",
            "verifier_attestation",
        ),
        ("openid_federation:https://fed.example", "openid_federation"),
        ("https://rp.example", "https"),
    ] {
        assert_eq!(
            ClientId::parse(id).unwrap(),
            ClientId::Unsupported {
                prefix: prefix.into()
            }
        );
    }
    assert_eq!(
        ClientId::parse("example-client").unwrap(),
        ClientId::PreRegistered("example-client".into())
    );
}

#[test]
fn malformed_values_and_origin_are_refused() {
    assert_eq!(
        ClientId::parse("origin:https://rp.example"),
        Err(ClientIdError::OriginPrefix)
    );
    assert_eq!(
        ClientId::parse("redirect_uri:http://rp.example/cb"),
        Err(ClientIdError::RedirectUri)
    );
    assert_eq!(
        ClientId::parse("redirect_uri:not a url"),
        Err(ClientIdError::RedirectUri)
    );
    assert_eq!(
        ClientId::parse("x509_san_dns:rp.example.com/x"),
        Err(ClientIdError::DnsName)
    );
    assert_eq!(
        ClientId::parse("x509_san_dns:-rp.example"),
        Err(ClientIdError::DnsName)
    );
    assert_eq!(
        ClientId::parse("x509_san_dns:"),
        Err(ClientIdError::DnsName)
    );
    assert_eq!(ClientId::parse("x509_hash:AAAA"), Err(ClientIdError::Hash));
    assert_eq!(
        ClientId::parse("x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZsz+"),
        Err(ClientIdError::Hash)
    );
    assert!(matches!(
        ClientId::parse(""),
        Err(ClientIdError::Length { .. })
    ));
    assert!(matches!(
        ClientId::parse(&"a".repeat(5000)),
        Err(ClientIdError::Length { .. })
    ));
}
