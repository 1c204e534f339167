//! The OpenAPI 3.1 document served at `/api/openapi.json`, written by hand. A test holds it
//! to the router: every routed (method, path) is documented and nothing else is.

use serde_json::{json, Map, Value};

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn json_body(s: Value) -> Value {
    json!({ "content": { "application/json": { "schema": s } } })
}

fn ok(description: &str, s: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": s } } })
}

fn err(description: &str) -> Value {
    ok(description, schema("Error"))
}

const IH: &str = "#/components/parameters/InfoHash";

/// One operation; `auth` false marks a public one.
fn op(summary: &str, auth: bool, mut responses: Vec<(&str, Value)>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("summary".into(), json!(summary));
    if !auth {
        m.insert("security".into(), json!([]));
    } else {
        responses.push(("401", err("missing, expired, forged or revoked token")));
    }
    let r: Map<String, Value> = responses
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    m.insert("responses".into(), Value::Object(r));
    m
}

fn with(mut m: Map<String, Value>, key: &str, v: Value) -> Value {
    m.insert(key.into(), v);
    Value::Object(m)
}

fn torrent_op(summary: &str, responses: Vec<(&str, Value)>) -> Map<String, Value> {
    let mut responses = responses;
    responses.push(("400", err("malformed info-hash")));
    responses.push(("404", err("no such torrent, or not yours")));
    let mut m = op(summary, true, responses);
    m.insert("parameters".into(), json!([{ "$ref": IH }]));
    m
}

