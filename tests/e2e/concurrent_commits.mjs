// Many clients append snapshots to one table through several catalog servers, as engines commit
// appends: load, add a snapshot on top of main, commit with assert-ref-snapshot-id, and on 409
// reload and retry. Checks that every append is in the final history and that the metadata log
// is one linear chain. Prints a summary line.
// Usage: node concurrent_commits.mjs TOKEN CLIENTS APPENDS BASE_URL...
const [token, clientsText, appendsText, ...servers] = process.argv.slice(2)
const clients = Number(clientsText)
const appends = Number(appendsText)
if (!token || !clients || !appends || servers.length === 0) {
  console.error('usage: node concurrent_commits.mjs TOKEN CLIENTS APPENDS BASE_URL...')
  process.exit(2)
}
const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
const path = '/catalog/v1/mesh/namespaces/sales/tables/events'

async function load(base) {
  const response = await fetch(base + path, { headers })
  if (response.status !== 200) throw new Error(`load: ${response.status} ${await response.text()}`)
  return (await response.json()).metadata
}

let conflicts = 0
const committed = new Set()
// Snapshot ids below 2^53 so that JavaScript numbers keep every digit.
let nextId = 1000
async function client(index) {
  const base = servers[index % servers.length]
  for (let n = 0; n < appends; n++) {
    const id = nextId++
    for (let attempt = 1; ; attempt++) {
      const metadata = await load(base)
      const parent = metadata['current-snapshot-id'] ?? -1
      const snapshot = {
        'snapshot-id': id,
        'sequence-number': metadata['last-sequence-number'] + 1,
        'timestamp-ms': Date.now(),
        'manifest-list': `${metadata.location}/metadata/snap-${id}.avro`,
        summary: { operation: 'append', 'added-records': '1' },
        'schema-id': metadata['current-schema-id'],
      }
      if (parent !== -1) snapshot['parent-snapshot-id'] = parent
      const response = await fetch(base + path, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          requirements: [
            { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parent === -1 ? null : parent },
          ],
          updates: [
            { action: 'add-snapshot', snapshot },
            { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id },
          ],
        }),
      })
      if (response.status === 200) {
        committed.add(id)
        break
      }
      const body = await response.text()
      if (response.status !== 409) throw new Error(`commit answered ${response.status}: ${body}`)
      conflicts++
      if (attempt > 200) throw new Error(`client ${index} starved after ${attempt} attempts`)
    }
  }
}

await Promise.all(Array.from({ length: clients }, (_, i) => client(i)))
const metadata = await load(servers[0])
// Walk main's history: every committed append must be in it, once.
const byId = new Map(metadata.snapshots.map((s) => [s['snapshot-id'], s]))
const history = []
for (let id = metadata['current-snapshot-id']; id !== undefined && id !== -1; ) {
  history.push(id)
  id = byId.get(id)?.['parent-snapshot-id']
}
const missing = [...committed].filter((id) => !history.includes(id))
if (history.length !== clients * appends || missing.length > 0) {
  console.error(`FAIL: ${committed.size} committed, history has ${history.length}, missing ${missing}`)
  process.exit(1)
}
// The metadata log: one entry per commit, versions 0, 1, 2, ... with no gaps or forks.
const versions = metadata['metadata-log'].map((e) => Number(e['metadata-file'].split('/').pop().split('-')[0]))
const linear = versions.every((v, i) => v === i) && versions.length === clients * appends
if (!linear) {
  console.error(`FAIL: metadata log is not linear: ${versions.join(',')}`)
  process.exit(1)
}
console.log(`${committed.size} appends committed by ${clients} clients through ${servers.length} servers, ${conflicts} conflicts retried; history and metadata log linear`)
