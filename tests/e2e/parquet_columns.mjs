// Reads Parquet files with hyparquet (an independent JavaScript reader, no meshwork in between)
// and prints the chosen columns of every row as JSON lines: what any engine reading the files of
// a data product sees.
// Usage: node parquet_columns.mjs COLUMNS FILE...   (COLUMNS: comma-separated names)
import { readFileSync } from 'node:fs'
import { parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'

const [columnList, ...files] = process.argv.slice(2)
if (!columnList || files.length === 0) {
  console.error('usage: node parquet_columns.mjs COLUMNS FILE...')
  process.exit(2)
}
const columns = columnList.split(',')
try {
  for (const path of files) {
    const bytes = readFileSync(path)
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    const rows = await parquetReadObjects({ file, columns, compressors })
    for (const row of rows) {
      console.log(JSON.stringify(columns.map((name) => {
        const value = row[name]
        return typeof value === 'bigint' ? value.toString() : value ?? null
      })))
    }
  }
} catch (error) {
  console.error(`hyparquet failed: ${error.stack ?? error}`)
  process.exit(1)
}