fn paths() -> Value {
    let summary_list = json!({ "type": "array", "items": schema("TorrentSummary") });
    json!({
        "/api/health": { "get": Value::Object(op("Engine, database and peer listener status", false, vec![
            ("200", ok("all fine", schema("Health"))), ("503", ok("something is down", schema("Health")))])) },
        "/api/auth/register": { "post": with(op("Create an account (the first becomes admin)", false, vec![
            ("201", ok("created", schema("User"))), ("400", err("bad username or password")),
            ("403", err("registration is closed")), ("409", err("username taken"))]),
            "requestBody", json_body(schema("Credentials"))) },
        "/api/auth/login": { "post": with(op("Log in: a JWT, and the te_session/te_csrf cookies", false, vec![
            ("200", ok("logged in", schema("LoginResponse"))), ("401", err("wrong username or password")),
            ("429", err("too many attempts from this address"))]),
            "requestBody", json_body(schema("Credentials"))) },
        "/api/auth/logout": { "post": Value::Object(op("Clear the dashboard's cookies", true, vec![
            ("204", json!({ "description": "cookies cleared" }))])) },
        "/api/users/me": {
            "get": Value::Object(op("The caller", true, vec![("200", ok("the caller", schema("User")))])),
            "put": with(op("Change the password (earlier tokens stop working)", true, vec![
                ("200", ok("a fresh login", schema("LoginResponse"))), ("400", err("new password too short")),
                ("403", err("current password is wrong"))]),
                "requestBody", json_body(schema("UpdateMe"))),
        },
        "/api/torrents": {
            "get": with(op("The caller's torrents (an admin's: all)", true, vec![("200", ok("torrents", summary_list)),
                ("400", err("malformed query"))]), "parameters", json!([
                    { "name": "category", "in": "query", "description": "only this category (empty: none)", "schema": { "type": "string" } },
                    { "name": "tag", "in": "query", "description": "only with this tag (empty: untagged)", "schema": { "type": "string" } }])),
            "post": with(op("Add a .torrent upload or a magnet link", true, vec![
                ("201", ok("added", schema("TorrentSummary"))),
                ("400", err("invalid torrent, magnet, save path or peer")),
                ("409", err("already added")), ("413", err("upload too large")), ("415", err("wrong content type"))]),
                "requestBody", json!({ "content": {
                    "multipart/form-data": { "schema": { "type": "object", "required": ["torrent"], "properties": {
                        "torrent": { "type": "string", "format": "binary" }, "savePath": { "type": "string" },
                        "paused": { "type": "boolean" }, "priority": schema("Priority"),
                        "peers": { "type": "string", "description": "IP:PORT list, comma separated" },
                        "category": { "type": "string" }, "tags": { "type": "string", "description": "comma separated" },
                        "files": { "type": "string", "description": "JSON list of {index, priority} (FilePriorityChange)" },
                        "onlyFiles": { "type": "string", "description": "0-based indices like 0,2-4: only these files, the others skipped" },
                        "sequential": { "type": "boolean" }, "firstLastPiece": { "type": "boolean" } } } },
                    "application/json": { "schema": schema("AddMagnet") } } })),
        },
        "/api/torrents/create": { "post": with(op("Make a .torrent from uploads or a server path, start seeding it", true, vec![
            ("201", json!({ "description": "the .torrent file (X-Info-Hash header: its info-hash)",
                "content": { "application/x-bittorrent": { "schema": { "type": "string", "format": "binary" } } } })),
            ("400", err("bad path, name or options")), ("409", err("already added, or the target exists")),
            ("413", err("upload too large")), ("415", err("wrong content type"))]),
            "requestBody", json!({ "content": {
                "application/json": { "schema": schema("CreateTorrent") },
                "multipart/form-data": { "schema": { "type": "object", "properties": {
                    "files": { "type": "array", "items": { "type": "string", "format": "binary" } },
                    "name": { "type": "string" }, "savePath": { "type": "string" }, "path": { "type": "string" },
                    "trackers": { "type": "string", "description": "one URL per line" },
                    "private": { "type": "boolean" }, "comment": { "type": "string" },
                    "pieceLength": { "type": "integer" }, "paused": { "type": "boolean" },
                    "webSeed": { "type": "boolean", "description": "this server's /ws URL in the url-list (BEP 19)" },
                    "builtInTracker": { "type": "boolean", "description": "this server's announce URL first" },
                    "priority": schema("Priority") } } } } })) },
        "/api/torrents/{infoHash}": {
            "get": Value::Object(torrent_op("State, progress, rates, peers, ratio, ETA, files, trackers", vec![
                ("200", ok("the torrent", schema("TorrentDetail")))])),
            "delete": with(torrent_op("Remove (deleteFiles=true also deletes the data)", vec![
                ("204", json!({ "description": "removed" }))]),
                "parameters", json!([{ "$ref": IH }, { "name": "deleteFiles", "in": "query", "schema": { "type": "boolean" } }])),
            "patch": with(torrent_op("Set the torrent's own rate limits (bytes/s, 0 = unlimited), sequential order and seeding goals (-1 = the server's, 0 = none); absent fields stay", vec![
                ("200", ok("updated", schema("TorrentSummary"))), ("400", err("a goal out of range")),
                ("409", err("the torrent is not running"))]),
                "requestBody", json_body(schema("TorrentPatch"))),
        },
        "/api/torrents/{infoHash}/pause": { "post": Value::Object(torrent_op("Pause", vec![("200", ok("paused", schema("TorrentSummary")))])) },
        "/api/torrents/{infoHash}/resume": { "post": Value::Object(torrent_op("Resume", vec![("200", ok("resumed", schema("TorrentSummary")))])) },
        "/api/torrents/{infoHash}/priority": { "put": with(torrent_op("Set the priority (orders the queue under MAX_CONCURRENT_TORRENTS)", vec![
            ("200", ok("updated", schema("TorrentSummary")))]), "requestBody",
            json_body(json!({ "type": "object", "required": ["priority"], "properties": { "priority": schema("Priority") } }))) },
        "/api/torrents/{infoHash}/files": {
            "get": Value::Object(torrent_op("Per-file progress and priority", vec![
                ("200", ok("files", json!({ "type": "array", "items": schema("FileProgress") })))])),
            "patch": with(torrent_op("Set file priorities (index 0-based, as GET lists them); skip = not downloaded, not created; un-skipping a finished torrent resumes it", vec![
                ("200", ok("the torrent after the change", schema("TorrentDetail"))),
                ("400", err("unknown priority or index out of range")), ("409", err("the torrent is not running"))]),
                "requestBody", json_body(json!({ "type": "array", "items": schema("FilePriorityChange") }))),
        },
        "/api/torrents/preview": { "post": with(op("The file list of a .torrent, without adding it (for choosing files)", true, vec![
            ("200", ok("what the .torrent holds", schema("TorrentPreview"))), ("400", err("invalid torrent")),
            ("413", err("upload too large"))]),
            "requestBody", json!({ "content": {
                "multipart/form-data": { "schema": { "type": "object", "required": ["torrent"], "properties": {
                    "torrent": { "type": "string", "format": "binary" } } } },
                "application/x-bittorrent": { "schema": { "type": "string", "format": "binary" } } } })) },
        "/api/torrents/{infoHash}/peers": {
            "get": Value::Object(torrent_op("Connected peers", vec![
                ("200", ok("peers", json!({ "type": "array", "items": schema("PeerInfo") })))])),
            "post": with(torrent_op("Dial these peers too", vec![("202", json!({ "description": "accepted" }))]),
                "requestBody", json_body(json!({ "type": "object", "required": ["peers"],
                    "properties": { "peers": { "type": "array", "items": { "type": "string", "example": "127.0.0.1:6881" } } } }))),
        },
        "/api/torrents/{infoHash}/pieces": { "get": Value::Object(torrent_op("Verified pieces as a hex bitfield", vec![
            ("200", ok("pieces", schema("PiecesInfo")))])) },
        "/api/torrents/{infoHash}/files/{index}/stream": { "get": with(torrent_op("The file's bytes, with Range, while it downloads: a read waits for its pieces, which are fetched first. Auth by cookie, Bearer token, or a signed link's `token`", vec![
            ("200", json!({ "description": "the whole file (no Range, or several ranges)", "content": { "*/*": { "schema": { "type": "string", "format": "binary" } } } })),
            ("206", json!({ "description": "one range, with Content-Range" })),
            ("409", err("the torrent is not running, or its metadata is not known yet")),
            ("416", json!({ "description": "the range starts past the end; Content-Range: bytes */length" }))]),
            "parameters", json!([{ "$ref": IH }, { "name": "index", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 0 } },
                { "name": "token", "in": "query", "description": "a signed link's token (POST …/link)", "schema": { "type": "string" } },
                { "name": "Range", "in": "header", "description": "bytes=A-B, bytes=A- or bytes=-N", "schema": { "type": "string" } }])) },
        "/api/torrents/{infoHash}/files/{index}/link": { "post": with(torrent_op("A signed URL that streams the file for 6 hours without the login cookie (for VLC, mpv)", vec![
            ("200", ok("the link", schema("StreamLink")))]),
            "parameters", json!([{ "$ref": IH }, { "name": "index", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 0 } }])) },
        "/api/torrents/{infoHash}/torrent": { "get": Value::Object(torrent_op("The .torrent file (a magnet's once its metadata arrived)", vec![
            ("200", json!({ "description": "the .torrent file",
                "content": { "application/x-bittorrent": { "schema": { "type": "string", "format": "binary" } } } })),
            ("409", err("the metadata is not known yet"))])) },
        "/api/tracker": { "get": Value::Object(op("The built-in tracker: mode, swarms, peers, announces per second, the caller's announce URLs", true, vec![
            ("200", ok("tracker", schema("TrackerStatus")))])) },
        "/api/statistics": { "get": with(op("Rates, totals, counts by state, history", true, vec![
            ("200", ok("statistics", schema("Statistics")))]),
            "parameters", json!([{ "name": "range", "in": "query", "description": "seconds of history (default 3600)", "schema": { "type": "integer" } }])) },
        "/api/chat": {
            "get": with(op("Chat messages, oldest first: the page just before `before` (the newest when absent)", true, vec![
                ("200", ok("messages", json!({ "type": "array", "items": schema("ChatMessage") }))),
                ("400", err("malformed query"))]),
                "parameters", json!([
                    { "name": "before", "in": "query", "description": "only messages with smaller ids", "schema": { "type": "integer" } },
                    { "name": "limit", "in": "query", "description": "messages (default 50, clamped to 1..=200)", "schema": { "type": "integer" } }])),
            "post": with(op("Post to the chat room (broadcast as chat:message)", true, vec![
                ("201", ok("stored", schema("ChatMessage"))),
                ("400", err("invalid_message: empty after trimming, too long, or control characters")),
                ("403", err("cookie authentication without the CSRF header")),
                ("429", err("more than CHAT_RATE_LIMIT messages in 5 s (Retry-After)"))]),
                "requestBody", json_body(schema("PostChat"))),
        },
        "/api/notifications": { "get": with(op("The caller's notifications, newest first, and the unread count", true, vec![
            ("200", ok("notifications", schema("NotificationList"))), ("400", err("malformed query"))]),
            "parameters", json!([{ "name": "limit", "in": "query", "description": "notifications (default 50, clamped to 1..=500)", "schema": { "type": "integer" } }])) },
        "/api/notifications/read": { "post": with(op("Mark notifications read: the given ids, or all when `ids` is absent", true, vec![
            ("204", json!({ "description": "marked" })), ("400", err("malformed body or more than 1000 ids")),
            ("403", err("cookie authentication without the CSRF header"))]),
            "requestBody", json_body(schema("MarkRead"))) },
        "/api/events": { "get": with(op("Server-sent events: torrent:added, torrent:progress, torrent:piece, torrent:complete, torrent:seeding, torrent:error, torrent:removed, queue:updated, torrent:labels, chat:message, notification, resync", true, vec![
            ("200", json!({ "description": "event stream", "content": { "text/event-stream": { "schema": { "type": "string" } } } }))]),
            "parameters", json!([
                { "name": "Last-Event-ID", "in": "header", "schema": { "type": "string" } },
                { "name": "lastEventId", "in": "query", "schema": { "type": "string" } }])) },
        "/api/openapi.json": { "get": Value::Object(op("This document", true, vec![
            ("200", ok("OpenAPI 3.1", json!({ "type": "object" })))])) },
        "/metrics": { "get": Value::Object(op("Prometheus metrics (METRICS_TOKEN or an admin token)", true, vec![
            ("200", json!({ "description": "Prometheus text format", "content": { "text/plain": { "schema": { "type": "string" } } } })),
            ("403", err("not an admin"))])) },
    })
}

