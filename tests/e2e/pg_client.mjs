// node `pg` (8.23) against `meshwork serve --pg` on the demo mesh, as an application uses it:
//   a. parameterised queries ($1, $2, … with text, numbers, dates, NULL) through the extended
//      protocol over finance.q3_revenue, customers.customers and marketing.campaign_performance
//      return exactly what the same query with the values written inline returns (simple
//      protocol); named prepared statements and row-limited Execute (PortalSuspended) too;
//   b. binary results (`binary: true`) of int2/int4/int8/float4/float8/numeric/date/timestamp/
//      timestamptz/text/bool/uuid decode, by this file's own decoder and by pg's parsers, to the
//      values of the text results;
//   c. a long query is cancelled with a CancelRequest (pg's Client#cancel, and a raw 16-byte
//      request: a wrong secret is ignored) and fails with 57014 quickly; statement_timeout
//      does the same; the connection stays usable;
//   d. 20 concurrent clients, each with its own parameterised query, get their own answers;
//   e. errors carry SQLSTATEs: 42501, 42P01, 42601 with a position, 28P01, 3D000.
// Every check prints "ok   …"; the first failure throws (exit 1).
// Usage: TZ=UTC node pg_client.mjs HOST PORT USER PASSWORD
import assert from 'node:assert/strict'
import net from 'node:net'
import pg from 'pg'

const [host, portText, user, password] = process.argv.slice(2)
if (!host || !portText || !user || !password) {
  console.error('usage: node pg_client.mjs HOST PORT USER PASSWORD')
  process.exit(2)
}
process.env.TZ = 'UTC'
const config = { host, port: Number(portText), user, password, database: 'mesh' }
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const ok = message => console.log(`ok   ${message}`)

async function connect(extra = {}) {
  const client = new pg.Client({ ...config, ...extra })
  await client.connect()
  return client
}

// The SQL literal of a parameter value, for the same query without parameters.
function literal(value) {
  if (value === null) return 'NULL'
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  if (value instanceof Date) return `'${value.toISOString()}'`
  return `'${String(value).replaceAll("'", "''")}'`
}
function inline(text, values) {
  // $10 before $1.
  let sql = text
  for (let i = values.length; i >= 1; i--) sql = sql.replaceAll(`$${i}`, literal(values[i - 1]))
  return sql
}
const shape = result => result.fields.map(f => `${f.name}:${f.dataTypeID}`).join(',')

async function expectError(promise, code, what) {
  try {
    await promise
  } catch (error) {
    assert.equal(error.code, code, `${what}: SQLSTATE ${error.code} (${error.message}), expected ${code}`)
    return error
  }
  assert.fail(`${what}: succeeded, expected SQLSTATE ${code}`)
}

