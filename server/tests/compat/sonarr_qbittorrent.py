"""What Sonarr does with a qBittorrent client, through the PyPI `qbittorrent-api` package,
against TorrentEdge: log in, probe versions and preferences, create a category, add a
torrent in it (a real libtorrent seeder serves it), poll `torrents/info?category=` until it
is complete, read properties and files, try share limits (TorrentEdge lacks them: 409),
delete it with its files.

usage: sonarr_qbittorrent.py BASE_URL USER PASSWORD TORRENT_FILE INFO_HASH SIZE
Prints OK on success; any failed expectation raises.
"""

import sys
import time

import qbittorrentapi


def main():
    base, user, password, torrent_file, ih, size = sys.argv[1:7]
    size = int(size)
    c = qbittorrentapi.Client(
        host=base,
        username=user,
        password=password,
        REQUESTS_ARGS={"timeout": 30},
        RAISE_NOTIMPLEMENTEDERROR_FOR_UNIMPLEMENTED_API_ENDPOINTS=True,
    )
    c.auth_log_in()
    assert c.is_logged_in
    assert c.app.version.startswith("v4."), c.app.version
    assert c.app.web_api_version == "2.9.3", c.app.web_api_version
    prefs = c.app.preferences
    for key in ("save_path", "max_ratio_enabled", "max_ratio", "max_seeding_time_enabled",
                "max_seeding_time", "max_ratio_act", "queueing_enabled", "dht", "dl_limit",
                "up_limit"):
        assert key in prefs, key
    assert c.app.default_save_path == prefs["save_path"]

    c.torrents_create_category(name="tv-sonarr", save_path="tv")
    cats = c.torrents_categories()
    assert "tv-sonarr" in cats, cats
    assert cats["tv-sonarr"]["savePath"].endswith("/tv"), cats

    with open(torrent_file, "rb") as f:
        res = c.torrents_add(torrent_files=f.read(), category="tv-sonarr", tags="sonarr")
    assert res == "Ok.", res
    assert "sonarr" in c.torrents_tags()

    deadline = time.time() + 120
    while True:
        listed = c.torrents_info(category="tv-sonarr")
        mine = [t for t in listed if t.hash == ih]
        assert len(mine) == 1, listed
        t = mine[0]
        if t.progress == 1 and t.state in ("uploading", "stalledUP"):
            break
        assert t.state in ("checkingDL", "stalledDL", "downloading", "metaDL", "queuedDL"), t.state
        assert time.time() < deadline, f"not complete: {dict(t)}"
        time.sleep(0.3)
    assert t.category == "tv-sonarr" and t.tags == "sonarr", dict(t)
    assert t.save_path.endswith("/tv"), t.save_path
    assert t.content_path == t.save_path + "/" + t.name, dict(t)
    assert t.amount_left == 0 and t.size == size, dict(t)
    assert t.completion_on > 0 and t.added_on > 0, dict(t)
    assert c.torrents_info(category="other") == []

    props = c.torrents_properties(torrent_hash=ih)
    assert props.total_size == size and props.pieces_have == props.pieces_num, props
    files = c.torrents_files(torrent_hash=ih)
    assert len(files) == 1 and files[0].progress == 1 and files[0].size == size, files

    # Share limits are the torrent's own seeding goals (a ratio of 2 is far off: it seeds on),
    # then back to the server's.
    c.torrents_set_share_limits(ratio_limit=2.0, seeding_time_limit=600, torrent_hashes=ih)
    assert c.torrents_info(torrent_hashes=ih)[0].state in ("uploading", "stalledUP"), "paused early"
    c.torrents_set_share_limits(ratio_limit=-2, seeding_time_limit=-2, torrent_hashes=ih)

    c.torrents_delete(delete_files=True, torrent_hashes=ih)
    assert c.torrents_info(torrent_hashes=ih) == []
    c.auth_log_out()
    print("OK")


if __name__ == "__main__":
    main()
