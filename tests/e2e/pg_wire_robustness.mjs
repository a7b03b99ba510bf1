// Hostile and broken PostgreSQL wire traffic against `meshwork serve --pg`, over raw sockets
// (this file speaks the protocol itself, SCRAM-SHA-256 included): malformed startup lengths,
// typed messages with impossible lengths (refused before anything that size is allocated: the
// server's peak RSS stays put), unknown message types, truncated frames, Bind values running
// past their message, invalid UTF-8, abrupt disconnects in the middle of large results and of
// long queries, crowds of connections dropped before authenticating. Each case checks the
// answer (an ErrorResponse with its SQLSTATE, then a close or the connection going on), and
// that the server still answers everyone else; at the end a fresh client gets the answers it
// got at the start and the server process is alive.
// Usage: node pg_wire_robustness.mjs HOST PORT USER PASSWORD SERVER_PID
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { readFileSync } from 'node:fs'
import net from 'node:net'

const [host, portText, user, password, pidText] = process.argv.slice(2)
if (!host || !portText || !user || !password || !pidText) {
  console.error('usage: node pg_wire_robustness.mjs HOST PORT USER PASSWORD SERVER_PID')
  process.exit(2)
}
const port = Number(portText)
const serverPid = Number(pidText)
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const ok = message => console.log(`ok   ${message}`)

// ---- bytes ----------------------------------------------------------------------------------
const int32 = value => { const b = Buffer.alloc(4); b.writeUInt32BE(value >>> 0); return b }
const int16 = value => { const b = Buffer.alloc(2); b.writeInt16BE(value); return b }
const cstr = text => Buffer.concat([Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), Buffer.from([0])])
// A typed message; `length` overrides the length field (for lies).
function typed(type, body = Buffer.alloc(0), length = body.length + 4) {
  return Buffer.concat([Buffer.from(type, 'latin1'), int32(length), body])
}
function startupPacket(parameters, protocol = 196608) {
  const pairs = Object.entries(parameters).flatMap(([k, v]) => [cstr(k), cstr(v)])
  const body = Buffer.concat([int32(protocol), ...pairs, Buffer.from([0])])
  return Buffer.concat([int32(body.length + 4), body])
}
const query = sql => typed('Q', cstr(sql))
const sync = () => typed('S')
function parse(sql, types = [], name = '') {
  return typed('P', Buffer.concat([cstr(name), cstr(sql), int16(types.length), ...types.map(int32)]))
}
// values: Buffer | null; formats: per value, or one for all
function bind(values, formats = [], portal = '', statement = '', resultFormats = []) {
  const encoded = values.map(v => (v === null ? int32(-1) : Buffer.concat([int32(v.length), v])))
  return typed('B', Buffer.concat([cstr(portal), cstr(statement), int16(formats.length), ...formats.map(int16),
    int16(values.length), ...encoded, int16(resultFormats.length), ...resultFormats.map(int16)]))
}
const execute = (portal = '', rows = 0) => typed('E', Buffer.concat([cstr(portal), int32(rows)]))
const describe = (kind, name = '') => typed('D', Buffer.concat([Buffer.from(kind), cstr(name)]))

// ---- a raw connection -------------------------------------------------------------------------
class Wire {
  static open() {
    return new Promise((resolve, reject) => {
      const wire = new Wire()
      wire.socket = net.connect(port, host, () => resolve(wire))
      wire.socket.on('error', reject)
    })
  }

  constructor() {
    this.buffer = Buffer.alloc(0)
    this.received = 0
    this.closed = false
    this.wake = null
  }