// ---- a. parameterised queries ----------------------------------------------------------------
async function parameterised() {
  const client = await connect()
  const cases = [
    {
      name: 'finance.q3_revenue: text, dates and a number',
      text: `SELECT customer_id, revenue_date, country, segment, invoices, gross_revenue, net_revenue
             FROM finance.q3_revenue
             WHERE country = $1 AND revenue_date BETWEEN $2 AND $3 AND invoices >= $4
             ORDER BY revenue_date, customer_id`,
      values: ['DE', '2026-07-01', '2026-07-14', 2],
    },
    {
      name: 'customers.customers: a decimal bound, a JS Date, a LIKE pattern with é, LIMIT $5',
      text: `SELECT customer_number, name, email, city, signup_date, credit_limit, marketing_opt_in
             FROM customers.customers
             WHERE segment = $1 AND credit_limit >= $2 AND signup_date < $3 AND name LIKE $4
             ORDER BY customer_number LIMIT $5`,
      values: ['smb', 5000.5, new Date('2025-01-01T00:00:00Z'), '%é%', 25],
    },
    {
      name: 'marketing.campaign_performance: an aggregate filtered by text, date and double',
      text: `SELECT campaign_id, count(*) AS days, sum(clicks) AS clicks, sum(spend) AS spend,
                    max(roas) AS best_roas
             FROM marketing.campaign_performance
             WHERE channel = $1 AND activity_date >= $2 AND click_through_rate > $3
             GROUP BY campaign_id ORDER BY campaign_id`,
      values: ['email', '2026-07-01', 0.0001],
    },
    {
      name: 'NULL parameters',
      text: `SELECT campaign_id, activity_date, coalesce($1, channel) AS channel,
                    $2::INTEGER IS NULL AS second_is_null, coalesce($3::DOUBLE, roas) AS roas
             FROM marketing.campaign_performance
             WHERE activity_date BETWEEN $4 AND $5
             ORDER BY activity_date, campaign_id`,
      values: [null, null, null, '2026-08-01', '2026-08-03'],
    },
    {
      name: 'quotes, unicode and numbers beyond 2^53',
      text: `SELECT $1::VARCHAR AS given, length($1::VARCHAR) AS characters, upper($2::VARCHAR) AS loud,
                    $3::BIGINT + 1 AS next, $4::DOUBLE * 2 AS twice, $5::DECIMAL(10, 3) AS rounded`,
      values: ["O'Brien — Zoë 🚀 \\ '' ;", 'chloé', 9007199254740993n, -1.25e-7, '123.4567'],
    },
    {
      name: 'a cross-domain join, $1 and $2 used twice',
      text: `SELECT date_trunc('month', f.revenue_date) AS month, count(*) AS days,
                    sum(f.net_revenue) AS net_revenue,
                    (SELECT sum(spend) FROM marketing.campaign_performance m
                      WHERE m.activity_date BETWEEN $1 AND $2) AS spend
             FROM finance.q3_revenue f JOIN customers.customers c USING (customer_id)
             WHERE c.segment = $3 AND f.revenue_date BETWEEN $1 AND $2
             GROUP BY 1 ORDER BY 1`,
      values: ['2026-07-01', '2026-08-31', 'enterprise'],
    },
  ]
  for (const c of cases) {
    const extended = await client.query({ text: c.text, values: c.values, rowMode: 'array' })
    const simple = await client.query({ text: inline(c.text, c.values), rowMode: 'array' })
    assert.ok(extended.rows.length > 0, `${c.name}: no rows`)
    assert.equal(shape(extended), shape(simple), `${c.name}: columns`)
    assert.deepEqual(extended.rows, simple.rows, `${c.name}: rows differ from the inline query`)
    ok(`$n: ${c.name} — ${extended.rows.length} rows, same as inline`)
  }
  const unicode = await client.query({ text: cases[4].text, values: cases[4].values })
  assert.equal(unicode.rows[0].given, cases[4].values[0])
  assert.equal(unicode.rows[0].characters, String([...cases[4].values[0]].length))
  assert.equal(unicode.rows[0].next, '9007199254740994')
  assert.equal(unicode.rows[0].loud, 'CHLOÉ')
  assert.equal(unicode.rows[0].rounded, '123.457')
  ok('$n: text round-trips byte for byte; bigint past 2^53 exact; decimal rounded')

  // Parameters filter what they should: the segment counts add up to the whole table.
  let total = 0
  for (const segment of ['consumer', 'smb', 'enterprise']) {
    const result = await client.query({
      name: 'segment-count',
      text: 'SELECT count(*) AS n FROM customers.customers WHERE segment = $1',
      values: [segment],
    })
    total += Number(result.rows[0].n)
  }
  const all = await client.query('SELECT count(*) AS n FROM customers.customers')
  assert.equal(total, Number(all.rows[0].n))
  assert.equal(total, 1000)
  ok('a named prepared statement run 3 times: segment counts add up to 1000 customers')

  // Execute with a row limit: pg fetches 7 rows per Execute (PortalSuspended) until done.
  const text = `SELECT customer_id, revenue_date, net_revenue FROM finance.q3_revenue
                WHERE revenue_date = $1 ORDER BY customer_id`
  const whole = await client.query({ text, values: ['2026-07-04'], rowMode: 'array' })
  const paged = await client.query({ text, values: ['2026-07-04'], rowMode: 'array', rows: 7 })
  assert.ok(whole.rows.length > 14)
  assert.deepEqual(paged.rows, whole.rows)
  ok(`Execute 7 rows at a time: ${paged.rows.length} rows in ${Math.ceil(paged.rows.length / 7)} portal runs, same rows`)

  // An error in the extended protocol leaves the connection usable (the server skips to Sync).
  await expectError(client.query({ text: 'SELECT $1::INTEGER', values: ['not a number'] }), '22P02',
    'a bad integer parameter')
  const after = await client.query({ text: 'SELECT $1::INTEGER + 1 AS n', values: [41] })
  assert.equal(after.rows[0].n, 42)
  ok('a bad parameter fails with 22P02 and the next parameterised query works')
  await client.end()
}

