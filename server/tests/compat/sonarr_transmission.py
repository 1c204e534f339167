"""What Sonarr does with a Transmission client, through the PyPI `transmission-rpc`
package, against TorrentEdge: connect (session-id handshake, Basic auth), read the session,
add a torrent (metainfo) with a label into a folder, poll until a real libtorrent seeder
has delivered it, read files, change labels, remove it with its data.

usage: sonarr_transmission.py PORT USER PASSWORD TORRENT_FILE INFO_HASH SIZE
Prints OK on success; any failed expectation raises.
"""

import sys
import time

from transmission_rpc import Client


def main():
    port, user, password, torrent_file, ih, size = sys.argv[1:7]
    size = int(size)
    c = Client(host="127.0.0.1", port=int(port), username=user, password=password,
               path="/transmission/rpc", timeout=30)
    s = c.get_session()
    assert s.rpc_version >= 15, s.rpc_version
    assert s.download_dir, s.fields

    with open(torrent_file, "rb") as f:
        added = c.add_torrent(f, download_dir="tv", labels=["sonarr"])
    assert added.hashString == ih, added.fields
    assert added.id > 0

    deadline = time.time() + 120
    while True:
        t = c.get_torrent(added.id)
        if t.percent_done == 1 and t.status == "seeding":
            break
        assert t.status in ("downloading", "check pending", "checking", "download pending"), t.status
        assert time.time() < deadline, f"not complete: {t.fields}"
        time.sleep(0.3)
    assert t.labels == ["sonarr"], t.labels
    assert t.download_dir.endswith("/tv"), t.download_dir
    assert t.left_until_done == 0 and t.total_size == size, t.fields
    assert t.hashString == ih
    files = t.get_files()
    assert len(files) == 1 and files[0].completed == size and files[0].size == size, files

    c.change_torrent(added.id, labels=["sonarr", "imported"])
    assert sorted(c.get_torrent(ih).labels) == ["imported", "sonarr"]
    same = c.get_torrents(ids=[ih])
    assert len(same) == 1 and same[0].id == added.id

    c.remove_torrent(added.id, delete_data=True)
    assert all(x.hashString != ih for x in c.get_torrents())
    print("OK")


if __name__ == "__main__":
    main()
