// Reads an Iceberg table with icebird, an independent JavaScript implementation, and prints its
// rows as JSON lines with values normalized for comparison (longs as strings, timestamps as
// epoch microseconds, bytes as hex).
// Usage: node icebird_read.mjs TABLE_URL METADATA_FILE_NAME
import './file_fetch.mjs'
import { icebergRead } from 'icebird'

const [tableUrl, metadataFileName] = process.argv.slice(2)
if (!tableUrl || !metadataFileName) {
  console.error('usage: node icebird_read.mjs TABLE_URL METADATA_FILE_NAME')
  process.exit(2)
}

function normalize(value) {
  if (value === null || value === undefined) return null
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Date) return `date:${value.getTime()}`
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex')
  if (Array.isArray(value)) return value.map(normalize)
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]))
  }
  return value
}

try {
  const rows = await icebergRead({ tableUrl, metadataFileName })
  for (const row of rows) console.log(JSON.stringify(normalize(row)))
} catch (error) {
  console.error(`icebird failed: ${error.stack ?? error}`)
  process.exit(1)
}
