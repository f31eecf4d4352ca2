//! The browser session of the blog's page: the token pair in cookies set by
//! jwt-guard's helpers (`HttpOnly` tokens, CSRF values the page's script
//! echoes in `X-CSRF-Token`), refreshed and ended through cookies.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jwt_guard::{Token, TokenManager, require_token};
use serde_json::json;

use crate::AppState;
use crate::accounts::{Credentials, log_in, wrong_credentials};
use crate::error::{ApiError, ErrorBody, Json};

/// Who is logged in, and for how long the access token lasts.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Session {
    username: String,
    /// Seconds until the access token expires.
    expires_in: u64,
}

/// Logs in: the access and refresh tokens in cookies, and who logged in.
///
/// A page of another origin cannot log a visitor in as someone else (login
/// CSRF): this takes JSON only, which a browser sends across origins only
/// after a CORS preflight that the blog never grants.
#[utoipa::path(
    post,
    path = "/session",
    request_body = Credentials,
    responses(
        (status = 200, description = "Logged in: the tokens and their CSRF values in `Set-Cookie`", body = Session),
        (status = 401, description = "Wrong username or password", body = ErrorBody)
    )
)]
pub async fn create(
    State(state): State<AppState>,
    manager: TokenManager,
    Json(credentials): Json<Credentials>,
) -> Result<Response, ApiError> {
    let (access, refresh) = log_in(
        &state,
        &manager,
        &credentials.username,
        credentials.password,
    )
    .await?
    .ok_or_else(wrong_credentials)?;
    let body = Session {
        username: credentials.username,
        expires_in: access.expires_in(),
    };
    Ok((access.cookies(), refresh.cookies(), axum::Json(body)).into_response())
}

/// Who the session's access token is for.
#[require_token(location(cookie))]
#[utoipa::path(
    get,
    path = "/session",
    responses((status = 200, description = "Who is logged in", body = Object, example = json!({ "username": "alice" })))
)]
pub async fn show(token: Token) -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "username": token.sub() }))
}

/// Exchanges the refresh cookie for a new pair of cookies (single-use, as
/// `/refresh`).
#[require_token(refresh, location(cookie))]
#[utoipa::path(
    post,
    path = "/session/refresh",
    responses((status = 200, description = "New cookies of the same login", body = Session))
)]
pub async fn refresh(manager: TokenManager, token: Token) -> Result<Response, Response> {
    let (access, refresh) = manager
        .rotate(&token)
        .await
        .map_err(|error| error.to_response(manager.realm()))?;
    let body = Session {
        username: token.sub().to_owned(),
        expires_in: access.expires_in(),
    };
    Ok((access.cookies(), refresh.cookies(), axum::Json(body)).into_response())
}

/// Logs out: revokes the login's family (its refresh token and every access
/// token of it) and clears the cookies.
#[require_token(location(cookie))]
#[utoipa::path(
    delete,
    path = "/session",
    responses((status = 204, description = "Logged out: the login revoked, the cookies cleared"))
)]
pub async fn log_out(manager: TokenManager, token: Token) -> Result<Response, ApiError> {
    manager.revoke_family(&token).await?;
    Ok((manager.clear_cookies(), StatusCode::NO_CONTENT).into_response())
}
