use mdoc_oid4vp::request::{
    parse_request_url, request_uri_url, ClientId, RequestError, RequestUriMethod, RequestUrl,
};

use crate::fixtures::*;

#[test]
fn by_reference_round_trips_with_its_method() {
    for method in [RequestUriMethod::Get, RequestUriMethod::Post] {
        let url = request_uri_url(
            "openid4vp://",
            "x509_san_dns:client.example.org",
            "https://client.example.org/request/vapof4ql2i7m41m68uep",
            method,
        );
        assert_eq!(
            parse_request_url(&url).unwrap(),
            RequestUrl::ByReference {
                client_id: Some("x509_san_dns:client.example.org".into()),
                request_uri: "https://client.example.org/request/vapof4ql2i7m41m68uep".into(),
                method,
            }
        );
    }
}

#[test]
fn by_value_returns_the_jwt_and_client_id() {
    let url = "openid4vp://?client_id=x509_hash%3Aabc&request=eyJh.eyJi.c2ln";
    assert_eq!(
        parse_request_url(url).unwrap(),
        RequestUrl::ByValue {
            client_id: Some("x509_hash:abc".into()),
            request: "eyJh.eyJi.c2ln".into()
        }
    );
}

#[test]
fn plain_parameters_are_checked_as_an_unsigned_request() {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in direct_post().as_object().unwrap() {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        q.append_pair(k, &v);
    }
    let url = format!("openid4vp://?{}", q.finish());
    let RequestUrl::Unsigned(v) = parse_request_url(&url).unwrap() else {
        panic!("not unsigned")
    };
    assert_eq!(
        v.client_id,
        Some(ClientId::RedirectUri(RESPONSE_URI.into()))
    );
    assert_eq!(v.request.dcql_query, dcql());
    // The same parameters with an x509 client id are refused: nothing signed them.
    let url = format!("{url}&client_id=x509_san_dns%3Averifier.example.org").replace(
        &format!(
            "client_id=redirect_uri%3A{}&",
            form_urlencoded::byte_serialize(RESPONSE_URI.as_bytes()).collect::<String>()
        ),
        "",
    );
    assert_eq!(
        parse_request_url(&url).unwrap_err(),
        RequestError::UnsignedX509("x509_san_dns")
    );
}

#[test]
fn malformed_urls_are_typed() {
    let e = |u: &str| parse_request_url(u).unwrap_err();
    assert_eq!(
        e("openid4vp://?request=a.b.c&request_uri=https://x.example/r"),
        RequestError::Url("both request and request_uri")
    );
    assert_eq!(
        e("openid4vp://?request_uri=https://x.example/r&request_uri_method=put"),
        RequestError::Url("request_uri_method must be get or post")
    );
    assert_eq!(
        e("openid4vp://?request=a.b.c&request_uri_method=post"),
        RequestError::Url("request_uri_method without request_uri")
    );
    assert_eq!(
        e("openid4vp://?request_uri=http://x.example/r"),
        RequestError::Uri("request_uri")
    );
    assert!(matches!(
        e("openid4vp://?client_id=a&client_id=b&request=x"),
        RequestError::Malformed(_)
    ));
    assert!(matches!(
        e("openid4vp://?dcql_query=%7Bnot"),
        RequestError::Malformed(_)
    ));
    assert!(matches!(
        e(&format!("openid4vp://?x={}", "a".repeat(70_000))),
        RequestError::TooLong { .. }
    ));
}
