import { X509Certificate } from 'node:crypto';
import { createSelfSignedCertificate, positiveInteger, randomSerial } from './tls';

describe('self-signed certificate', () => {
  it('encodes integers in DER: no redundant leading zero, a zero byte before a high bit', () => {
    expect(positiveInteger(Buffer.from([0x00, 0x05, 0x01]))).toEqual(Buffer.from([0x02, 0x02, 0x05, 0x01]));
    expect(positiveInteger(Buffer.from([0x00, 0x00, 0x80]))).toEqual(Buffer.from([0x02, 0x02, 0x00, 0x80]));
    expect(positiveInteger(Buffer.from([0x80]))).toEqual(Buffer.from([0x02, 0x02, 0x00, 0x80]));
    expect(positiveInteger(Buffer.from([0x00, 0x00]))).toEqual(Buffer.from([0x02, 0x01, 0x00]));
    expect(positiveInteger(Buffer.from([0x7f]))).toEqual(Buffer.from([0x02, 0x01, 0x7f]));
  });

  it('parses with a serial whose first byte is zero (the case that used to be invalid DER)', () => {
    const serial = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const cert = new X509Certificate(createSelfSignedCertificate(undefined, undefined, serial).cert);
    expect(cert.serialNumber.toLowerCase()).toBe('112233445566778899aabbccddeeff');
  });

  it('draws serials that are positive, 16 bytes long and never start with a zero byte', () => {
    const bad: string[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      const s = randomSerial();
      const der = positiveInteger(s);
      if (s.length !== 16 || (s[0] ?? 0) === 0 || (s[0] ?? 0) & 0x80 || der.length !== 18) {
        bad.push(s.toString('hex'));
      }
    }
    expect(bad).toEqual([]);
  });

  it('every generated certificate parses and verifies with its own key', () => {
    for (let i = 0; i < 300; i += 1) {
      const cert = new X509Certificate(createSelfSignedCertificate().cert);
      expect(cert.verify(cert.publicKey)).toBe(true);
      expect(cert.serialNumber).toMatch(/^[0-9A-F]{32}$/);
    }
  });
});

describe('the simulator certificate names', () => {
  it('include extra names (SIM_TLS_HOSTS), e.g. the Compose service name', () => {
    const cert = new X509Certificate(
      createSelfSignedCertificate(['127.0.0.1', 'localhost', 'graph-simulator']).cert,
    );
    expect(cert.subjectAltName).toContain('DNS:graph-simulator');
    expect(cert.checkHost('graph-simulator')).toBe('graph-simulator');
  });
});
