// Decodes Avro object container files with avsc (an independent Avro implementation) and checks
// what Iceberg requires of manifests: the field ids in the header schema and the header metadata.
// Usage: node avsc_decode.mjs FILE...   prints "<file>: <records> records" per file.
import avro from 'avsc'

function fieldIds(schema, found = new Set()) {
  if (Array.isArray(schema)) schema.forEach(branch => fieldIds(branch, found))
  else if (schema && typeof schema === 'object') {
    for (const key of ['element-id', 'key-id', 'value-id']) {
      if (schema[key] !== undefined) found.add(schema[key])
    }
    if (schema.fields) for (const field of schema.fields) {
      if (field['field-id'] !== undefined) found.add(field['field-id'])
      fieldIds(field.type, found)
    }
    if (schema.items) fieldIds(schema.items, found)
    if (schema.values) fieldIds(schema.values, found)
  }
  return found
}

// Iceberg's longs (snapshot ids) exceed 2^53: decode them as BigInt instead of losing digits.
const bigLong = avro.types.LongType.__with({
  fromBuffer: buffer => buffer.readBigInt64LE(),
  toBuffer: value => {
    const buffer = Buffer.alloc(8)
    buffer.writeBigInt64LE(BigInt(value))
    return buffer
  },
  fromJSON: value => BigInt(value),
  toJSON: value => value.toString(),
  isValid: value => typeof value === 'bigint',
  compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
})
const parseHook = schema => avro.Type.forSchema(schema, { registry: { long: bigLong } })

let failed = false
for (const file of process.argv.slice(2)) {
  await new Promise(resolve => {
    let records = 0
    let header
    avro.createFileDecoder(file, { parseHook })
      .on('metadata', (type, codec, fileHeader) => { header = { type, codec, meta: fileHeader.meta } })
      .on('data', () => { records++ })
      .on('error', error => { console.error(`${file}: ${error.message}`); failed = true; resolve() })
      .on('end', () => {
        const schema = JSON.parse(header.meta['avro.schema'].toString())
        const ids = fieldIds(schema)
        const isList = ids.has(500)
        const required = isList ? [500, 501, 502, 503, 507, 508, 509]
                                : [0, 1, 2, 100, 101, 102, 103, 104, 108, 125]
        const missing = required.filter(id => !ids.has(id))
        const keys = isList ? ['snapshot-id', 'format-version']
                            : ['schema', 'partition-spec', 'partition-spec-id', 'format-version', 'content']
        const missingKeys = keys.filter(key => header.meta[key] === undefined)
        if (missing.length || missingKeys.length) {
          console.error(`${file}: missing field ids [${missing}] or header keys [${missingKeys}]`)
          failed = true
        }
        console.log(`${file}: ${records} records (${header.codec})`)
        resolve()
      })
  })
}
process.exit(failed ? 1 : 0)
