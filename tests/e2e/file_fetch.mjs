// A fetch() for file:// URLs, so that readers built on fetch (icebird, hyparquet) can read a
// local warehouse: HEAD gives the size, GET honours a Range header, like an object store does.
import { open, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const networkFetch = globalThis.fetch

// MESHWORK_S3_ENDPOINT=http://127.0.0.1:PORT sends the AWS URLs icebird makes of s3:// paths
// (https://BUCKET.s3.amazonaws.com/KEY) to that S3-compatible server instead, path-style.
const s3Endpoint = process.env.MESHWORK_S3_ENDPOINT

export async function fileFetch(input, init = {}) {
  const url = typeof input === 'string' ? input : input.url
  if (s3Endpoint) {
    const aws = /^https:\/\/([a-z0-9.-]+)\.s3\.amazonaws\.com\/(.*)$/.exec(url)
    if (aws) return networkFetch(`${s3Endpoint}/${aws[1]}/${aws[2]}`, init)
  }
  if (!url.startsWith('file://')) return networkFetch(input, init)
  const path = fileURLToPath(url)
  let info
  try {
    info = await stat(path)
  } catch {
    return new Response(null, { status: 404, statusText: 'Not Found' })
  }
  const headers = new Headers({ 'content-length': String(info.size) })
  if ((init.method ?? 'GET').toUpperCase() === 'HEAD') {
    return new Response(null, { status: 200, headers })
  }
  const range = new Headers(init.headers ?? {}).get('range')
  let start = 0
  let end = info.size - 1
  if (range) {
    const match = /^bytes=(\d*)-(\d*)$/.exec(range)
    if (!match) return new Response(null, { status: 416 })
    if (match[1] === '') {
      start = Math.max(0, info.size - Number(match[2]))
    } else {
      start = Number(match[1])
      if (match[2] !== '') end = Math.min(end, Number(match[2]))
    }
  }
  const length = Math.max(0, end - start + 1)
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(length)
    await handle.read(buffer, 0, length, start)
    headers.set('content-length', String(length))
    return new Response(buffer, { status: range ? 206 : 200, headers })
  } finally {
    await handle.close()
  }
}

globalThis.fetch = fileFetch
