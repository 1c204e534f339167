// A WebTorrent 2.x/3.x leecher for TorrentEdge's encryption tests (engine/tests/encryption.rs).
//
//   node wt_leech.mjs <webtorrent module dir> <torrent> <out dir> <peer host:port> <timeout s>
//
// WebTorrent runs as a library (its CLI cannot turn DHT/LSD/trackers off or bind an address):
// no DHT, LSD, PEX, UPnP/NAT-PMP, uTP or web seeds; its TCP listener is forced onto 127.0.0.1.
// It opens its outgoing connections with an MSE handshake by default, which is what the test
// is about. Prints `READY`, `PEER <addr>` per wire, `DONE` and exits 0 when the download is
// complete and verified (WebTorrent checks every piece's hash); `FAILED <why>` and exit 1.
import net from 'node:net'
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [modDir, torrentPath, outDir, peer, timeoutS] = process.argv.slice(2)
if (!peer) {
  console.log('FAILED usage: wt_leech.mjs <module dir> <torrent> <out> <peer> [timeout]')
  process.exit(2)
}

// Every listen() binds loopback only.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || args[0] === undefined) {
    const port = args[0] ?? 0
    const rest = args.slice(1).filter((a) => typeof a === 'function')
    return listen.call(this, port, '127.0.0.1', ...rest)
  }
  if (typeof args[0] === 'object' && args[0] !== null) {
    args[0] = { ...args[0], host: '127.0.0.1' }
  }
  return listen.apply(this, args)
}

const { default: WebTorrent } = await import(pathToFileURL(path.join(modDir, 'index.js')).href)
const client = new WebTorrent({
  dht: false, lsd: false, utPex: false, natUpnp: false, natPmp: false, utp: false,
  webSeeds: false, tracker: false, torrentPort: 0
})
const fail = (why) => { console.log(`FAILED ${why}`); process.exit(1) }
client.on('error', (e) => fail(`client: ${e.message || e}`))
setTimeout(() => fail('timeout'), Number(timeoutS || 90) * 1000)

client.add(fs.readFileSync(torrentPath), { path: outDir, announce: [] }, (torrent) => {
  console.log('READY')
  torrent.on('wire', (wire, addr) => console.log(`PEER ${addr}`))
  torrent.on('error', (e) => fail(`torrent: ${e.message || e}`))
  torrent.on('done', () => {
    console.log('DONE')
    client.destroy(() => process.exit(0))
  })
  torrent.addPeer(peer)
})