// ---- b. binary results -------------------------------------------------------------------------
// Canonical text of a value as the server sent it in text, and from its binary form.
const EPOCH_2000_MICROS = 946684800000000n
function microsOfText(text) {
  const m = /^(-?\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-]\d\d)(?::?(\d\d))?)?$/.exec(text)
  assert.ok(m, `timestamp text '${text}'`)
  const seconds = BigInt(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))) / 1000n
  const fraction = BigInt((m[7] ?? '').padEnd(6, '0'))
  const offset = m[8] ? (Number(m[8]) * 60 + Math.sign(Number(m[8]) || 1) * Number(m[9] ?? 0)) * 60 : 0
  return seconds * 1000000n + fraction - BigInt(offset) * 1000000n
}
function dateOfDays(days) {
  return new Date(Date.UTC(2000, 0, 1) + days * 86400000).toISOString().slice(0, 10)
}
function numericOfBinary(buffer) {
  const count = buffer.readInt16BE(0)
  const weight = buffer.readInt16BE(2)
  const sign = buffer.readUInt16BE(4)
  const scale = buffer.readInt16BE(6)
  if (sign === 0xc000) return 'NaN'
  let whole = ''
  let fraction = ''
  for (let i = 0; i < count; i++) {
    const digits = String(buffer.readInt16BE(8 + 2 * i)).padStart(4, '0')
    if (i <= weight) whole += digits
    else fraction += digits
  }
  // Groups implied by the weight: zeros between the last digit group and the point, or after it.
  if (weight >= count) whole += '0000'.repeat(weight - count + 1)
  if (weight < -1) fraction = '0000'.repeat(-weight - 1) + fraction
  whole = whole.replace(/^0+/, '') || '0'
  fraction = fraction.padEnd(scale, '0').slice(0, scale)
  return (sign === 0x4000 ? '-' : '') + whole + (scale > 0 ? `.${fraction}` : '')
}
function fromBinary(oid, buffer) {
  switch (oid) {
    case 16: assert.equal(buffer.length, 1); return buffer[0] ? 't' : 'f'
    case 21: assert.equal(buffer.length, 2); return String(buffer.readInt16BE(0))
    case 23: assert.equal(buffer.length, 4); return String(buffer.readInt32BE(0))
    case 20: assert.equal(buffer.length, 8); return String(buffer.readBigInt64BE(0))
    case 700: assert.equal(buffer.length, 4); return `f4:${buffer.readFloatBE(0)}`
    case 701: assert.equal(buffer.length, 8); return `f8:${buffer.readDoubleBE(0)}`
    case 1700: return numericOfBinary(buffer)
    case 1082: {
      assert.equal(buffer.length, 4)
      const days = buffer.readInt32BE(0)
      return days === 2147483647 ? 'infinity' : days === -2147483648 ? '-infinity' : dateOfDays(days)
    }
    case 1114: case 1184: {
      assert.equal(buffer.length, 8)
      const micros = buffer.readBigInt64BE(0)
      if (micros === 9223372036854775807n) return 'us:infinity'
      if (micros === -9223372036854775808n) return 'us:-infinity'
      return `us:${micros + EPOCH_2000_MICROS}`
    }
    case 2950: {
      assert.equal(buffer.length, 16)
      const hex = buffer.toString('hex')
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
    }
    case 25: return buffer.toString('utf8')
    default: assert.fail(`no binary decoder for type ${oid}`)
  }
}
function fromText(oid, text) {
  switch (oid) {
    case 700: return `f4:${Math.fround(Number(text))}`
    case 701: return `f8:${Number(text)}`
    case 1114: case 1184: return `us:${/infinity$/.test(text) ? text : microsOfText(text)}`
    default: return text
  }
}

