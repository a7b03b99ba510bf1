// s3rver that accepts one access key of our choosing instead of its built-in S3RVER/S3RVER, so a
// test can prove which credentials a request used: a second store that knows only the domain's
// key refuses the warehouse's (InvalidAccessKeyId), and vice versa. s3rver checks the access key
// id but not V4 signatures (s3rver 3.7, lib/middleware/authentication.js).
// Usage: node --openssl-legacy-provider s3rver_with_keys.mjs PORT DIRECTORY BUCKET KEY_ID SECRET
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');

const [port, directory, bucket, keyId, secret] = process.argv.slice(2);
if (!secret) {
  console.error('usage: s3rver_with_keys.mjs PORT DIRECTORY BUCKET KEY_ID SECRET');
  process.exit(2);
}
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
AWSAccount.DUMMY_ACCOUNT.createKeyPair(keyId, secret);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
await server.run();
console.log(`s3rver on ${port} accepting only ${keyId}`);
