//! The SQL files of `migrations/<backend>/`, embedded, run by sqlx's migrator (which records
//! applied versions and their checksums in `_sqlx_migrations`).

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

use sqlx::AnyPool;

use super::{Backend, DbError};

/// (version, description, SQL) per backend; both lists must stay in step.
const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "chat notifications",
        include_str!("../../../migrations/sqlite/0002_chat_notifications.sql"),
    ),
    (
        3,
        "queue order",
        include_str!("../../../migrations/sqlite/0003_queue_order.sql"),
    ),
    (
        4,
        "categories tags",
        include_str!("../../../migrations/sqlite/0004_categories_tags.sql"),
    ),
    (
        5,
        "rate limits",
        include_str!("../../../migrations/sqlite/0005_rate_limits.sql"),
    ),
    (
        6,
        "selection goals",
        include_str!("../../../migrations/sqlite/0006_selection_goals.sql"),
    ),
    (
        7,
        "tracker passkeys",
        include_str!("../../../migrations/sqlite/0007_tracker_passkeys.sql"),
    ),
    (
        8,
        "folders",
        include_str!("../../../migrations/sqlite/0008_folders.sql"),
    ),
    (
        9,
        "public",
        include_str!("../../../migrations/sqlite/0009_public.sql"),
    ),
    (
        10,
        "previews seeding",
        include_str!("../../../migrations/sqlite/0010_previews_seeding.sql"),
    ),
];
const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "chat notifications",
        include_str!("../../../migrations/postgres/0002_chat_notifications.sql"),
    ),
    (
        3,
        "queue order",
        include_str!("../../../migrations/postgres/0003_queue_order.sql"),
    ),
    (
        4,
        "categories tags",
        include_str!("../../../migrations/postgres/0004_categories_tags.sql"),
    ),
    (
        5,
        "rate limits",
        include_str!("../../../migrations/postgres/0005_rate_limits.sql"),
    ),
    (
        6,
        "selection goals",
        include_str!("../../../migrations/postgres/0006_selection_goals.sql"),
    ),
    (
        7,
        "tracker passkeys",
        include_str!("../../../migrations/postgres/0007_tracker_passkeys.sql"),
    ),
    (
        8,
        "folders",
        include_str!("../../../migrations/postgres/0008_folders.sql"),
    ),
    (
        9,
        "public",
        include_str!("../../../migrations/postgres/0009_public.sql"),
    ),
    (
        10,
        "previews seeding",
        include_str!("../../../migrations/postgres/0010_previews_seeding.sql"),
    ),
];

fn migrator(backend: Backend) -> Migrator {
    let files = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
        // MongoDB has no schema to migrate: `db::mongo::schema` creates its indexes.
        #[cfg(feature = "mongo")]
        Backend::Mongo => &[],
    };
    let migrations: Vec<Migration> = files
        .iter()
        .map(|(version, desc, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*desc),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

pub async fn run(backend: Backend, pool: &AnyPool) -> Result<(), DbError> {
    migrator(backend).run(pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_have_the_same_versions() {
        fn v(l: &[(i64, &'static str, &'static str)]) -> Vec<(i64, &'static str)> {
            l.iter().map(|m| (m.0, m.1)).collect()
        }
        assert_eq!(v(SQLITE), v(POSTGRES));
    }
}