// The messages of a byte stream from the server: RowDescription's formats and DataRow's values
// as raw bytes. (pg 8.23 hands binary values to type parsers after a round trip through a UTF-8
// string, which mangles bytes >= 0x80 — brianc/node-postgres#3495 — so the bytes are read off the
// socket here.)
function rowsOfStream(bytes) {
  const out = { formats: [], rows: [] }
  for (let at = 0; at + 5 <= bytes.length;) {
    const type = String.fromCharCode(bytes[at])
    const length = bytes.readInt32BE(at + 1)
    const body = bytes.subarray(at + 5, at + 1 + length)
    at += 1 + length
    if (type === 'T') {
      let p = 2
      for (let i = 0; i < body.readInt16BE(0); i++) {
        p = body.indexOf(0, p) + 1 + 4 + 2 + 4 + 2 + 4
        out.formats.push(body.readInt16BE(p))
        p += 2
      }
    } else if (type === 'D') {
      const row = []
      let p = 2
      for (let i = 0; i < body.readInt16BE(0); i++) {
        const size = body.readInt32BE(p)
        p += 4
        row.push(size < 0 ? null : Buffer.from(body.subarray(p, p + size)))
        p += Math.max(size, 0)
      }
      out.rows.push(row)
    }
  }
  return out
}

