// Drives `meshwork serve` with iceberg-js, an independent Iceberg REST client: token, namespace,
// table, load, schema change commit, listings, rename, drop. Prints the metadata location of
// sales.orders (kept for the icebird check) on the last line.
// Usage: node iceberg_js_scenario.mjs BASE_URL CLIENT_ID CLIENT_SECRET
import { IcebergRestCatalog, IcebergError } from 'iceberg-js'

const [base, clientId, clientSecret] = process.argv.slice(2)
if (!base || !clientId || !clientSecret) {
  console.error('usage: node iceberg_js_scenario.mjs BASE_URL CLIENT_ID CLIENT_SECRET')
  process.exit(2)
}

function check(condition, what) {
  if (!condition) {
    console.error(`FAIL: ${what}`)
    process.exit(1)
  }
  console.error(`ok   ${what}`)
}

// The OAuth2 client_credentials flow, form-encoded as Iceberg clients send it.
const tokenResponse = await fetch(`${base}/catalog/v1/oauth/tokens`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: clientSecret,
    scope: 'PRINCIPAL_ROLE:ALL',
  }),
})
check(tokenResponse.status === 200, `token endpoint answers 200 (got ${tokenResponse.status})`)
const { access_token: token, token_type: tokenType } = await tokenResponse.json()
check(tokenType === 'bearer' && token.split('.').length === 3, 'a bearer JWT was issued')

const catalog = new IcebergRestCatalog({
  baseUrl: `${base}/catalog`,
  warehouse: 'mesh',
  auth: { type: 'bearer', token },
})

await catalog.createNamespace({ namespace: ['sales'] }, { properties: { owner: 'sales-team' } })
const namespaces = await catalog.listNamespaces()
check(
  namespaces.namespaces.some((ns) => JSON.stringify(ns.namespace ?? ns) === '["sales"]'),
  'listNamespaces shows sales'
)
const loadedNamespace = await catalog.loadNamespaceMetadata({ namespace: ['sales'] })
check(loadedNamespace.properties.owner === 'sales-team', 'namespace properties round-trip')

const schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'id', type: 'long', required: true },
    { id: 2, name: 'region', type: 'string', required: false },
    { id: 3, name: 'amount', type: 'double', required: false },
  ],
}
await catalog.createTable(
  { namespace: ['sales'] },
  {
    name: 'orders',
    schema,
    'partition-spec': {
      'spec-id': 0,
      fields: [{ 'source-id': 2, 'field-id': 1000, name: 'region', transform: 'identity' }],
    },
    'write-order': { 'order-id': 0, fields: [] },
    properties: { 'created-by': 'iceberg-js' },
  }
)
const orders = { namespace: ['sales'], name: 'orders' }
let metadata = await catalog.loadTable(orders)
check(metadata.schemas[0].fields.length === 3, 'loadTable returns the schema')
check(metadata['partition-specs'][0].fields[0].transform === 'identity', 'and the partition spec')
check(metadata.properties['created-by'] === 'iceberg-js', 'and the properties')

// A schema change commit, guarded by the schema the client saw.
const evolved = structuredClone(schema)
evolved.fields.push({ id: 4, name: 'channel', type: 'string', required: false })
await catalog.updateTable(orders, {
  requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': 0 }],
  updates: [
    { action: 'add-schema', schema: evolved },
    { action: 'set-current-schema', 'schema-id': -1 },
  ],
})
metadata = await catalog.loadTable(orders)
check(metadata['current-schema-id'] === 1, 'the schema change committed')
// The same requirement again is a 409 the client can act on.
try {
  await catalog.updateTable(orders, {
    requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': 0 }],
    updates: [{ action: 'set-properties', updates: { stale: 'yes' } }],
  })
  check(false, 'a stale requirement is refused')
} catch (error) {
  check(error instanceof IcebergError && error.status === 409, 'a stale requirement gets 409')
}

// A scratch table: list, rename, drop.
await catalog.createTable({ namespace: ['sales'] }, { name: 'scratch', schema })
let tables = await catalog.listTables({ namespace: ['sales'] })
check(tables.identifiers.map((t) => t.name).sort().join(',') === 'orders,scratch', 'listTables')
await catalog.renameTable({
  source: { namespace: ['sales'], name: 'scratch' },
  destination: { namespace: ['sales'], name: 'scratch_renamed' },
})
check(await catalog.tableExists({ namespace: ['sales'], name: 'scratch_renamed' }), 'renamed')
check(!(await catalog.tableExists({ namespace: ['sales'], name: 'scratch' })), 'old name gone')
await catalog.dropTable({ namespace: ['sales'], name: 'scratch_renamed' }, { purge: true })
tables = await catalog.listTables({ namespace: ['sales'] })
check(tables.identifiers.map((t) => t.name).join(',') === 'orders', 'dropped')

// Conditional load: unchanged metadata is a 304 (null).
const result = await catalog.loadTableResult(orders)
check(typeof result.etag === 'string' && result.etag.length > 0, 'loadTable sends an ETag')
const unchanged = await catalog.loadTable(orders, { ifNoneMatch: result.etag })
check(unchanged === null, 'If-None-Match with the current ETag gives 304')

console.log(result['metadata-location'])
