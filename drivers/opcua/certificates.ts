/**
 * Server certificates as people see them: thumbprint, subject, validity — and the words that tell
 * a technician how to trust one. node:crypto only (no node-opcua), so it is cheap and testable.
 */
import { createHash, X509Certificate } from 'node:crypto';

/**
 * The first certificate of a DER chain (OPC UA sends the server certificate followed by its
 * issuers, concatenated). Reads the outer SEQUENCE's length; returns the input if it is not DER.
 */
export function leafCertificate(der: Buffer): Buffer {
  if (der.length < 2 || der[0] !== 0x30) return der;
  const first = der[1];
  let length: number;
  let header: number;
  if (first < 0x80) {
    length = first;
    header = 2;
  } else {
    const bytes = first & 0x7f;
    if (bytes === 0 || bytes > 4 || der.length < 2 + bytes) return der;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[2 + i];
    header = 2 + bytes;
  }
  const end = header + length;
  return end < der.length ? der.subarray(0, end) : der;
}

/** SHA-1 of the DER certificate, lowercase hex without separators (as node-opcua names files in trusted/ and rejected/). */
export function thumbprintOf(der: Buffer): string {
  return createHash('sha1').update(leafCertificate(der)).digest('hex');
}

/** "9a842a…" or "9A:84:2A:…" → "9a842a…" (what `--thumbprint` accepts). */
export function normalizeThumbprint(text: string): string {
  return text.replace(/[\s:]/g, '').toLowerCase();
}

export interface CertificateSummary {
  thumbprint: string;
  /** "CN=allbit plant simulator@host, O=allbit" */
  subject: string;
  issuer: string;
  validFrom: Date;
  validTo: Date;
  /** The application URI from subjectAltName, when present. */
  applicationUri?: string;
  selfSigned: boolean;
}

export function summarizeCertificate(der: Buffer): CertificateSummary {
  const leaf = leafCertificate(der);
  const x509 = new X509Certificate(leaf);
  const uri = /URI:([^,]+)/.exec(x509.subjectAltName ?? '')?.[1];
  return {
    thumbprint: thumbprintOf(leaf),
    subject: oneLine(x509.subject),
    issuer: oneLine(x509.issuer),
    validFrom: new Date(x509.validFrom),
    validTo: new Date(x509.validTo),
    ...(uri ? { applicationUri: uri.trim() } : {}),
    selfSigned: x509.subject === x509.issuer,
  };
}

function oneLine(distinguishedName: string): string {
  return distinguishedName.split('\n').filter(Boolean).reverse().join(', ');
}

/** The command that trusts a server's certificate, fully spelled out (quoted where the shell needs it). */
export function trustCommand(endpointUrl: string, pkiDir: string, thumbprint: string): string {
  return `allbit opcua trust --endpoint ${shellWord(endpointUrl)} --pki-dir ${shellWord(pkiDir)} --thumbprint ${thumbprint}`;
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
