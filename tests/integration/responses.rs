//! The table of responses, word for word: each refusal's status, error
//! code, message, challenge and body, as README.md documents them. The
//! refusal helper (`Reply::assert_refused`) builds what it expects from
//! an `AuthError`; this table pins what that means.

use jwt_guard::{AuthError, Forbidden, InvalidRequest, InvalidToken, TokenKind};
use serde_json::json;

use crate::common::*;

/// `(error, status, code, message)`: every kind of refusal.
fn table() -> Vec<(AuthError, u16, Option<&'static str>, &'static str)> {
    use InvalidRequest as R;
    use InvalidToken as T;
    let token = |reason: T, message| (AuthError::from(reason), 401, Some("invalid_token"), message);
    let request = |reason: R, message| {
        (
            AuthError::from(reason),
            400,
            Some("invalid_request"),
            message,
        )
    };
    let forbidden = |reason: Forbidden, message| {
        (
            AuthError::from(reason),
            403,
            Some("insufficient_scope"),
            message,
        )
    };
    vec![
        (AuthError::Missing, 401, None, "a bearer token is required"),
        request(R::EmptyBearer, "the Bearer scheme needs a token"),
        request(R::DuplicateHeader, "more than one Authorization header"),
        request(R::AmbiguousToken, "a token was sent in more than one place"),
        request(R::DuplicateCookie, "more than one cookie carries the token"),
        request(R::BadHeader, "the Authorization header is not valid"),
        token(T::Malformed, "token is malformed"),
        token(T::TooLarge, "token is too large"),
        token(T::Header, "token header is not accepted"),
        token(T::Algorithm, "token algorithm is not accepted"),
        token(T::UnknownKey, "token key id is unknown"),
        token(T::Signature, "token signature is invalid"),
        token(T::Claims, "token claims are malformed"),
        token(T::Expired, "token has expired"),
        token(T::NotYetValid, "token is not yet valid"),
        token(T::IssuedInFuture, "token was issued in the future"),
        token(T::Lifetime, "token lives longer than this server allows"),
        token(T::Issuer, "token issuer is not accepted"),
        token(T::Audience, "token audience is not accepted"),
        token(
            T::WrongKind {
                expected: TokenKind::Access,
            },
            "refresh token used where an access token is required",
        ),
        token(
            T::WrongKind {
                expected: TokenKind::Refresh,
            },
            "access token used where a refresh token is required",
        ),
        token(T::Revoked, "token has been revoked"),
        token(T::Reused, "refresh token was already used"),
        token(T::Csrf, "CSRF token missing or does not match"),
        token(
            T::Origin,
            "a cookie-borne token is not accepted from this origin",
        ),
        (
            AuthError::NotFresh,
            401,
            Some("insufficient_user_authentication"),
            "fresh token required",
        ),
        forbidden(
            Forbidden::PathMismatch {
                claim: "sub",
                param: "username",
            },
            "token `sub` does not match the `username` path parameter",
        ),
        forbidden(
            Forbidden::ClaimMismatch { claim: "tenant" },
            "token claim `tenant` does not have the required value",
        ),
        forbidden(
            Forbidden::Scope {
                missing: vec!["posts:write", "admin"],
            },
            "token scope lacks `posts:write`, `admin`",
        ),
    ]
}

#[tokio::test]
async fn every_refusal_word_for_word() {
    for (error, status, code, message) in table() {
        let reply = read(error.to_response(REALM)).await;
        assert_eq!(reply.status.as_u16(), status, "{error:?}");
        assert_eq!(
            reply.json(),
            json!({"error": code.unwrap_or("unauthorized"), "message": message}),
            "{error:?}"
        );
        let mut challenge = r#"Bearer realm="test""#.to_owned();
        if let Some(code) = code {
            challenge += &format!(r#", error="{code}", error_description="{message}""#);
        }
        if matches!(error, AuthError::Forbidden(Forbidden::Scope { .. })) {
            challenge += r#", scope="posts:write admin""#;
        }
        assert_eq!(reply.challenge(), Some(challenge.as_str()), "{error:?}");
        // The helper agrees with the table.
        reply.refused(error, &[]);
    }
}

#[tokio::test]
async fn server_errors_carry_no_challenge_and_no_detail() {
    let reply =
        read(AuthError::Misconfigured("no TokenManager: add `manager.layer()`").to_response(REALM))
            .await;
    assert_eq!(
        (reply.status.as_u16(), reply.challenge(), reply.json()),
        (
            500,
            None,
            json!({
                "error": "server_error",
                "message": "the server could not check the request's credentials",
            })
        ),
    );
    assert_eq!(reply.headers.get("retry-after"), None);
    // Revocation state unavailable: 503, retry in a second (OAuth2's
    // `temporarily_unavailable`).
    let reply = read(AuthError::StoreUnavailable.to_response(REALM)).await;
    assert_eq!(
        (
            reply.status.as_u16(),
            reply.challenge(),
            reply
                .headers
                .get("retry-after")
                .map(|v| v.to_str().unwrap()),
            reply.json()
        ),
        (
            503,
            None,
            Some("1"),
            json!({
                "error": "temporarily_unavailable",
                "message": "the server cannot check credentials right now; retry shortly",
            })
        ),
    );
    assert_eq!(AuthError::StoreUnavailable.retry_after(), Some(1));
    assert_eq!(AuthError::Missing.retry_after(), None);
}

#[tokio::test]
async fn the_realm_is_quoted() {
    // RFC 9110 §5.6.4: `"` and `\` are escaped in a quoted string; what a
    // header cannot carry is dropped.
    let reply = read(AuthError::Missing.to_response("my \"api\" \\ caf\u{e9}")).await;
    assert_eq!(
        reply.challenge(),
        Some(r#"Bearer realm="my \"api\" \\ caf""#)
    );
}