async function binaryResults() {
  const client = new pg.Client(config)
  const received = []
  // A copy: pg's parser reuses a chunk's memory for the next one.
  client.connection.stream.on('data', chunk => received.push(Buffer.from(chunk)))
  await client.connect()
  const raw = { getTypeParser: () => value => value }
  const queries = [
    `SELECT 42::INTEGER AS int4, (-2147483648)::INTEGER AS int4_min, 1000::INTEGER AS int4_1000,
            7::SMALLINT AS int2, (-300)::SMALLINT AS int2_negative,
            9007199254740993::BIGINT AS int8, (-9223372036854775808)::BIGINT AS int8_min,
            -1.5e300::DOUBLE AS float8, 'NaN'::DOUBLE AS nan, 'Infinity'::DOUBLE AS inf,
            '-Infinity'::DOUBLE AS minus_inf, 0.1::REAL AS float4,
            12345.67::DECIMAL(14, 2) AS numeric, (-0.05)::DECIMAL(6, 3) AS numeric_negative,
            123456789012345678901234567890.123::DECIMAL(38, 3) AS numeric_wide,
            0::DECIMAL(10, 2) AS numeric_zero, 10000::DECIMAL(12, 0) AS numeric_10000,
            0.0001::DECIMAL(8, 4) AS numeric_small, 170141183460469231731687303715884105727::HUGEINT AS huge,
            DATE '2026-07-01' AS date, DATE '1999-12-31' AS date_before_2000, DATE '1970-01-01' AS epoch,
            TIMESTAMP '2026-07-01 12:34:56.789012' AS ts, TIMESTAMP '1969-07-20 20:17:40' AS ts_before_1970,
            TIMESTAMP '2000-01-01 00:00:00.5' AS ts_half, TIMESTAMPTZ '2026-07-01 12:00:00+02' AS tstz,
            'infinity'::DATE AS date_inf, '-infinity'::DATE AS date_minus_inf,
            'infinity'::TIMESTAMP AS ts_inf, '-infinity'::TIMESTAMP AS ts_minus_inf,
            'Zoë 🚀'::VARCHAR AS text, '' AS empty_text, true AS yes, false AS no,
            md5('x')::UUID AS uuid, NULL::INTEGER AS null_int, NULL::VARCHAR AS null_text`,
    `SELECT customer_id, customer_number, name, email, signup_date, marketing_opt_in, credit_limit,
            signup_date::TIMESTAMP + INTERVAL 90 MINUTE AS signup_ts
     FROM customers.customers ORDER BY customer_number`,
    `SELECT customer_id, revenue_date, invoices, gross_revenue, discounts, net_revenue, card_hash
     FROM finance.q3_revenue ORDER BY revenue_date, customer_id LIMIT 2000`,
    `SELECT campaign_id, activity_date, impressions, clicks, spend, revenue_attributed,
            click_through_rate, conversion_rate, roas
     FROM marketing.campaign_performance ORDER BY activity_date, campaign_id`,
  ]
  const seen = new Set()
  let values = 0
  for (const text of queries) {
    const asText = await client.query({ text, queryMode: 'extended', rowMode: 'array', types: raw })
    received.length = 0
    const asBinary = await client.query({ text, queryMode: 'extended', rowMode: 'array', types: raw, binary: true })
    const wire = rowsOfStream(Buffer.concat(received))
    assert.equal(shape(asBinary), shape(asText))
    assert.ok(asBinary.fields.every(f => f.format === 'binary'), 'pg sees binary columns')
    assert.ok(wire.formats.length === asText.fields.length && wire.formats.every(f => f === 1),
      'RowDescription announces binary')
    assert.ok(asText.fields.every(f => f.format === 'text'))
    assert.equal(asBinary.rows.length, asText.rows.length)
    assert.equal(wire.rows.length, asText.rows.length)
    assert.ok(asText.rows.length > 0)
    for (let r = 0; r < asText.rows.length; r++) {
      for (let c = 0; c < asText.fields.length; c++) {
        const t = asText.rows[r][c]
        const b = wire.rows[r][c]
        const name = asText.fields[c].name
        if (t === null || b === null) {
          assert.equal(b, t, `${name}: NULL in one format only`)
          continue
        }
        const oid = asText.fields[c].dataTypeID
        seen.add(oid)
        assert.equal(fromBinary(oid, b), fromText(oid, t), `row ${r} column ${name} (type ${oid}): binary vs text '${t}'`)
        values++
      }
    }
  }
  for (const oid of [16, 20, 21, 23, 25, 700, 701, 1082, 1114, 1184, 1700, 2950]) {
    assert.ok(seen.has(oid), `type ${oid} was not covered`)
  }
  ok(`binary results: ${values} values of types ${[...seen].sort((a, b) => a - b).join(',')} decode to the text results`)

  // pg's own binary parsers, where its UTF-8 round trip keeps the bytes (values below 0x80 in
  // every byte): the same JavaScript values as its text parsers.
  const text = `SELECT n::INTEGER AS int4, n::BIGINT AS int8, n % 2 = 0 AS even, 'c' || n AS label
                FROM range(1, 120) t(n) WHERE n > $1 ORDER BY n`
  const parsedText = await client.query({ text, values: [10] })
  const parsedBinary = await client.query({ text, values: [10], binary: true })
  assert.equal(parsedText.rows.length, 109)
  assert.deepEqual(parsedBinary.rows, parsedText.rows)
  assert.equal(typeof parsedBinary.rows[0].int4, 'number')
  assert.equal(typeof parsedBinary.rows[0].even, 'boolean')
  ok(`pg's binary parsers give the same ${parsedBinary.rows.length} rows as its text parsers (int4, int8, bool, text)`)

  // A date PostgreSQL's binary format cannot carry: an error after the rows before it, cleanly
  // framed (the half-written row is dropped whole), and the connection goes on.
  const early = `SELECT 'D' || n AS label, CASE WHEN n = 3 THEN '5877642-06-25 (BC)'::DATE
                                              ELSE DATE '2026-07-01' + n::INTEGER END AS day
                 FROM range(5) t(n) ORDER BY n`
  const range = await expectError(client.query({ text: early, queryMode: 'extended', binary: true }), '22008',
    'a date before PostgreSQL binary range')
  assert.match(range.message, /out of range/)
  assert.equal((await client.query({ text: early, queryMode: 'extended' })).rows.length, 5)
  ok('binary: infinite dates and timestamps are PostgreSQL\'s infinities; a date out of its range is 22008, the connection goes on')

  // A binary parameter (pg sends Buffers in binary format).
  const echoed = await client.query({ text: 'SELECT $1::VARCHAR AS t', values: [Buffer.from('héllo')] })
  assert.equal(echoed.rows[0].t, 'héllo')
  ok('a Buffer parameter (binary format) arrives as its text')
  await client.end()
}

// ---- c. cancel and statement_timeout -------------------------------------------------------
// Far more work than a test waits for, without sleep() and without memory: 10^12 hashed rows.
const LONG = 'SELECT sum(hash(a.i + b.j)) AS s FROM range(1000000) a(i), range(1000000) b(j)'
const LONG_WITH_PARAMETER =
  'SELECT sum(hash(a.i + b.j + $1)) AS s FROM range(1000000) a(i), range(1000000) b(j)'

function rawCancel(processId, secret) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(config.port, config.host, () => {
      const request = Buffer.alloc(16)
      request.writeInt32BE(16, 0)
      request.writeInt32BE(80877102, 4)
      request.writeInt32BE(processId, 8)
      request.writeInt32BE(secret | 0, 12)
      socket.end(request)
    })
    socket.on('data', data => reject(new Error(`the server answered a CancelRequest with ${data.length} bytes`)))
    socket.on('close', resolve)
    socket.on('error', reject)
  })
}

