/**
 * The server's own certificate: where it lives in the PKI folder, its thumbprint, and renewal.
 * A renewed certificate and key are prepared in `<pkiDir>/renewal/` and moved into `own/` just
 * before the next start, so the running server keeps presenting the one it started with.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { extractFullyQualifiedDomainName, getFullyQualifiedDomainName, getHostname, getIpAddresses } from 'node-opcua-hostname';

export interface OwnCertificatePaths {
  certificateFile: string;
  privateKeyFile: string;
}

/** The paths node-opcua's server uses by default inside its PKI folder. */
export function ownCertificatePaths(pkiDir: string): OwnCertificatePaths {
  return {
    certificateFile: join(pkiDir, 'own', 'certs', 'certificate.pem'),
    privateKeyFile: join(pkiDir, 'own', 'private', 'private_key.pem'),
  };
}

export function thumbprintOf(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex');
}

function renewalDir(pkiDir: string): string {
  return join(pkiDir, 'renewal');
}

export interface CertificateIdentity {
  applicationUri: string;
  applicationName: string;
  /** Host names and IP addresses the endpoint URL may use, besides the machine's own. */
  hosts: string[];
}

/** Creates a new key and self-signed certificate, ready for the next start; returns the certificate's thumbprint. */
export async function prepareRenewedCertificate(pkiDir: string, identity: CertificateIdentity): Promise<string> {
  const dir = renewalDir(pkiDir);
  rmSync(dir, { recursive: true, force: true });
  const manager = new OPCUACertificateManager({ rootFolder: dir, disableFileWatchers: true });
  try {
    await manager.initialize(); // generates the new private key
    await extractFullyQualifiedDomainName();
    const isIp = (h: string) => /^[\d.]+$/.test(h) || h.includes(':');
    const hostname = getHostname();
    const { certificateFile } = ownCertificatePaths(dir);
    await manager.createSelfSignedCertificate({
      applicationUri: identity.applicationUri,
      dns: [...new Set([getFullyQualifiedDomainName(), hostname, ...identity.hosts.filter((h) => !isIp(h))])].sort(),
      ip: [...new Set([...getIpAddresses(), ...identity.hosts.filter(isIp)])].sort(),
      subject: `/CN=${identity.applicationName}@${hostname}/O=allbit`,
      startDate: new Date(),
      validity: 365,
      outputFile: certificateFile,
    });
    return thumbprintOf(new X509Certificate(readFileSync(certificateFile)).raw);
  } finally {
    await manager.dispose();
  }
}

/** Moves a prepared certificate and key into `own/`, replacing the old ones; true if there was one. */
export function installRenewedCertificate(pkiDir: string): boolean {
  const staged = ownCertificatePaths(renewalDir(pkiDir));
  if (!existsSync(staged.certificateFile) || !existsSync(staged.privateKeyFile)) return false;
  const own = ownCertificatePaths(pkiDir);
  mkdirSync(join(pkiDir, 'own', 'certs'), { recursive: true });
  mkdirSync(join(pkiDir, 'own', 'private'), { recursive: true });
  renameSync(staged.privateKeyFile, own.privateKeyFile);
  renameSync(staged.certificateFile, own.certificateFile);
  rmSync(renewalDir(pkiDir), { recursive: true, force: true });
  return true;
}