  set socket(socket) {
    this._socket = socket
    socket.on('data', chunk => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.received += chunk.length
      this.notify()
    })
    socket.on('close', () => { this.closed = true; this.notify() })
    socket.on('error', () => {})
  }

  get socket() { return this._socket }
  notify() { const wake = this.wake; this.wake = null; if (wake) wake() }
  send(...buffers) { this.socket.write(Buffer.concat(buffers)) }
  async waitForData(ms) {
    await Promise.race([new Promise(resolve => { this.wake = resolve }), sleep(ms)])
  }

  // The next whole message {type, body}, or null once the server closed the connection.
  async message(ms = 5000) {
    const deadline = Date.now() + ms
    while (true) {
      if (this.buffer.length >= 5) {
        const length = this.buffer.readUInt32BE(1)
        if (this.buffer.length >= length + 1) {
          const message = { type: String.fromCharCode(this.buffer[0]), body: this.buffer.subarray(5, length + 1) }
          this.buffer = this.buffer.subarray(length + 1)
          return message
        }
      }
      if (this.closed) return null
      if (Date.now() > deadline) throw new Error('no message from the server in time')
      await this.waitForData(deadline - Date.now())
    }
  }

  // One raw byte (the answer to SSLRequest).
  async byte(ms = 5000) {
    const deadline = Date.now() + ms
    while (this.buffer.length === 0) {
      if (this.closed) return null
      if (Date.now() > deadline) throw new Error('no answer byte in time')
      await this.waitForData(deadline - Date.now())
    }
    const value = String.fromCharCode(this.buffer[0])
    this.buffer = this.buffer.subarray(1)
    return value
  }

  // Resolves true once the server has closed (and sent nothing more than `allowed` types).
  async expectClose(ms = 5000) {
    const deadline = Date.now() + ms
    while (!this.closed) {
      if (Date.now() > deadline) return false
      await this.waitForData(deadline - Date.now())
    }
    return true
  }

  destroy() { this.socket.destroy() }
  reset() { this.socket.resetAndDestroy() }
}

function errorFields(body) {
  const fields = {}
  for (let at = 0; at < body.length && body[at] !== 0;) {
    const end = body.indexOf(0, at + 1)
    fields[String.fromCharCode(body[at])] = body.subarray(at + 1, end).toString('utf8')
    at = end + 1
  }
  return fields
}

// Reads messages until ReadyForQuery; returns what came.
async function untilReady(wire) {
  const out = { types: [], rows: [], errors: [], complete: [] }
  while (true) {
    const m = await wire.message()
    if (m === null) throw new Error(`closed; got ${out.types.join('')}`)
    out.types.push(m.type)
    if (m.type === 'E') out.errors.push(errorFields(m.body))
    if (m.type === 'C') out.complete.push(m.body.subarray(0, -1).toString())
    if (m.type === 'D') {
      const row = []
      let p = 2
      for (let i = 0; i < m.body.readInt16BE(0); i++) {
        const size = m.body.readInt32BE(p)
        p += 4
        row.push(size < 0 ? null : m.body.subarray(p, p + size).toString('utf8'))
        p += Math.max(size, 0)
      }
      out.rows.push(row)
    }
    if (m.type === 'Z') return out
  }
}

// An ErrorResponse with `sqlstate` and FATAL severity, then the close.
async function expectFatal(wire, sqlstate, what) {
  const m = await wire.message()
  assert.ok(m !== null, `${what}: closed without an ErrorResponse`)
  assert.equal(m.type, 'E', `${what}: got message '${m.type}'`)
  const fields = errorFields(m.body)
  assert.equal(fields.C, sqlstate, `${what}: SQLSTATE ${fields.C} (${fields.M})`)
  assert.equal(fields.S, 'FATAL', what)
  assert.ok(await wire.expectClose(), `${what}: the server kept the connection open`)
  return fields
}