async function pending(promise, ms) {
  const marker = Symbol('pending')
  const winner = await Promise.race([promise.then(() => 'done', () => 'failed'), sleep(ms).then(() => marker)])
  return winner === marker
}

async function cancellation() {
  const client = await connect()
  assert.ok(Number.isInteger(client.processID) && client.processID !== 0, 'BackendKeyData pid')

  // pg's API: a second, unconnected Client sends the CancelRequest for the active query.
  const query = new pg.Query(LONG)
  const failed = new Promise(resolve => query.on('error', resolve))
  query.on('end', () => assert.fail('the long query finished'))
  client.query(query)
  await sleep(400)
  const cancelledAt = Date.now()
  new pg.Client(config).cancel(client, query)
  const error = await failed
  const took = Date.now() - cancelledAt
  assert.equal(error.code, '57014', error.message)
  assert.ok(took < 3000, `the cancel took ${took} ms`)
  assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1)
  ok(`Client#cancel: the long query failed with 57014 ${took} ms after the CancelRequest; the connection works`)

  // A raw CancelRequest through the extended protocol; first with a wrong secret (ignored).
  const running = client.query({ text: LONG_WITH_PARAMETER, values: [7] })
  await sleep(300)
  await rawCancel(client.processID, client.secretKey ^ 0x5a5a)
  assert.ok(await pending(running, 600), 'a CancelRequest with a wrong secret stopped the query')
  const rawAt = Date.now()
  await rawCancel(client.processID, client.secretKey)
  const rawError = await expectError(running, '57014', 'the cancelled parameterised query')
  const rawTook = Date.now() - rawAt
  assert.ok(rawTook < 3000, `the cancel took ${rawTook} ms`)
  assert.match(rawError.message, /cancel/i)
  ok(`raw CancelRequest: a wrong secret is ignored; the right one fails the query with 57014 in ${rawTook} ms`)

  // A cancel while idle does not hit the next query.
  await rawCancel(client.processID, client.secretKey)
  await sleep(100)
  const next = await client.query({ text: 'SELECT count(*) AS n FROM customers.customers WHERE segment = $1', values: ['smb'] })
  assert.ok(Number(next.rows[0].n) > 0)
  ok('a CancelRequest on an idle connection does not cancel the next query')

  // statement_timeout, simple and extended protocol.
  await client.query('SET statement_timeout = 200')
  assert.equal((await client.query('SHOW statement_timeout')).rows[0].statement_timeout, '200')
  for (const [what, run] of [['simple', () => client.query(LONG)],
                             ['extended', () => client.query({ text: LONG_WITH_PARAMETER, values: [3] })]]) {
    const startedAt = Date.now()
    const timeoutError = await expectError(run(), '57014', `statement_timeout (${what})`)
    const elapsed = Date.now() - startedAt
    assert.match(timeoutError.message, /statement timeout/)
    assert.ok(elapsed >= 190 && elapsed < 3000, `timed out after ${elapsed} ms`)
    ok(`SET statement_timeout = 200: the long query (${what} protocol) failed with 57014 after ${elapsed} ms`)
  }
  const quick = await client.query({ text: 'SELECT count(*) AS n FROM finance.q3_revenue WHERE invoices > $1', values: [0] })
  assert.equal(quick.rows[0].n, '25627')
  await client.query('SET statement_timeout = 0')
  ok('under the timeout a quick query still answers; the connection stays usable')
  await client.end()
}

