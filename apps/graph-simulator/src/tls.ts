import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * A throwaway self-signed certificate for the simulator's HTTPS side (the token endpoint must be HTTPS:
 * @azure/identity refuses an `http:` authority). Generated in memory at start-up with node:crypto and a
 * minimal DER encoder, so no key is ever committed and no `openssl` binary is needed.
 * Clients trust it through `tlsCaCertificate` (in-process) or `NODE_EXTRA_CA_CERTS` (another process).
 */
export interface SelfSignedCertificate {
  /** PEM certificate (also the CA to trust). */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
}

function derLength(n: number): Buffer {
  if (n < 0x80) {
    return Buffer.from([n]);
  }
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) {
    bytes.unshift(v & 0xff);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const seq = (...parts: Buffer[]): Buffer => tlv(0x30, ...parts);
const set = (...parts: Buffer[]): Buffer => tlv(0x31, ...parts);
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bits = (b: Buffer): Buffer => tlv(0x03, Buffer.from([0]), b);
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const TRUE = tlv(0x01, Buffer.from([0xff]));

/**
 * DER INTEGER of an unsigned big-endian value: the shortest two's-complement encoding, i.e. no leading zero
 * byte unless the next byte has its high bit set (X.690 8.3.2). A value of zero is one zero byte.
 */
export function positiveInteger(b: Buffer): Buffer {
  let start = 0;
  while (start < b.length - 1 && b[start] === 0) {
    start += 1;
  }
  const value = b.length === 0 ? Buffer.from([0]) : b.subarray(start);
  const first = value[0] ?? 0;
  return tlv(0x02, first & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

/**
 * A random certificate serial number: 16 bytes, positive and non-zero with a non-zero first byte, so its DER
 * encoding is always exactly 16 content bytes (RFC 5280 4.1.2.2 allows at most 20).
 */
export function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [40 * a + b];
  for (const part of rest) {
    const group: number[] = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) {
      group.unshift((v & 0x7f) | 0x80);
    }
    out.push(...group);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii'))
    : tlv(0x18, Buffer.from(iso, 'ascii'));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) {
    return Buffer.from(ip.split('.').map(Number));
  }
  // IPv6: expand "::"
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(
    groups.map((g) => Buffer.from([(parseInt(g, 16) >> 8) & 0xff, parseInt(g, 16) & 0xff])),
  );
}

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

export function createSelfSignedCertificate(
  hosts: readonly string[] = ['127.0.0.1', '::1', 'localhost'],
  validDays = 3650,
  serial: Buffer = randomSerial(),
): SelfSignedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const name = seq(set(seq(oid('2.5.4.3'), utf8('Graph simulator (self-signed, development only)'))));
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(Date.now() + validDays * 24 * 3600 * 1000);
  const altNames = hosts.map((h) => (isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h, 'ascii'))));
  const extensions = seq(
    seq(oid('2.5.29.19'), TRUE, octets(seq(TRUE))), // basicConstraints: CA (it is its own trust anchor)
    seq(oid('2.5.29.15'), TRUE, octets(bits(Buffer.from([0x84])))), // keyUsage: digitalSignature, keyCertSign
    seq(oid('2.5.29.17'), octets(seq(...altNames))), // subjectAltName
  );
  const tbs = seq(
    tlv(0xa0, positiveInteger(Buffer.from([2]))),
    positiveInteger(serial),
    seq(oid(ECDSA_WITH_SHA256)),
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, seq(oid(ECDSA_WITH_SHA256)), bits(signature));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
