//! Accounts and tokens: sign up, log in (JSON or the OAuth2 form), refresh,
//! log out, change the password, delete the account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jwt_guard::{IssuedToken, Token, TokenKind, TokenManager, require_token};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::AppState;
use crate::db::{hash_password, verify_password};
use crate::error::{ApiError, ErrorBody, Form, Json, Path};

#[derive(Deserialize, ToSchema)]
pub struct Credentials {
    pub(crate) username: String,
    pub(crate) password: String,
}

/// OAuth2's password grant (RFC 6749 §4.3): the form OAuth2 clients send.
#[derive(Deserialize, ToSchema)]
pub struct TokenForm {
    /// `password`, or left out.
    #[schema(example = "password")]
    grant_type: Option<String>,
    username: String,
    password: String,
}

#[derive(Serialize, sqlx::FromRow, ToSchema)]
pub struct User {
    username: String,
    is_admin: bool,
    created_at: String,
}

fn check_username(username: &str) -> Result<(), ApiError> {
    let valid = (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "username must be 3 to 32 characters of a-z, 0-9, `_` and `-`",
        ))
    }
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if (8..=128).contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "password must be 8 to 128 characters",
        ))
    }
}

/// Creates an account. The first account is the admin.
#[utoipa::path(
    post,
    path = "/signup",
    request_body = Credentials,
    responses(
        (status = 201, description = "Created", body = User),
        (status = 400, description = "Invalid username or password", body = ErrorBody),
        (status = 409, description = "The username is taken", body = ErrorBody)
    )
)]
pub async fn signup(
    State(state): State<AppState>,
    Json(new): Json<Credentials>,
) -> Result<impl IntoResponse, ApiError> {
    check_username(&new.username)?;
    check_password(&new.password)?;
    let hash = hash_password(new.password).await?;
    let inserted = sqlx::query(
        "INSERT INTO users (username, password_hash, is_admin)
         VALUES (?, ?, NOT EXISTS (SELECT 1 FROM users))",
    )
    .bind(&new.username)
    .bind(&hash)
    .execute(&state.db)
    .await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "username_taken",
                format!("`{}` is taken", new.username),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let user = find_user(&state, &new.username).await?;
    Ok((StatusCode::CREATED, axum::Json(user)))
}

async fn find_user(state: &AppState, username: &str) -> Result<User, ApiError> {
    sqlx::query_as::<_, User>("SELECT username, is_admin, created_at FROM users WHERE username = ?")
        .bind(username)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))
}

/// The user, if the password is theirs.
async fn authenticate(
    state: &AppState,
    username: &str,
    password: String,
) -> Result<Option<bool>, ApiError> {
    let row: Option<(String, bool)> =
        sqlx::query_as("SELECT password_hash, is_admin FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(&state.db)
            .await?;
    let (hash, is_admin) = row.map_or((None, false), |(hash, admin)| (Some(hash), admin));
    Ok(verify_password(password, hash).await?.then_some(is_admin))
}

/// A fresh access token and a refresh token, both carrying the admin flag:
/// a new family (login session), which logout or a refresh-token reuse
/// revokes as a whole.
fn token_pair(
    manager: &TokenManager,
    username: &str,
    is_admin: bool,
) -> Result<(IssuedToken, IssuedToken), ApiError> {
    let scope = json!({ "admin": is_admin });
    let refresh = manager
        .refresh_token(username)
        .scope(scope.clone())
        .sign()?;
    let access = manager
        .access_token(username)
        .fresh(true)
        .scope(scope)
        .family(&refresh)
        .sign()?;
    Ok((access, refresh))
}

/// Checks the password and issues a token pair (a new login); `None` for
/// wrong credentials. Every way to log in goes through here.
pub(crate) async fn log_in(
    state: &AppState,
    manager: &TokenManager,
    username: &str,
    password: String,
) -> Result<Option<(IssuedToken, IssuedToken)>, ApiError> {
    let Some(is_admin) = authenticate(state, username, password).await? else {
        return Ok(None);
    };
    token_pair(manager, username, is_admin).map(Some)
}

/// The answer to wrong credentials on the JSON logins.
pub(crate) fn wrong_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong username or password",
    )
}

/// A token pair, as OAuth2's token endpoint answers (RFC 6749 §5.1).
#[derive(Serialize, ToSchema)]
pub struct TokenPair {
    access_token: String,
    refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
}

fn token_body(access: &IssuedToken, refresh: &IssuedToken) -> TokenPair {
    TokenPair {
        access_token: access.as_str().to_owned(),
        refresh_token: refresh.as_str().to_owned(),
        token_type: "Bearer",
        expires_in: access.expires_in(),
    }
}

/// Logs in with a JSON body; issues a fresh access token and a refresh token.
#[utoipa::path(
    post,
    path = "/login",
    request_body = Credentials,
    responses(
        (status = 200, description = "A fresh access token and a refresh token", body = TokenPair),
        (status = 401, description = "Wrong username or password", body = ErrorBody)
    )
)]
pub async fn login(
    State(state): State<AppState>,
    manager: TokenManager,
    Json(credentials): Json<Credentials>,
) -> Result<axum::Json<TokenPair>, ApiError> {
    log_in(
        &state,
        &manager,
        &credentials.username,
        credentials.password,
    )
    .await?
    .map(|(access, refresh)| axum::Json(token_body(&access, &refresh)))
    .ok_or_else(wrong_credentials)
}

