//! Signed links: a URL that lets whoever holds it stream one file until it expires, for
//! players that cannot send the login cookie (VLC, mpv, a `<video>` on another origin).
//! Bound to the user and their token version, so a password change revokes them.

use serde::{Deserialize, Serialize};

use super::jwt::TokenError;
use super::{role_of, AuthUser};
use crate::api::errors::ApiError;
use crate::db::{now_unix, users};
use crate::state::AppState;

/// How long a link works.
pub const LINK_TTL_SECS: u64 = 6 * 3600;

/// What a link token says. `file` and `ih` make it differ from a login token's claims.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct LinkClaims {
    sub: String,
    ver: i64,
    ih: String,
    file: usize,
    exp: u64,
}

/// A token for `user` to stream file `file` of torrent `ih` (hex); with its expiry.
pub fn sign(
    state: &AppState,
    user: &AuthUser,
    ih: &str,
    file: usize,
) -> Result<(String, u64), ApiError> {
    let exp = now_unix().max(0) as u64 + LINK_TTL_SECS;
    let claims = LinkClaims {
        sub: user.id.to_string(),
        ver: user.token_version,
        ih: ih.to_ascii_lowercase(),
        file,
        exp,
    };
    let token = state
        .keys
        .sign_any(&claims)
        .map_err(|_| ApiError::Internal("cannot sign a link".into()))?;
    Ok((token, exp))
}

/// The user a link token stands for, if it is valid for this torrent and file.
pub async fn verify(
    state: &AppState,
    token: &str,
    ih: &str,
    file: usize,
) -> Result<AuthUser, ApiError> {
    let claims: LinkClaims = state.keys.verify_any(token).map_err(|e| match e {
        TokenError::Expired => ApiError::Unauthorized("link expired".into()),
        TokenError::Invalid => ApiError::Unauthorized("invalid link".into()),
    })?;
    if !claims.ih.eq_ignore_ascii_case(ih) || claims.file != file {
        return Err(ApiError::Unauthorized(
            "the link is for another file".into(),
        ));
    }
    let id: i64 = claims
        .sub
        .parse()
        .map_err(|_| ApiError::Unauthorized("invalid link".into()))?;
    let user = users::by_id(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("unknown user".into()))?;
    if user.token_version != claims.ver {
        return Err(ApiError::Unauthorized("link revoked".into()));
    }
    Ok(AuthUser {
        id: user.id,
        role: role_of(&user),
        username: user.username,
        token_version: claims.ver,
        expires_at: claims.exp,
    })
}
