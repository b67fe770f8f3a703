#!/usr/bin/env node
// A local webhook receiver to try Junction CRM's deliveries with (`npm run receiver`).
//
//   npm run receiver                      checks signatures against the secrets in ./webhook-secrets.txt
//   npm run receiver -- whsec_a whsec_b   ... and against the secrets given as arguments
//
// It listens on 127.0.0.1:RECEIVER_PORT (default 3000) on any path, verifies the X-Webhook-Signature hex HMAC
// of each POST (and X-Webhook-Signature-Previous, sent during a secret rotation) against every known secret,
// prints one line per delivery, and answers 200 (verified), 200 "duplicate" (a webhook-id seen before) or
// 401 (no secret matches). The secrets file (WEBHOOK_SECRETS_FILE, one secret a line) is read again on each
// request, so the secret of a subscription created later can be appended while the receiver runs.
// Plain Node, no dependencies; for development only.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createHmac, timingSafeEqual } from 'node:crypto';

const port = Number(process.env.RECEIVER_PORT ?? 3000);
const secretsFile = resolve(process.env.WEBHOOK_SECRETS_FILE ?? 'webhook-secrets.txt');
const argumentSecrets = process.argv.slice(2).filter((value) => value.trim() !== '');
const seen = new Set();

function knownSecrets() {
  let lines = [];
  try {
    lines = readFileSync(secretsFile, 'utf8').split('\n');
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  return [...argumentSecrets, ...lines.map((line) => line.trim()).filter((line) => line !== '' && line !== 'null')];
}

/** The secret whose HMAC of the body equals one of the presented hex signatures, or undefined. */
function matchingSecret(rawBody, headers, secrets) {
  const presented = [headers['x-webhook-signature'], headers['x-webhook-signature-previous']].filter((s) => typeof s === 'string');
  return secrets.find((secret) => {
    const expected = Buffer.from(createHmac('sha256', secret).update(rawBody).digest('hex'));
    return presented.some((signature) => signature.length === expected.length && timingSafeEqual(Buffer.from(signature), expected));
  });
}

function handle(req, res) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const rawBody = Buffer.concat(chunks);
    const event = req.headers['x-webhook-event'] ?? '-';
    const id = req.headers['webhook-id'] ?? '-';
    if (req.method !== 'POST') {
      res.writeHead(405).end('POST only');
      return;
    }
    const secrets = knownSecrets();
    const secret = matchingSecret(rawBody, req.headers, secrets);
    if (!secret) {
      console.log(`401 ${req.url} ${event} ${id}: the signature matches none of the ${secrets.length} known secret(s) (add the subscription's secret to ${secretsFile})`);
      res.writeHead(401).end('signature not verified');
      return;
    }
    // One event reaches every subscription it matches with the same webhook-id; each path is one endpoint.
    const key = `${req.url} ${id}`;
    if (seen.has(key)) {
      console.log(`200 ${req.url} ${event} ${id}: duplicate (already received), acknowledged`);
      res.writeHead(200).end('duplicate');
      return;
    }
    seen.add(key);
    console.log(`200 ${req.url} ${event} ${id}: signature ok (secret ${secret.slice(0, 12)}…) ${rawBody.toString('utf8')}`);
    res.writeHead(200).end('ok');
  });
}

// Loopback only, on IPv4 and (where the machine has it) IPv6, since `localhost` may resolve to either.
const ipv4 = http.createServer(handle);
const ipv6 = http.createServer(handle);
ipv4.on('error', (error) => {
  console.error(error.code === 'EADDRINUSE' ? `port ${port} is in use (a receiver already running?); set RECEIVER_PORT=…` : error.message);
  process.exit(1);
});
ipv6.on('error', () => ipv6.close());
ipv4.listen(port, '127.0.0.1', () => {
  ipv6.listen(port, '::1');
  console.log(`receiver listening on http://localhost:${port}/ (secrets: ${argumentSecrets.length} given, file ${secretsFile})`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    ipv6.close();
    ipv4.close(() => process.exit(0));
  });
}