// ---- d. 20 concurrent clients ----------------------------------------------------------------
async function concurrentClients() {
  const templates = [
    k => ({
      text: `SELECT count(*) AS n, sum(net_revenue) AS net, min(customer_id) AS first
             FROM finance.q3_revenue WHERE revenue_date = $1::DATE + $2::INTEGER`,
      values: ['2026-07-01', k],
    }),
    k => ({
      text: `SELECT count(*) AS n, min(name) AS first, sum(credit_limit) AS credit
             FROM customers.customers WHERE customer_number % 20 = $1 AND segment <> $2`,
      values: [k, 'enterprise'],
    }),
    k => ({
      text: `SELECT campaign_id, sum(conversions) AS conversions, sum(spend) AS spend
             FROM marketing.campaign_performance
             WHERE activity_date BETWEEN $1::DATE AND $1::DATE + $2::INTEGER
             GROUP BY campaign_id ORDER BY campaign_id`,
      values: ['2026-06-01', 5 + 4 * k],
    }),
  ]
  const queries = Array.from({ length: 20 }, (_, k) => templates[k % 3](k))
  const reference = await connect()
  const expected = []
  for (const q of queries) expected.push((await reference.query({ text: inline(q.text, q.values), rowMode: 'array' })).rows)
  await reference.end()
  const distinct = new Set(expected.map(rows => JSON.stringify(rows))).size
  assert.equal(distinct, 20, 'the 20 queries should have 20 different answers')

  const clients = await Promise.all(queries.map(() => connect()))
  const startedAt = Date.now()
  let runs = 0
  await Promise.all(clients.map(async (client, k) => {
    for (let round = 0; round < 4; round++) {
      const result = await client.query({
        ...queries[k], rowMode: 'array', binary: false,
        ...(round % 2 === 1 ? { name: `q${k}` } : {}),
      })
      assert.deepEqual(result.rows, expected[k], `client ${k} round ${round}: wrong answer`)
      runs++
    }
  }))
  const elapsed = Date.now() - startedAt
  await Promise.all(clients.map(client => client.end()))
  ok(`20 concurrent clients, ${runs} parameterised queries (unnamed and named): each got its own answer (${elapsed} ms)`)
}

// ---- e. SQLSTATEs ----------------------------------------------------------------------------
async function errors() {
  const client = await connect()
  const refused = await expectError(client.query("SELECT * FROM read_csv('/etc/passwd')"), '42501', 'read_csv')
  assert.match(refused.message, /read_csv/)
  ok(`a file function is refused with 42501: ${refused.message.split(':')[0]}`)
  await expectError(client.query({ text: 'SELECT * FROM read_csv($1)', values: ['/etc/passwd'] }), '42501',
    'read_csv with a parameter')
  ok('the same through the extended protocol: 42501')
  const missing = await expectError(client.query('SELECT * FROM finance.no_such_port'), '42P01', 'an unknown table')
  ok(`an unknown table: 42P01 (${missing.message})`)
  await expectError(client.query({ text: 'SELECT * FROM finance.no_such_port WHERE x = $1', values: [1] }),
    '42P01', 'an unknown table, extended')
  await client.query('SET search_path TO finance')
  await expectError(client.query('SELECT * FROM no_such_port'), '42P01', 'an unknown table on the search path')
  await client.query('RESET search_path')
  ok('an unknown table: 42P01 too through Parse/Bind, and unqualified on the search path')
  const sql = 'SELECT customer_id FROM finance.q3_revenue WHERE AND invoices > 1'
  const syntax = await expectError(client.query(sql), '42601', 'a syntax error')
  assert.equal(Number(syntax.position), sql.indexOf('AND') + 1, `position ${syntax.position}`)
  ok(`a syntax error: 42601 at position ${syntax.position} (the AND)`)
  const multiline = 'SELECT 1 AS one,\n       2 AS two\n  FROM finance.q3_revenue WHERE )'
  const syntax2 = await expectError(client.query({ text: multiline, values: [] , queryMode: 'extended' }), '42601', 'a syntax error, extended')
  assert.equal(Number(syntax2.position), multiline.indexOf(')') + 1, `position ${syntax2.position}`)
  ok(`a syntax error on line 3 through Parse/Bind: 42601 at position ${syntax2.position}`)
  assert.equal((await client.query('SELECT 2 AS two')).rows[0].two, 2)
  await client.end()

  await expectError(connect({ password: password + 'x' }), '28P01', 'a wrong password')
  ok('a wrong password: 28P01')
  await expectError(connect({ user: 'no-such-client' }), '28P01', 'an unknown user')
  ok('an unknown user: 28P01, the same as a wrong password')
  const database = await expectError(connect({ database: 'not_the_mesh' }), '3D000', 'a wrong database')
  assert.match(database.message, /not_the_mesh/)
  ok('a wrong database: 3D000')
}

const started = Date.now()
await parameterised()
await binaryResults()
await cancellation()
await concurrentClients()
await errors()
console.log(`node pg: all checks passed in ${Date.now() - started} ms`)
