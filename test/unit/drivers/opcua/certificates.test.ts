import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafCertificate, normalizeThumbprint, summarizeCertificate, thumbprintOf, trustCommand } from '../../../../drivers/opcua/certificates.js';

let dir: string;
let server: Buffer;
let issuer: Buffer;

/** A self-signed DER certificate made by openssl, independent of the code under test. */
function makeCertificate(name: string, subject: string, extra: string[] = []): Buffer {
  const out = join(dir, `${name}.der`);
  const result = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', subject, '-days', '30', '-outform', 'DER', '-out', out, ...extra], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  return readFileSync(out);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'allbit-opcua-certs-'));
  server = makeCertificate('server', '/O=allbit/CN=plant simulator', ['-addext', 'subjectAltName=URI:urn:allbit:simulator:opcua-server,DNS:localhost']);
  issuer = makeCertificate('issuer', '/CN=allbit test CA');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('server certificates', () => {
  it('thumbprint is the SHA-1 of the DER, lowercase hex (what node:crypto shows with colons)', () => {
    const fingerprint = new X509Certificate(server).fingerprint; // "AB:CD:…"
    expect(thumbprintOf(server)).toBe(fingerprint.replace(/:/g, '').toLowerCase());
    expect(thumbprintOf(server)).toMatch(/^[0-9a-f]{40}$/);
    expect(normalizeThumbprint(fingerprint)).toBe(thumbprintOf(server));
  });

  it('takes the first certificate of a chain (server certificate followed by its issuers)', () => {
    const chain = Buffer.concat([server, issuer]);
    expect(leafCertificate(chain).equals(server)).toBe(true);
    expect(thumbprintOf(chain)).toBe(thumbprintOf(server));
    expect(leafCertificate(server)).toBe(server);
    expect(leafCertificate(Buffer.from('not der'))).toEqual(Buffer.from('not der'));
  });

  it('summarizes subject, validity and application URI', () => {
    const summary = summarizeCertificate(server);
    expect(summary.subject).toBe('CN=plant simulator, O=allbit');
    expect(summary.applicationUri).toBe('urn:allbit:simulator:opcua-server');
    expect(summary.selfSigned).toBe(true);
    expect(summary.validTo.getTime() - summary.validFrom.getTime()).toBe(30 * 24 * 3600 * 1000);
  });

  it('spells out the trust command, quoting what the shell would split', () => {
    expect(trustCommand('opc.tcp://10.0.0.20:4840/plant', '/srv/allbit/pki', 'ab12')).toBe('allbit opcua trust --endpoint opc.tcp://10.0.0.20:4840/plant --pki-dir /srv/allbit/pki --thumbprint ab12');
    expect(trustCommand('opc.tcp://h:4840', "/data/my pki/it's", 'ab12')).toBe(`allbit opcua trust --endpoint opc.tcp://h:4840 --pki-dir '/data/my pki/it'\\''s' --thumbprint ab12`);
  });
});
