// Compares the rows meshwork printed (`meshwork table scan --format json`: every value a string)
// with the rows an independent reader produced (icebird_read.mjs), as a multiset, value by value
// according to each column's Iceberg type.
// Usage: node compare_rows.mjs MESHWORK_JSONL OTHER_JSONL name=type,...
import { readFileSync } from 'node:fs'

const [oursPath, theirsPath, typeList] = process.argv.slice(2)
const types = Object.fromEntries(typeList.split(',').map(item => item.split('=')))

function read(path) {
  return readFileSync(path, 'utf8').split('\n').filter(line => line.trim()).map(line => JSON.parse(line))
}

// One canonical text per value, whoever produced it.
function canonical(type, value) {
  if (value === null || value === undefined) return 'null'
  switch (type) {
    case 'long': case 'int': return BigInt(value).toString()
    case 'double': case 'float': return Number(value).toPrecision(12)
    case 'decimal': return Number(value).toFixed(6)
    case 'boolean': return String(value === true || value === 'true')
    case 'timestamptz': case 'timestamp': {
      if (typeof value === 'string' && value.startsWith('date:')) return value.slice(5)
      const iso = value.replace(' ', 'T').replace(/\+00$/, 'Z')
      return String(Date.parse(iso.endsWith('Z') ? iso : iso + 'Z'))
    }
    case 'date': {
      if (typeof value === 'string' && value.startsWith('date:')) return String(Number(value.slice(5)) / 86400000)
      if (typeof value === 'number') return String(value)
      return String(Date.parse(value + 'T00:00:00Z') / 86400000)
    }
    case 'uuid': return String(value).replaceAll('-', '').toLowerCase()
    default: return String(value)
  }
}

function key(row) {
  return Object.keys(types).map(name => canonical(types[name], row[name])).join('|')
}

const ours = read(oursPath).map(key).sort()
const theirs = read(theirsPath).map(key).sort()
let failures = 0
if (ours.length !== theirs.length) {
  console.error(`row counts differ: meshwork ${ours.length}, other reader ${theirs.length}`)
  failures++
}
for (let index = 0; index < Math.min(ours.length, theirs.length) && failures < 10; index++) {
  if (ours[index] !== theirs[index]) {
    console.error(`row ${index} differs:\n  meshwork: ${ours[index]}\n  other:    ${theirs[index]}`)
    failures++
  }
}
if (failures) process.exit(1)
console.log(`${ours.length} rows identical`)
