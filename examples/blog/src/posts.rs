//! Posts: anyone reads them; their author (or an admin) writes them.

use axum::extract::State;
use axum::http::StatusCode;
use jwt_guard::require_token;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorBody, Json, Path, Query};

#[derive(Serialize, sqlx::FromRow, ToSchema)]
pub struct Post {
    id: i64,
    author: String,
    title: String,
    body: String,
    created_at: String,
    updated_at: String,
}

const SELECT: &str =
    "SELECT posts.id, users.username AS author, title, body, posts.created_at, updated_at
                      FROM posts JOIN users ON users.id = posts.author_id";

#[derive(Deserialize, ToSchema)]
pub struct NewPost {
    title: String,
    body: String,
}

/// What to change; what is left out stays.
#[derive(Deserialize, ToSchema)]
pub struct PostUpdate {
    title: Option<String>,
    body: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// From 1.
    #[serde(default = "first_page")]
    #[param(default = 1, minimum = 1)]
    page: u32,
    /// From 1 to 100.
    #[serde(default = "per_page")]
    #[param(default = 20, minimum = 1, maximum = 100)]
    per_page: u32,
    /// Only this user's posts.
    author: Option<String>,
}

const fn first_page() -> u32 {
    1
}

const fn per_page() -> u32 {
    20
}

fn check(title: &str, body: &str) -> Result<(), ApiError> {
    if title.trim().is_empty() || title.chars().count() > 200 {
        return Err(ApiError::bad_request("title must be 1 to 200 characters"));
    }
    if body.chars().count() > 20_000 {
        return Err(ApiError::bad_request(
            "body must be at most 20000 characters",
        ));
    }
    Ok(())
}

async fn fetch(state: &AppState, id: i64) -> Result<Post, ApiError> {
    sqlx::query_as::<_, Post>(&format!("{SELECT} WHERE posts.id = ?"))
        .bind(id)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("post"))
}

/// Every post, or one author's (`?author=alice`), newest first, a page at
/// a time (`?page=1&per_page=20`).
#[utoipa::path(
    get,
    path = "/posts",
    params(Page),
    responses(
        (status = 200, description = "Posts, newest first", body = Vec<Post>),
        (status = 400, description = "A page out of range", body = ErrorBody)
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Query(page): Query<Page>,
) -> Result<axum::Json<Vec<Post>>, ApiError> {
    if page.page == 0 || !(1..=100).contains(&page.per_page) {
        return Err(ApiError::bad_request(
            "page starts at 1; per_page is 1 to 100",
        ));
    }
    let posts = sqlx::query_as::<_, Post>(&format!(
        "{SELECT} WHERE ?1 IS NULL OR users.username = ?1 ORDER BY posts.id DESC LIMIT ?2 OFFSET ?3"
    ))
    .bind(page.author)
    .bind(i64::from(page.per_page))
    .bind(i64::from(page.page - 1) * i64::from(page.per_page))
    .fetch_all(&state.db)
    .await?;
    Ok(axum::Json(posts))
}

/// One post.
#[utoipa::path(
    get,
    path = "/posts/{id}",
    params(("id" = i64, Path, description = "The post")),
    responses(
        (status = 200, description = "The post", body = Post),
        (status = 404, description = "No such post", body = ErrorBody)
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<axum::Json<Post>, ApiError> {
    Ok(axum::Json(fetch(&state, id).await?))
}

/// Writes a post as `username`: that user, or an admin on their behalf.
#[require_token(sub = "username", override(admin = true))]
#[utoipa::path(
    post,
    path = "/users/{username}/posts",
    params(("username" = String, Path, description = "The author")),
    request_body = NewPost,
    responses(
        (status = 201, description = "Created", body = Post),
        (status = 400, description = "Invalid title or body", body = ErrorBody)
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Path(username): Path<String>,
    Json(new): Json<NewPost>,
) -> Result<(StatusCode, axum::Json<Post>), ApiError> {
    check(&new.title, &new.body)?;
    let id: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO posts (author_id, title, body)
         SELECT id, ?, ? FROM users WHERE username = ? RETURNING id",
    )
    .bind(new.title.trim())
    .bind(&new.body)
    .bind(&username)
    .fetch_optional(&state.db)
    .await?;
    let (id,) = id.ok_or_else(|| ApiError::not_found("user"))?;
    let post = fetch(&state, id).await?;
    // Live listeners, if any (`/live`).
    if let Ok(json) = serde_json::to_string(&post) {
        let _ = state.posts.send(json);
    }
    Ok((StatusCode::CREATED, axum::Json(post)))
}

/// Edits one of `username`'s posts.
#[require_token(sub = "username", override(admin = true))]
#[utoipa::path(
    put,
    path = "/users/{username}/posts/{id}",
    params(
        ("username" = String, Path, description = "The author"),
        ("id" = i64, Path, description = "The post")
    ),
    request_body = PostUpdate,
    responses(
        (status = 200, description = "Changed", body = Post),
        (status = 404, description = "No such post of theirs", body = ErrorBody)
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, i64)>,
    Json(change): Json<PostUpdate>,
) -> Result<axum::Json<Post>, ApiError> {
    let current = fetch(&state, id).await?;
    if current.author != username {
        return Err(ApiError::not_found("post"));
    }
    let title = change.title.unwrap_or(current.title);
    let body = change.body.unwrap_or(current.body);
    check(&title, &body)?;
    sqlx::query(
        "UPDATE posts SET title = ?, body = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
         WHERE id = ?",
    )
    .bind(title.trim())
    .bind(&body)
    .bind(id)
    .execute(&state.db)
    .await?;
    Ok(axum::Json(fetch(&state, id).await?))
}

/// Deletes one of `username`'s posts.
#[require_token(sub = "username", override(admin = true))]
#[utoipa::path(
    delete,
    path = "/users/{username}/posts/{id}",
    params(
        ("username" = String, Path, description = "The author"),
        ("id" = i64, Path, description = "The post")
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such post of theirs", body = ErrorBody)
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    let deleted = sqlx::query(
        "DELETE FROM posts WHERE id = ? AND author_id = (SELECT id FROM users WHERE username = ?)",
    )
    .bind(id)
    .bind(&username)
    .execute(&state.db)
    .await?;
    if deleted.rows_affected() == 0 {
        return Err(ApiError::not_found("post"));
    }
    Ok(StatusCode::NO_CONTENT)
}