/// OAuth2 token endpoint (form: `username`, `password`, optional
/// `grant_type=password`), so OAuth2 clients and Swagger UI can log in.
#[utoipa::path(
    post,
    path = "/token",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A fresh access token and a refresh token", body = TokenPair),
        (status = 400, description = "Wrong username or password (`invalid_grant`), or another grant type", body = ErrorBody)
    )
)]
pub async fn token(
    State(state): State<AppState>,
    manager: TokenManager,
    Form(form): Form<TokenForm>,
) -> Result<axum::Json<TokenPair>, ApiError> {
    if form.grant_type.as_deref().is_some_and(|g| g != "password") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=password is supported",
        ));
    }
    log_in(&state, &manager, &form.username, form.password)
        .await?
        .map(|(access, refresh)| axum::Json(token_body(&access, &refresh)))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "wrong username or password",
            )
        })
}

/// Exchanges a refresh token for a new (not fresh) access token and a new
/// refresh token of the same family. Refresh tokens are single-use: the
/// presented one is consumed, and presenting it again revokes the family
/// (every token of that login) and is refused.
#[require_token(refresh)]
#[utoipa::path(
    post,
    path = "/refresh",
    responses((status = 200, description = "A new pair of the same family", body = TokenPair))
)]
pub async fn refresh(
    manager: TokenManager,
    token: Token,
) -> Result<axum::Json<TokenPair>, Response> {
    let (access, refresh) = manager
        .rotate(&token)
        .await
        .map_err(|error| error.to_response(manager.realm()))?;
    Ok(axum::Json(token_body(&access, &refresh)))
}

#[derive(Deserialize, Default, ToSchema)]
pub struct Logout {
    refresh_token: Option<String>,
}

/// Ends the login session: revokes the access token's family (the refresh
/// token and every access token of that login), and the family of the
/// refresh token if one is given.
#[require_token]
#[utoipa::path(
    post,
    path = "/logout",
    request_body(content = Option<Logout>, description = "Optionally, the refresh token of another login to end too"),
    responses(
        (status = 204, description = "Logged out"),
        (status = 400, description = "Not a refresh token of yours", body = ErrorBody)
    )
)]
pub async fn logout(
    manager: TokenManager,
    token: Token,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let body: Logout = if body.is_empty() {
        Logout::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    // Check the refresh token before anything is revoked: it is often of
    // the very family the access token ends.
    let refresh = match body.refresh_token {
        Some(refresh) => match manager.verify(&refresh, TokenKind::Refresh).await {
            Ok(refresh) if refresh.sub() == token.sub() => Some(refresh),
            _ => {
                return Err(ApiError::bad_request(
                    "refresh_token is not a valid refresh token of yours",
                ));
            }
        },
        None => None,
    };
    manager.revoke_family(&token).await?;
    if let Some(refresh) = refresh {
        manager.revoke_family(&refresh).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A user's profile, with the number of their posts.
#[derive(Serialize, ToSchema)]
pub struct Profile {
    username: String,
    is_admin: bool,
    created_at: String,
    posts: i64,
}

/// A user's profile: theirs, or any for an admin.
#[require_token(sub = "username", override(admin = true))]
#[utoipa::path(
    get,
    path = "/users/{username}",
    params(("username" = String, Path, description = "The user")),
    responses(
        (status = 200, description = "The profile", body = Profile),
        (status = 404, description = "No such user", body = ErrorBody)
    )
)]
pub async fn profile(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> Result<axum::Json<Profile>, ApiError> {
    let user = find_user(&state, &username).await?;
    let (posts,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM posts JOIN users ON users.id = posts.author_id WHERE users.username = ?",
    )
    .bind(&username)
    .fetch_one(&state.db)
    .await?;
    Ok(axum::Json(Profile {
        username: user.username,
        is_admin: user.is_admin,
        created_at: user.created_at,
        posts,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewPassword {
    new_password: String,
}

/// Changes one's own password: needs a fresh token (a real login, not a
/// refresh). Every token of the user is revoked; log in again.
#[require_token(fresh, sub = "username")]
#[utoipa::path(
    put,
    path = "/users/{username}/password",
    params(("username" = String, Path, description = "You")),
    request_body = NewPassword,
    responses(
        (status = 204, description = "Changed; every token of the user is revoked"),
        (status = 400, description = "Invalid password", body = ErrorBody)
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    manager: TokenManager,
    Path(username): Path<String>,
    Json(body): Json<NewPassword>,
) -> Result<StatusCode, ApiError> {
    check_password(&body.new_password)?;
    let hash = hash_password(body.new_password).await?;
    let updated = sqlx::query("UPDATE users SET password_hash = ? WHERE username = ?")
        .bind(&hash)
        .bind(&username)
        .execute(&state.db)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::not_found("user"));
    }
    manager.revoke_subject(&username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an account and its posts: the user's own with a fresh token, or
/// any by a (fresh) admin. Every token of the user is revoked.
#[require_token(fresh, sub = "username", override(admin = true))]
#[utoipa::path(
    delete,
    path = "/users/{username}",
    params(("username" = String, Path, description = "The user")),
    responses(
        (status = 204, description = "Deleted, with their posts; every token of the user is revoked"),
        (status = 404, description = "No such user", body = ErrorBody)
    )
)]
pub async fn delete_account(
    State(state): State<AppState>,
    manager: TokenManager,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let deleted = sqlx::query("DELETE FROM users WHERE username = ?")
        .bind(&username)
        .execute(&state.db)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(ApiError::not_found("user"));
    }
    manager.revoke_subject(&username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every user: admins only.
#[require_token(scope(admin = true))]
#[utoipa::path(
    get,
    path = "/admin/users",
    responses((status = 200, description = "Every user", body = Vec<User>))
)]
pub async fn all_users(State(state): State<AppState>) -> Result<axum::Json<Vec<User>>, ApiError> {
    let users =
        sqlx::query_as::<_, User>("SELECT username, is_admin, created_at FROM users ORDER BY id")
            .fetch_all(&state.db)
            .await?;
    Ok(axum::Json(users))
}
