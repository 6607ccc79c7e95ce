//! The OpenAPI 3.1 document of the API, generated from the code: the operations from the
//! handlers' `#[utoipa::path]` attributes through the route table ([`super::routes`]), the
//! schemas from the request and response types (`ToSchema`), the error responses from
//! [`super::spec`]. Served at `GET /openapi.json`, built and serialized once.

use std::sync::LazyLock;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use super::documents::OptionalRevokeBody;
use super::error::{ErrorBody, OAuthErrorBody};
use super::routes;
use super::spec::{register_error_responses, ACCESS_TOKEN, BEARER};

/// The document's frame: info, tags, the security scheme and the shared components. The
/// operations are added from the route table by [`document`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "mdoc-issuer API",
        version = "1",
        description = "ISO/IEC 18013-5 mdoc issuance, refresh and revocation.

The issuer service's versioned HTTP API. Authenticated routes take `Authorization: Bearer <token>` \
of an API client holding the scope the operation needs (`issue`, `revoke`, `admin`); each client \
has its own rate limit.

Every refusal is a JSON error (`ErrorBody`) with a 4xx status naming the field and the reason, and \
has no side effect; refusals on the `/v1` API routes (not the public lists) are recorded in the \
audit log with the client, route, status, code and field paths (never values). 5xx only for \
faults of the service itself. Unknown routes are 404 (`#/components/responses/NotFound`) and \
wrong methods 405 (`#/components/responses/MethodNotAllowed`), both as JSON errors.

Request bodies are `application/json` (else 415) of at most `server.max_body_bytes` (else 413); \
unknown fields are refused.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "issuance", description = "Nonces, issuance and refresh (scope `issue`)."),
        (name = "revocation", description = "Revoking documents (scope `revoke`) and DS \
            certificates (scope `admin`)."),
        (name = "lists", description = "Public revocation lists, signed CWTs, cacheable."),
        (name = "operations", description = "Health, readiness, metrics, this document."),
        (name = "administration", description = "The emergency stop of new issuance."),
        (name = "offers", description = "OpenID4VCI credential offers made by the portal \
            (scope `issue`)."),
        (name = "oid4vci", description = "The wallet's OpenID4VCI 1.0 pre-authorized code \
            flow: metadata, offers by reference, token, nonce, credential, deferred \
            credential, notification. Errors are OAuth's `{error, error_description}` \
            (`OAuthErrorBody`)."),
    ),
    modifiers(&Shared),
)]
pub struct ApiDoc;

/// Adds the bearer scheme, the error body schema (with what it refers to) and the error
/// responses.
struct Shared;

impl Modify for Shared {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("mdi_<base64url of 256 random bits>")
                    .description(Some(
                        "An API client token. The client's scopes (`issue`, `revoke`, `admin`) \
                         decide which operations it may call; the scopes listed in each \
                         operation's security requirement are the ones it needs. Missing, \
                         unknown or disabled tokens are 401 `unauthorized`; a missing scope is \
                         403 `insufficient_scope`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            ACCESS_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An OpenID4VCI access token from the token endpoint: \
                         `Authorization: Bearer <token>`, or `Authorization: DPoP <token>` with \
                         a `DPoP` proof when the token is DPoP-bound (RFC 9449).",
                    ))
                    .build(),
            ),
        );
        let mut schemas = vec![
            (ErrorBody::name().into_owned(), ErrorBody::schema()),
            (
                OAuthErrorBody::name().into_owned(),
                OAuthErrorBody::schema(),
            ),
        ];
        ErrorBody::schemas(&mut schemas);
        components.schemas.extend(schemas);
        register_error_responses(components);
    }
}

/// The whole document: [`ApiDoc`] with every operation of the route table.
pub fn document() -> &'static Document {
    static DOCUMENT: LazyLock<Document> = LazyLock::new(|| {
        let mut doc = ApiDoc::openapi().merge_from(routes::table().into_openapi());
        OptionalRevokeBody.modify(&mut doc);
        // axum's catch-all segment `{*name}` is the OpenAPI path parameter `{name}`.
        let paths = std::mem::take(&mut doc.paths.paths);
        doc.paths.paths = paths
            .into_iter()
            .map(|(path, item)| (path.replace("{*", "{"), item))
            .collect();
        doc
    });
    &DOCUMENT
}

/// [`document`] as JSON, serialized once (an error only if serde_json cannot write the
/// document, which holds plain data).
pub fn json() -> Result<&'static str, &'static serde_json::Error> {
    static JSON: LazyLock<Result<String, serde_json::Error>> =
        LazyLock::new(|| document().to_json());
    JSON.as_ref().map(String::as_str)
}