// ---- SCRAM-SHA-256, the client side -------------------------------------------------------
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest()
async function login(wire, who = user, secret = password) {
  wire.send(startupPacket({ user: who, database: 'mesh', application_name: 'wire-robustness' }))
  let m = await wire.message()
  assert.equal(m.type, 'R')
  assert.equal(m.body.readInt32BE(0), 10, 'AuthenticationSASL')
  assert.ok(m.body.subarray(4).toString().includes('SCRAM-SHA-256'))
  const nonce = crypto.randomBytes(18).toString('base64')
  const clientFirstBare = `n=*,r=${nonce}`
  const first = Buffer.from(`n,,${clientFirstBare}`)
  wire.send(typed('p', Buffer.concat([cstr('SCRAM-SHA-256'), int32(first.length), first])))
  m = await wire.message()
  assert.equal(m.type, 'R')
  assert.equal(m.body.readInt32BE(0), 11, 'AuthenticationSASLContinue')
  const serverFirst = m.body.subarray(4).toString()
  const attributes = Object.fromEntries(serverFirst.split(',').map(part => [part[0], part.slice(2)]))
  assert.ok(attributes.r.startsWith(nonce), 'the server nonce extends ours')
  const salted = crypto.pbkdf2Sync(secret, Buffer.from(attributes.s, 'base64'), Number(attributes.i), 32, 'sha256')
  const clientKey = hmac(salted, 'Client Key')
  const storedKey = crypto.createHash('sha256').update(clientKey).digest()
  const withoutProof = `c=biws,r=${attributes.r}`
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`
  const signature = hmac(storedKey, authMessage)
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]))
  wire.send(typed('p', Buffer.from(`${withoutProof},p=${proof.toString('base64')}`)))
  m = await wire.message()
  if (m.type === 'E') return { error: errorFields(m.body) }
  assert.equal(m.body.readInt32BE(0), 12, 'AuthenticationSASLFinal')
  const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64')
  assert.equal(m.body.subarray(4).toString(), `v=${serverSignature}`, 'the server proves it knows the verifier')
  const session = {}
  while (true) {
    m = await wire.message()
    assert.ok(m !== null && m.type !== 'E', 'login failed after SASL')
    if (m.type === 'K') session.pid = m.body.readInt32BE(0)
    if (m.type === 'Z') return session
  }
}

async function connected() {
  const wire = await Wire.open()
  await login(wire)
  return wire
}

async function simple(wire, sql) {
  wire.send(query(sql))
  return untilReady(wire)
}

// A query whose answer is checked before, during and after the abuse.
const PROBE = `SELECT count(*), sum(invoices), min(revenue_date), max(net_revenue)
               FROM finance.q3_revenue WHERE country = 'DE'`
async function probe() {
  const wire = await connected()
  const result = await simple(wire, PROBE)
  assert.deepEqual(result.errors, [])
  wire.send(typed('X'))
  await wire.expectClose()
  return JSON.stringify(result.rows)
}

// The probe once the principal has a free query slot again: abandoned queries give theirs back
// when the server has seen the hang-up and the engine has stopped them, which takes longer on a
// slow (sanitizer) build. Any answer but "limit reached" (53300) counts at once.
async function probeWhenFree(ms) {
  const deadline = Date.now() + ms
  while (true) {
    const wire = await connected()
    const result = await simple(wire, PROBE)
    wire.send(typed('X'))
    await wire.expectClose()
    if (result.errors[0]?.C !== '53300' || Date.now() > deadline) {
      assert.deepEqual(result.errors, [])
      return JSON.stringify(result.rows)
    }
    await sleep(100)
  }
}

function serverStatus() {
  const status = readFileSync(`/proc/${serverPid}/status`, 'utf8')
  const field = name => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)[1])
  return { rssKb: field('VmRSS'), peakRssKb: field('VmHWM'), peakVirtualKb: field('VmPeak'), threads: field('Threads'), state: /^State:\s+(\S)/m.exec(status)[1] }
}

// ---- the cases ----------------------------------------------------------------------------
const expected = await probe()
const baseline = serverStatus()
console.log(`server at start: RSS ${baseline.rssKb} kB, peak ${baseline.peakRssKb} kB, ${baseline.threads} threads`)

// Startup: lengths no packet can have.
for (const [length, what] of [[0, '0'], [3, '3'], [7, '7'], [10001, '10001 (above the limit)'],
  [0x7fffffff, '2^31-1'], [0xffffffff, '2^32-1']]) {
  const wire = await Wire.open()
  wire.send(int32(length), Buffer.from('user\0root\0\0'))
  const fields = await expectFatal(wire, '08P01', `startup length ${what}`)
  assert.match(fields.M, /startup packet length/)
}
ok('startup packets of length 0, 3, 7, 10001, 2^31-1 and 2^32-1: FATAL 08P01 and closed')

{
  const wire = await Wire.open()
  wire.send(startupPacket({ user: 'root' }, 2 << 16))
  await expectFatal(wire, '0A000', 'protocol 2.0')
  const unterminated = await Wire.open()
  const body = Buffer.concat([int32(196608), Buffer.from('user\0root')])
  unterminated.send(int32(body.length + 4), body)
  await expectFatal(unterminated, '08P01', 'unterminated startup parameters')
  const badUtf8 = await Wire.open()
  badUtf8.send(startupPacket({ user: Buffer.from([0x72, 0xc3, 0x28]), database: 'mesh' }))
  await expectFatal(badUtf8, '08P01', 'a user name that is not UTF-8')
  const nobody = await Wire.open()
  nobody.send(startupPacket({ database: 'mesh' }))
  await expectFatal(nobody, '28000', 'no user')
  const badCancel = await Wire.open()
  badCancel.send(int32(12), int32(80877102), int32(1))
  await expectFatal(badCancel, '08P01', 'a CancelRequest of 12 bytes')
  const cancel = await Wire.open()
  cancel.send(int32(16), int32(80877102), int32(123456), int32(42))
  assert.ok(await cancel.expectClose())
  assert.equal(cancel.received, 0, 'a CancelRequest gets no answer')
  ok('protocol 2.0 (0A000), unterminated parameters, non-UTF-8 user (08P01), no user (28000), bad and unknown CancelRequests')
}

{
  const wire = await Wire.open()
  wire.send(int32(8), int32(80877103))
  assert.equal(await wire.byte(), 'N', 'SSLRequest without TLS configured')
  await login(wire)
  const result = await simple(wire, 'SELECT 1')
  assert.deepEqual(result.rows, [['1']])
  const greedy = await Wire.open()
  for (let i = 0; i < 4; i++) greedy.send(int32(8), int32(80877103))
  for (let i = 0; i < 3; i++) assert.equal(await greedy.byte(), 'N')
  await expectFatal(greedy, '08P01', 'a fourth SSLRequest')
  wire.destroy()
  ok("SSLRequest: 'N', then a plain login works; a fourth SSLRequest is refused")
}

{
  // Startup frames cut short, then closed or abandoned.
  const cuts = [Buffer.from([0, 0]), Buffer.concat([int32(100), Buffer.from('abc')]),
    startupPacket({ user: 'root', database: 'mesh' }).subarray(0, 20)]
  for (const cut of cuts) {
    const wire = await Wire.open()
    wire.send(cut)
    wire.socket.end()
    assert.ok(await wire.expectClose(), 'a truncated startup packet then EOF')
  }
  ok('truncated startup packets followed by EOF: closed')
}

// Authentication: broken SASL messages.
{
  const cases = [
    ['a SASL response of length -1', Buffer.concat([cstr('SCRAM-SHA-256'), int32(-1)])],
    ['a SASL response claiming 2^31-1 bytes', Buffer.concat([cstr('SCRAM-SHA-256'), int32(0x7fffffff), Buffer.from('n,,')])],
    ['another mechanism', Buffer.concat([cstr('SCRAM-SHA-1'), int32(3), Buffer.from('n,,')])],
    ['a garbage client-first-message', Buffer.concat([cstr('SCRAM-SHA-256'), int32(5), Buffer.from('x,y,z')])],
    ['no mechanism terminator', Buffer.from('SCRAM-SHA-256')],
  ]
  for (const [what, body] of cases) {
    const wire = await Wire.open()
    wire.send(startupPacket({ user, database: 'mesh' }))
    assert.equal((await wire.message()).type, 'R')
    wire.send(typed('p', body))
    await expectFatal(wire, '28P01', what)
  }
  const early = await Wire.open()
  early.send(startupPacket({ user, database: 'mesh' }))
  await early.message()
  early.send(query('SELECT 1'))
  await expectFatal(early, '28P01', 'a Query instead of the password')
  const huge = await Wire.open()
  huge.send(startupPacket({ user, database: 'mesh' }))
  await huge.message()
  huge.send(Buffer.from('p'), int32(0x7fffffff), Buffer.alloc(64))
  await expectFatal(huge, '08P01', 'a password message of 2^31-1 bytes')
  const badProof = await Wire.open()
  const refused = await login(badProof, user, password + 'nope')
  assert.equal(refused.error?.C, '28P01')
  ok('SASL: length -1, 2^31-1, other mechanism, garbage, unterminated, Query instead, a wrong proof: 28P01 (08P01 for the length)')
}

// After login: frames the reader must refuse before allocating.
{
  const before = serverStatus()
  for (const [length, what] of [[3, '3'], [0, '0'], [0x7fffffff, '2^31-1'], [0x80000000, '2^31'],
    [(64 << 20) + 5, '64 MiB + 1']]) {
    const wire = await connected()
    wire.send(Buffer.from('Q'), int32(length), Buffer.from('SELECT 1\0'))
    const fields = await expectFatal(wire, '08P01', `a Query of length ${what}`)
    assert.match(fields.M, /invalid message length/)
  }
  const after = serverStatus()
  const grown = after.peakRssKb - before.peakRssKb
  assert.ok(grown < 64 * 1024, `peak RSS grew by ${grown} kB`)
  // Even an allocation never touched would show in the peak of the address space.
  const reserved = after.peakVirtualKb - before.peakVirtualKb
  assert.ok(reserved < 1024 * 1024, `peak virtual size grew by ${reserved} kB`)
  ok(`typed messages of length 3, 0, 2^31-1, 2^31, 64 MiB + 1: FATAL 08P01 and closed; peak RSS ${before.peakRssKb} → ${after.peakRssKb} kB, peak virtual +${reserved} kB`)
}

{
  for (const type of ['z', 'F', 'd', '\x00', '\xff']) {
    const wire = await connected()
    wire.send(typed(type, Buffer.from('hello\0')))
    const fields = await expectFatal(wire, '08P01', `message type ${type.charCodeAt(0)}`)
    assert.match(fields.M, /invalid frontend message type/)
  }
  ok("unknown message types ('z', FunctionCall, CopyData, 0, 255): FATAL 08P01 and closed")
}

{
  for (const frame of [typed('Q', cstr('SELECT 1')).subarray(0, 7), Buffer.concat([Buffer.from('Q'), int32(1000), Buffer.from('SELECT')]),
    Buffer.from('P'), parse('SELECT $1').subarray(0, 12)]) {
    const wire = await connected()
    wire.send(frame)
    await sleep(20)
    wire.socket.end()
    assert.ok(await wire.expectClose(), 'a truncated frame then EOF')
    assert.equal(wire.buffer.length, 0, 'no answer to half a message')
  }
  ok('truncated frames followed by EOF: no answer, closed')
}

// Extended protocol: broken Parse/Bind/Describe/Execute; the connection goes on after Sync.
{
  const wire = await connected()
  const value = Buffer.from('abc')
  const breakers = [
    ['a Bind value running past the message', 'B', Buffer.concat([cstr(''), cstr(''), int16(0), int16(1), int32(1000), value, int16(0)]), '08P01'],
    ['a Bind value of 2^31-1 bytes', 'B', Buffer.concat([cstr(''), cstr(''), int16(0), int16(1), int32(0x7fffffff), value, int16(0)]), '08P01'],
    ['a Bind value of length -2', 'B', Buffer.concat([cstr(''), cstr(''), int16(0), int16(1), int32(-2), int16(0)]), '08P01'],
    ['a Bind with -1 parameters', 'B', Buffer.concat([cstr(''), cstr(''), int16(0), int16(-1), int16(0)]), '08P01'],
    ['a Bind with 3 formats for 1 parameter', 'B', Buffer.concat([cstr(''), cstr(''), int16(3), int16(0), int16(0), int16(0), int16(1), int32(3), value, int16(0)]), '08P01'],
    ['a Bind with format code 7', 'B', Buffer.concat([cstr(''), cstr(''), int16(1), int16(7), int16(1), int32(3), value, int16(0)]), '08P01'],
    ['a Bind with 32767 result formats and none sent', 'B', Buffer.concat([cstr(''), cstr(''), int16(0), int16(1), int32(3), value, int16(32767)]), '08P01'],
    ['a Bind with trailing bytes', 'B', Buffer.concat([cstr(''), cstr(''), int16(0), int16(1), int32(3), value, int16(0), Buffer.from('xx')]), '08P01'],
    ['a Bind without its strings terminated', 'B', Buffer.from('portal'), '08P01'],
    ['a Bind of an unknown statement', 'B', Buffer.concat([cstr(''), cstr('nope'), int16(0), int16(0), int16(0)]), '26000'],
    ['a Parse declaring 32767 parameter types and sending none', 'P', Buffer.concat([cstr(''), cstr('SELECT 1'), int16(32767)]), '08P01'],
    ['a Parse with -5 parameter types', 'P', Buffer.concat([cstr(''), cstr('SELECT 1'), int16(-5)]), '08P01'],
    ['a Parse whose SQL is not UTF-8', 'P', Buffer.concat([cstr(''), cstr(Buffer.from([0x53, 0xff, 0x31])), int16(0)]), '22021'],
    ['a Describe of kind X', 'D', Buffer.concat([Buffer.from('X'), cstr('')]), '08P01'],
    ['an empty Describe', 'D', Buffer.alloc(0), '08P01'],
    ['a Describe of an unknown portal', 'D', Buffer.concat([Buffer.from('P'), cstr('nope')]), '34000'],
    ['an Execute without its row count', 'E', cstr(''), '08P01'],
    ['an Execute of an unknown portal', 'E', Buffer.concat([cstr('nope'), int32(0)]), '34000'],
    ['a Close of kind Q', 'C', Buffer.concat([Buffer.from('Q'), cstr('')]), '08P01'],
  ]
  for (const [what, type, body, sqlstate] of breakers) {
    wire.send(parse('SELECT $1::VARCHAR AS v'), typed(type, body), execute(), sync())
    const result = await untilReady(wire)
    assert.equal(result.errors.length, 1, `${what}: ${result.types.join('')}`)
    assert.equal(result.errors[0].C, sqlstate, `${what}: ${result.errors[0].C} ${result.errors[0].M}`)
    assert.ok(!result.types.includes('D'), `${what}: the Execute after the error ran`)
  }
  // Binary parameters that do not fit their declared types.
  const binaryBreakers = [
    ['an int4 parameter of 3 bytes', [23], Buffer.from([0, 0, 1]), '22P03'],
    ['an int8 parameter of 9 bytes', [20], Buffer.alloc(9), '22P03'],
    ['a bool parameter of 0 bytes', [16], Buffer.alloc(0), '22P03'],
    ['a binary text parameter that is not UTF-8', [25], Buffer.from([0x61, 0xc0, 0xaf]), '22021'],
    ['a binary parameter of unspecified type that is not UTF-8', [0], Buffer.from([0xed, 0xa0, 0x80]), '22021'],
  ]
  for (const [what, types, bytes, sqlstate] of binaryBreakers) {
    wire.send(parse('SELECT $1 AS v', types), bind([bytes], [1]), execute(), sync())
    const result = await untilReady(wire)
    assert.equal(result.errors.length, 1, `${what}: ${result.types.join('')}`)
    assert.equal(result.errors[0].C, sqlstate, `${what}: ${result.errors[0].C} ${result.errors[0].M}`)
  }
  wire.send(parse('SELECT $1::VARCHAR AS v'), bind([Buffer.from([0x61, 0xff])]), execute(), sync())
  const textParameter = await untilReady(wire)
  assert.equal(textParameter.errors[0]?.C, '22021', 'a text parameter that is not UTF-8')
  // Still in business, extended and simple.
  wire.send(parse('SELECT $1::INTEGER * 2 AS v', [23]), bind([int32(21)], [1]), execute(), sync())
  const good = await untilReady(wire)
  assert.deepEqual(good.errors, [])
  assert.deepEqual(good.rows, [['42']])
  assert.deepEqual((await simple(wire, 'SELECT 2')).rows, [['2']])
  ok(`${breakers.length + binaryBreakers.length + 1} malformed Parse/Bind/Describe/Execute/Close messages: one ErrorResponse each with its SQLSTATE, skipped to Sync, the connection goes on`)
  wire.destroy()
}

// Invalid UTF-8 in a simple Query: 22021 and the connection continues.
{
  const wire = await connected()
  const bad = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80]]
  for (const bytes of bad) {
    wire.send(typed('Q', cstr(Buffer.concat([Buffer.from("SELECT '"), Buffer.from(bytes), Buffer.from("'")]))))
    const result = await untilReady(wire)
    assert.equal(result.errors[0]?.C, '22021', `bytes ${Buffer.from(bytes).toString('hex')}`)
  }
  wire.send(typed('Q', Buffer.from('SELECT 1')))  // no terminator
  assert.equal((await untilReady(wire)).errors[0]?.C, '08P01')
  wire.send(typed('Q', Buffer.from('SELECT 1\0SELECT 2\0')))  // NUL inside
  assert.equal((await untilReady(wire)).errors[0]?.C, '08P01')
  const after = await simple(wire, "SELECT 'Zoë 🚀' AS fine")
  assert.deepEqual(after.rows, [['Zoë 🚀']])
  ok('invalid UTF-8 in a Query (6 kinds: 22021), an unterminated and a NUL-split Query (08P01); the connection goes on')
  wire.destroy()
}

// Arbitrary chunking: many messages in one write, one message byte by byte.
{
  const wire = await connected()
  wire.send(...Array.from({ length: 200 }, (_, i) => query(`SELECT ${i}`)))
  for (let i = 0; i < 200; i++) assert.deepEqual((await untilReady(wire)).rows, [[String(i)]])
  const bytes = Buffer.concat([parse('SELECT $1::INTEGER + 1'), bind([Buffer.from('41')]), execute(), sync()])
  for (const byte of bytes) {
    wire.send(Buffer.from([byte]))
    await sleep(1)
  }
  assert.deepEqual((await untilReady(wire)).rows, [['42']])
  ok('200 queries in one write all answered in order; Parse/Bind/Execute/Sync sent byte by byte answered')
  wire.destroy()
}

// Abrupt disconnects mid-result: more of them than the principal's query limit (8), so a slot
// that was not given back would lock the principal out.
{
  for (let i = 0; i < 12; i++) {
    const wire = await connected()
    if (i % 3 === 2) {
      // Extended protocol, a portal suspended after 1000 rows, then gone.
      wire.send(parse('SELECT * FROM range($1::BIGINT)'), bind([Buffer.from('10000000')]), execute('', 1000), typed('H'))
      while (!wire.buffer.includes(Buffer.from([0x73, 0, 0, 0, 4]))) {
        assert.ok(!wire.closed, 'closed before PortalSuspended')
        await wire.waitForData(1000)
      }
    } else {
      wire.send(query('SELECT * FROM range(10000000)'))
      while (wire.received < (1 << 20)) {
        assert.ok(!wire.closed, 'closed before 1 MB of rows')
        await wire.waitForData(1000)
      }
    }
    if (i % 2 === 0) wire.reset()
    else wire.destroy()
  }
  assert.equal(await probe(), expected)
  ok('12 clients gone mid-result (RST and FIN; simple, and a suspended portal): the next client gets its answer')
}

// Gone while a long query computes (no row sent yet): more than the query limit, again.
{
  const started = Date.now()
  for (let i = 0; i < 10; i++) {
    const wire = await connected()
    wire.send(query('SELECT sum(hash(a.i + b.j)) FROM range(1000000) a(i), range(1000000) b(j)'))
    await sleep(50)
    if (i % 2 === 0) wire.reset()
    else wire.destroy()
  }
  const answered = await Promise.race([probeWhenFree(10000), sleep(15000).then(() => 'timeout')])
  assert.equal(answered, expected, 'the abandoned long queries hold the principal')
  ok(`10 clients gone (RST and FIN) while a long query ran: their queries were stopped, the next client answered within ${Date.now() - started} ms`)
}

// A crowd that connects and leaves before authenticating (more than --pg-max-connections).
{
  const crowd = []
  for (let i = 0; i < 300; i++) {
    crowd.push(Wire.open().then(wire => {
      if (i % 3 === 1) wire.send(startupPacket({ user, database: 'mesh' }).subarray(0, 11))
      if (i % 3 === 2) wire.send(startupPacket({ user, database: 'mesh' }))
      return wire
    }))
  }
  const wires = await Promise.all(crowd)
  await sleep(300)
  wires.forEach((wire, i) => (i % 2 ? wire.destroy() : wire.reset()))
  await sleep(300)
  assert.equal(await probe(), expected)
  const status = serverStatus()
  ok(`300 connections opened and dropped before authenticating; the next client is served (${status.threads} server threads)`)
}

// Everyone else keeps being served while all of this happens to someone.
{
  const bystander = await connected()
  const noise = (async () => {
    for (let i = 0; i < 20; i++) {
      const wire = await Wire.open()
      wire.send(Buffer.from('Q'), int32(0x7fffffff))
      wire.destroy()
    }
  })()
  for (let i = 0; i < 20; i++) assert.equal(JSON.stringify((await simple(bystander, PROBE)).rows), expected)
  await noise
  bystander.destroy()
  ok('a bystander ran its query 20 times, right each time, while others sent garbage')
}

await sleep(300)
assert.equal(await probe(), expected)
const end = serverStatus()
assert.notEqual(end.state, 'Z')
console.log(`server at end: RSS ${end.rssKb} kB, peak ${end.peakRssKb} kB, ${end.threads} threads (state ${end.state})`)
ok('a fresh client gets the same answer as at the start; the server is alive')
process.exit(0)  // without waiting for the timers of the races above
