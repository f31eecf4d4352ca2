//! A mini-blog API guarded by jwt-guard: sign up, log in, write posts; a
//! page to do so from a browser at `/`, and the API's docs at `/docs`.
//!
//! ```sh
//! cargo run -p example-blog
//! ```
//!
//! Runs with no configuration: SQLite in `blog.db` (created and migrated on
//! first run), revocations in memory, and a generated secret when
//! `JWT_GUARD_SECRET` is not set. Settings, all optional:
//!
//! - `BLOG_DATABASE`: a SQLite URL (default `sqlite://blog.db`)
//! - `BLOG_ADDR`: where to listen (default `127.0.0.1:3000`)
//! - `JWT_GUARD_*`: the token manager (see jwt-guard's README);
//!   `JWT_GUARD_REDIS_URL` shares revocations between instances through
//!   Redis. Refresh tokens are single-use unless
//!   `JWT_GUARD_REFRESH_ROTATION=false`.

use jwt_guard::TokenManagerBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,jwt_guard=debug,sqlx=warn".into()),
        )
        .init();

    let mut builder = TokenManagerBuilder::from_env()?;
    if builder.has_key() {
        tracing::info!("signing tokens with the key from JWT_GUARD_*");
    } else {
        builder = builder.hs256(jwt_guard::generate_secret());
        tracing::warn!(
            "JWT_GUARD_SECRET is not set: signing with a generated development secret; \
             tokens will not survive a restart"
        );
    }
    let manager = example_blog::token_settings(builder).build()?;

    let database = std::env::var("BLOG_DATABASE").unwrap_or_else(|_| "sqlite://blog.db".into());
    let db = example_blog::open(&database).await?;
    tracing::info!(%database, "database ready");

    let addr = std::env::var("BLOG_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!(
        "blog listening on http://{addr}: the page at http://{addr}/, the API docs at \
         http://{addr}/docs; the README's walk-through shows what to send"
    );
    axum::serve(listener, example_blog::router(db, &manager))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