/// The server's speed settings.
fn settings_paths() -> Value {
    json!({
        "/api/settings": {
            "get": Value::Object(op("Global and alternative rate limits, the alternative schedule and whether it is in force, and the seeding goals", true, vec![
                ("200", ok("settings", schema("Settings")))])),
            "patch": with(op("Change speed settings (admins); altEnabled is the manual toggle, held until the schedule's next edge", true, vec![
                ("200", ok("the settings now", schema("Settings"))), ("400", err("malformed schedule or body")),
                ("403", err("not an admin, or cookie authentication without the CSRF header"))]),
                "requestBody", json_body(schema("SettingsPatch"))),
        },
    })
}

fn settings_schemas() -> Value {
    let rate = json!({ "type": "integer", "minimum": 0, "description": "bytes/s, 0 = unlimited" });
    let b = json!({ "type": "boolean" });
    json!({
        "AltSchedule": obj(json!({ "enabled": b,
            "from": { "type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "description": "server local time" },
            "to": { "type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "description": "before `from`: past midnight; equal: all day" },
            "days": { "type": "array", "items": { "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] } } }),
            &["enabled", "from", "to", "days"]),
        "Settings": obj(json!({ "downloadLimit": rate, "uploadLimit": rate, "altDownloadLimit": rate,
            "altUploadLimit": rate, "altSchedule": schema("AltSchedule"),
            "altEnabled": { "type": "boolean", "description": "alternative limits in force now" },
            "altManual": { "type": "boolean", "description": "altEnabled was set by hand (until the schedule's next edge)" },
            "seeding": schema("SeedingGoals"), "encryption": schema("EncryptionPolicy") }),
            &["downloadLimit", "uploadLimit", "altDownloadLimit", "altUploadLimit", "altSchedule", "altEnabled", "altManual"]),
        "SettingsPatch": obj(json!({ "downloadLimit": rate, "uploadLimit": rate, "altDownloadLimit": rate,
            "altUploadLimit": rate, "altSchedule": schema("AltSchedule"), "altEnabled": b,
            "seeding": { "type": "object", "description": "SeedingGoals fields to change" },
            "encryption": schema("EncryptionPolicy") }), &[]),
        "EncryptionPolicy": { "type": "string", "enum": ["disabled", "enabled", "required"],
            "description": "peer connection encryption (MSE/PE) for new connections: plaintext only, both (plaintext first), RC4 only" },
        "TorrentPatch": obj(json!({ "downloadLimit": rate, "uploadLimit": rate, "sequential": b,
            "firstLastPiece": { "type": "boolean", "description": "the first and last piece of each wanted file first (previews)" },
            "superSeeding": { "type": "boolean", "description": "BEP 16 while seeding; kept across a restart" },
            "goalAction": schema("TorrentGoalAction"),
            "public": { "type": "boolean", "description": "list it in the search catalog (not for BEP 27 private torrents)" },
            "ratioLimit": { "type": "number", "description": "-1 = the server's, 0 = none" },
            "seedingTimeLimit": { "type": "integer", "description": "minutes; -1 = the server's, 0 = none" },
            "inactiveSeedingTimeLimit": { "type": "integer", "description": "minutes without upload; -1 = the server's, 0 = none" } }), &[]),
        "TorrentGoals": obj(json!({ "ratioLimit": { "type": "number" }, "seedingTimeLimit": { "type": "integer" },
            "inactiveSeedingTimeLimit": { "type": "integer" }, "action": schema("TorrentGoalAction") }),
            &["ratioLimit", "seedingTimeLimit", "inactiveSeedingTimeLimit"]),
        "TorrentGoalAction": { "type": "string", "enum": ["server", "pause", "remove"],
            "description": "what happens at the torrent's seeding goal; server = the server's action" },
        "SeedingGoals": obj(json!({ "ratioLimit": { "type": "number", "description": "0 = none" },
            "seedingTimeLimit": { "type": "integer", "description": "minutes, 0 = none" },
            "inactiveSeedingTimeLimit": { "type": "integer", "description": "minutes without upload, 0 = none" },
            "action": { "enum": ["pause", "remove"], "description": "what happens at a goal (remove keeps the data)" } }),
            &["ratioLimit", "seedingTimeLimit", "inactiveSeedingTimeLimit", "action"]),
        "FilePriority": { "enum": ["skip", "low", "normal", "high"] },
        "StreamLink": obj(json!({ "url": { "type": "string" }, "expiresAt": { "type": "integer" } }), &["url", "expiresAt"]),
        "FilePriorityChange": obj(json!({ "index": { "type": "integer", "minimum": 0 }, "priority": schema("FilePriority") }),
            &["index", "priority"]),
        "TorrentPreview": obj(json!({ "infoHash": { "type": "string" }, "name": { "type": "string" }, "totalBytes": { "type": "integer" },
            "files": { "type": "array", "items": obj(json!({ "index": { "type": "integer" }, "path": { "type": "string" },
                "length": { "type": "integer" } }), &["index", "path", "length"]) } }), &["infoHash", "name", "totalBytes", "files"]),
    })
}

/// Categories, tags and a torrent's labels.
fn label_paths() -> Value {
    let name =
        json!([{ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }]);
    let mut edit = op(
        "Change a category's save path",
        true,
        vec![
            ("200", ok("updated", schema("Category"))),
            ("400", err("invalid save path")),
            ("404", err("no such category")),
        ],
    );
    edit.insert(
        "requestBody".into(),
        json_body(obj(
            json!({ "savePath": { "type": "string" } }),
            &["savePath"],
        )),
    );
    let edit_category = with(edit, "parameters", name.clone());
    json!({
        "/api/torrents/{infoHash}/category": { "put": with(torrent_op("Put the torrent in one of its owner's categories (null: none); data is not moved", vec![
            ("200", ok("updated", schema("TorrentSummary")))]), "requestBody",
            json_body(obj(json!({ "category": { "type": ["string", "null"] } }), &[]))) },
        "/api/torrents/{infoHash}/tags": { "put": with(torrent_op("Replace the torrent's tags (new ones join the owner's list)", vec![
            ("200", ok("updated", schema("TorrentSummary")))]), "requestBody",
            json_body(obj(json!({ "tags": { "type": "array", "items": { "type": "string" } } }), &["tags"]))) },
        "/api/categories": {
            "get": Value::Object(op("The caller's categories", true, vec![
                ("200", ok("categories", json!({ "type": "array", "items": schema("Category") })))])),
            "post": with(op("Create a category (torrents added to it are saved in savePath)", true, vec![
                ("201", ok("created", schema("Category"))), ("400", err("invalid name or save path")),
                ("409", err("exists"))]), "requestBody", json_body(schema("Category"))),
        },
        "/api/categories/{name}": {
            "put": edit_category,
            "delete": with(op("Remove a category (its torrents become uncategorized)", true, vec![
                ("204", json!({ "description": "removed" })), ("404", err("no such category"))]), "parameters", name.clone()),
        },
        "/api/tags": {
            "get": Value::Object(op("The caller's tags", true, vec![
                ("200", ok("tags", json!({ "type": "array", "items": { "type": "string" } })))])),
            "post": with(op("Create a tag", true, vec![
                ("204", json!({ "description": "created (or already there)" })), ("400", err("invalid name"))]),
                "requestBody", json_body(obj(json!({ "name": { "type": "string" } }), &["name"]))),
        },
        "/api/tags/{name}": { "delete": with(op("Delete a tag (also from the caller's torrents)", true, vec![
            ("204", json!({ "description": "deleted (or was not there)" }))]), "parameters", name) },
    })
}

fn obj(props: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": props, "required": required })
}

fn schemas() -> Value {
    let int = json!({ "type": "integer" });
    let num = json!({ "type": "number" });
    let s = json!({ "type": "string" });
    let b = json!({ "type": "boolean" });
    let opt = |t: &str| json!({ "type": [t, "null"] });
    json!({
        "Error": obj(json!({ "error": s, "message": s }), &["error", "message"]),
        "Credentials": obj(json!({ "username": s, "password": s }), &["username", "password"]),
        "User": obj(json!({ "id": int, "username": s, "role": { "enum": ["admin", "user"] }, "createdAt": int }),
            &["id", "username", "role", "createdAt"]),
        "LoginResponse": obj(json!({ "token": s, "expiresAt": int, "csrfToken": s, "user": schema("User") }),
            &["token", "expiresAt", "csrfToken", "user"]),
        "UpdateMe": obj(json!({ "currentPassword": s, "newPassword": s }), &["currentPassword", "newPassword"]),
        "Priority": { "enum": ["high", "normal", "low"] },
        "Category": obj(json!({ "name": s, "savePath": { "type": "string", "description": "inside the user's folder; empty: the folder itself" } }), &["name"]),
        "TorrentState": { "enum": ["fetchingMetadata", "checking", "queued", "downloading", "seeding", "paused", "error"] },
        "AddMagnet": obj(json!({ "magnetURI": s, "savePath": s, "paused": b, "priority": schema("Priority"),
            "peers": { "type": "array", "items": s }, "category": s, "tags": { "type": "array", "items": s },
            "files": { "type": "array", "items": schema("FilePriorityChange") }, "sequential": b,
            "firstLastPiece": b }), &["magnetURI"]),
        "CreateTorrent": obj(json!({ "path": s, "trackers": { "type": "array", "items": s }, "private": b,
            "comment": s, "pieceLength": int, "paused": b, "priority": schema("Priority"),
            "webSeed": { "type": "boolean", "description": "this server's /ws URL in the url-list (BEP 19)" },
            "builtInTracker": b }), &["path"]),
        "TorrentSummary": obj(json!({ "infoHash": s, "name": s, "state": schema("TorrentState"), "error": opt("string"),
            "progress": num, "totalBytes": int, "bytesDone": int, "downloadRate": int, "uploadRate": int,
            "downloaded": int, "uploaded": int, "ratio": num, "peers": int, "seeds": int, "etaSecs": opt("integer"),
            "priority": schema("Priority"), "savePath": s, "ownerId": int, "addedAt": int,
            "completedAt": opt("integer"), "magnetUri": opt("string"),
            "id": { "type": "integer", "description": "small, stable while the torrent exists" },
            "category": opt("string"), "tags": { "type": "array", "items": s },
            "downloadLimit": { "type": "integer", "description": "bytes/s, 0 = unlimited" },
            "uploadLimit": { "type": "integer", "description": "bytes/s, 0 = unlimited" },
            "sequential": b, "firstLastPiece": b, "superSeeding": b,
            "secondsSeeding": { "type": "integer", "description": "time seeding over the torrent's life" },
            "goals": schema("TorrentGoals"),
            "public": { "type": "boolean", "description": "listed in the search catalog" } }),
            &["infoHash", "name", "state", "progress", "totalBytes", "bytesDone", "priority"]),
        "TorrentDetail": { "allOf": [schema("TorrentSummary"), obj(json!({ "piecesDone": int, "numPieces": int,
            "pieceLength": int, "wasted": int, "private": b, "comment": opt("string"),
            "files": { "type": "array", "items": schema("FileProgress") },
            "trackers": { "type": "array", "items": schema("TrackerInfo") },
            "webSeeds": { "type": "array", "items": s },
            "webSeedStatus": { "type": "array", "items": schema("WebSeedInfo") },
            "builtInTracker": schema("SwarmCounts") }), &["files", "trackers"])] },
        "WebSeedInfo": obj(json!({ "url": s,
            "state": { "type": "string", "enum": ["idle", "active", "backingOff", "dropped"] },
            "downloaded": int, "downloadRate": int,
            "requests": { "type": "integer", "description": "Range requests in flight" },
            "failures": { "type": "integer", "description": "failures in a row" },
            "lastError": opt("string"), "retryInSecs": opt("integer") }), &["url", "state"]),
        "FileProgress": obj(json!({ "path": s, "length": int, "bytesDone": int, "progress": num,
            "priority": schema("FilePriority") }),
            &["path", "length", "bytesDone", "progress"]),
        "TrackerInfo": obj(json!({ "url": s, "tier": int, "lastAnnounce": opt("integer"),
            "lastResult": { "oneOf": [{ "type": "null" }, obj(json!({ "ok": b, "error": opt("string"),
                "peers": opt("integer"), "seeders": opt("integer"), "leechers": opt("integer"),
                "intervalSecs": opt("integer") }), &["ok"])] },
            "nextAnnounceSecs": opt("integer") }), &["url", "tier"]),
        "PeerInfo": obj(json!({ "addr": s, "client": s, "incoming": b, "downloadRate": int, "uploadRate": int,
            "downloaded": int, "uploaded": int, "amChoking": b, "amInterested": b, "peerChoking": b,
            "peerInterested": b, "pieces": int, "progress": num,
            "source": { "type": "string", "enum": ["tracker", "dht", "pex", "user", "incoming"] },
            "strikes": { "type": "integer", "description": "proven bad pieces from this address" },
            "encrypted": { "type": "boolean", "description": "RC4-encrypted connection (MSE/PE)" } }), &["addr", "client"]),
        "PiecesInfo": obj(json!({ "numPieces": int, "piecesDone": int, "pieceLength": int, "bitfield": s }),
            &["numPieces", "piecesDone", "bitfield"]),
        "Statistics": obj(json!({ "downloadRate": int, "uploadRate": int, "totalDownloaded": int,
            "totalUploaded": int, "torrents": int, "byState": { "type": "object", "additionalProperties": int },
            "peers": int, "history": { "type": "array", "items": schema("HistoryPoint") },
            "dht": schema("DhtInfo") }),
            &["downloadRate", "uploadRate", "byState", "history"]),
        "TrackerStatus": obj(json!({ "enabled": b, "mode": s, "udpPort": opt("integer"),
            "intervalSecs": int, "requirePasskey": b, "torrents": int, "peers": int, "announces": int,
            "scrapes": int, "announcesPerSec": { "type": "number" }, "announceUrl": opt("string"),
            "udpAnnounceUrl": opt("string") }), &["enabled"]),
        "SwarmCounts": obj(json!({ "seeders": int, "leechers": int, "completed": int }),
            &["seeders", "leechers", "completed"]),
        "DhtInfo": obj(json!({ "enabled": b, "nodes": int, "goodNodes": int, "port": opt("integer"),
            "storedPeers": int, "nodesV6": opt("integer"), "goodNodesV6": opt("integer"),
            "portV6": opt("integer") }), &["enabled", "nodes"]),
        "HistoryPoint": obj(json!({ "at": int, "downloadRate": int, "uploadRate": int, "downloaded": int,
            "uploaded": int, "peers": int, "torrents": int }), &["at"]),
        "ChatMessage": obj(json!({ "id": int, "userId": int, "username": s, "body": s,
            "createdAt": { "type": "integer", "description": "Unix milliseconds" } }),
            &["id", "userId", "username", "body", "createdAt"]),
        "PostChat": obj(json!({ "body": { "type": "string", "description": "trimmed; 1 to 2000 characters" } }), &["body"]),
        "NotificationKind": { "enum": ["completed", "seeding", "error"] },
        "Notification": obj(json!({ "id": int, "kind": schema("NotificationKind"), "infoHash": s, "name": s,
            "message": s, "createdAt": { "type": "integer", "description": "Unix milliseconds" }, "read": b }),
            &["id", "kind", "infoHash", "name", "message", "createdAt", "read"]),
        "NotificationList": obj(json!({ "unread": int, "items": { "type": "array", "items": schema("Notification") } }),
            &["unread", "items"]),
        "MarkRead": obj(json!({ "ids": { "type": "array", "items": int, "description": "absent: all" } }), &[]),
        "ComponentHealth": obj(json!({ "ok": b, "detail": s }), &["ok", "detail"]),
        "Health": obj(json!({ "status": { "enum": ["ok", "degraded"] }, "version": s, "uptimeSecs": int,
            "engine": schema("ComponentHealth"), "database": schema("ComponentHealth"),
            "peerListener": schema("ComponentHealth"), "kafka": schema("ComponentHealth") }), &["status", "engine", "database", "peerListener"]),
    })
}

fn merged(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// The whole document.
pub fn document() -> Value {
    let (ban_paths, ban_schemas) = super::bans::openapi();
    let (folder_paths, folder_schemas) = super::folders::openapi();
    let (search_paths, search_schemas) = super::search::openapi();
    let (nostr_paths, nostr_schemas) = super::nostr::openapi();
    let (search_paths, search_schemas) = (
        merged(search_paths, nostr_paths),
        merged(search_schemas, nostr_schemas),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "TorrentEdge API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Torrents of the calling user (admins: all). Authenticate with `Authorization: Bearer <token>` from /api/auth/login, or with the te_session cookie plus the te_csrf cookie's value in X-CSRF-Token on POST/PUT/PATCH/DELETE. Errors are {\"error\", \"message\"}."
        },
        "security": [{ "bearer": [] }, { "cookie": [] }],
        "paths": merged(merged(merged(merged(paths(), label_paths()), settings_paths()), ban_paths), merged(folder_paths, search_paths)),
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": "te_session" },
                "federation": { "type": "http", "scheme": "bearer", "description": "FEDERATION_TOKEN" }
            },
            "parameters": {
                "InfoHash": { "name": "infoHash", "in": "path", "required": true,
                    "schema": { "type": "string", "pattern": "^[0-9a-fA-F]{40}$" } }
            },
            "schemas": merged(merged(merged(schemas(), settings_schemas()), ban_schemas), merged(folder_schemas, search_schemas)),
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn document_matches_the_router() {
        let routed: BTreeSet<(String, String)> = crate::api::routes(1, 1)
            .list
            .iter()
            .map(|(m, p)| (m.as_str().to_lowercase(), p.to_string()))
            .collect();
        let doc = document();
        let mut documented = BTreeSet::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for method in ops.as_object().unwrap().keys() {
                documented.insert((method.clone(), path.clone()));
            }
        }
        assert_eq!(routed, documented, "router and OpenAPI document differ");
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling $ref {name}");
        }
    }
}
