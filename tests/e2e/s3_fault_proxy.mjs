// An HTTP proxy in front of an S3-compatible server that injects faults, for tests of what
// meshwork does when its object store misbehaves.
// Usage: node s3_fault_proxy.mjs LISTEN_PORT UPSTREAM_URL FLAG_FILE SEEN_FILE
//   While FLAG_FILE exists, every PUT and POST is answered 503 SlowDown (GET/HEAD/DELETE pass);
//   if it contains "parts", only multipart part uploads (PUT ...?partNumber=) are.
//   Every PUT/POST, and every DELETE of an upload (an abort), appends a line to SEEN_FILE (so a
//   test can act mid-upload and see what was sent).
import http from 'node:http'
import { appendFileSync, existsSync, readFileSync } from 'node:fs'

function failing(request) {
  if (!existsSync(flagFile)) return false
  let mode = ''
  try { mode = readFileSync(flagFile, 'utf8').trim() } catch { return false }
  if (mode === 'parts') return request.method === 'PUT' && request.url.includes('partNumber=')
  return true
}

const [port, upstream, flagFile, seenFile] = process.argv.slice(2)
const target = new URL(upstream)

const server = http.createServer((request, response) => {
  const writes = request.method === 'PUT' || request.method === 'POST'
  const abort = request.method === 'DELETE' && request.url.includes('uploadId=')
  if (writes || abort) appendFileSync(seenFile, `${request.method} ${request.url}\n`)
  if (writes && failing(request)) {
    request.resume()
    request.on('end', () => {
      response.writeHead(503, { 'content-type': 'application/xml' })
      response.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>' +
        '<Message>injected by s3_fault_proxy</Message></Error>')
    })
    return
  }
  const forward = http.request({
    host: target.hostname, port: target.port, method: request.method, path: request.url,
    headers: request.headers,
  }, (answer) => {
    response.writeHead(answer.statusCode, answer.headers)
    answer.pipe(response)
  })
  forward.on('error', () => {
    // The upstream is gone: drop the connection like a dead server would.
    response.destroy()
  })
  request.pipe(forward)
})
server.listen(Number(port), '127.0.0.1', () => console.log(`proxy on ${port}`))
