/**
 * node-opcua, loaded on first use. Importing this module costs nothing; `loadNodeOpcua()` pays
 * for node-opcua-client only when an OPC UA device is opened or the `opcua` command runs, so a
 * Modbus-only gateway never loads it. Measured (Node 20, RSS): 39 MB for a bare process, 44 MB
 * after importing drivers/opcua/index.js (no node-opcua module loaded), 111–115 MB once
 * node-opcua-client and node-opcua-certificate-manager are loaded (~300 modules, ~0.7 s).
 *
 * On Node 20–21, loading node-opcua-secure-channel starts a self-test that generates a 4096-bit
 * RSA key (to warn about CVE-2023-46809): about 4 s of CPU here, on a libuv thread, which also
 * keeps a short-lived process (the CLI) alive until it is done.
 *
 * node-opcua writes its warnings and errors with console.log, straight to stdout, from a
 * process-wide logger. Once loaded, they are routed to the logger given to the first load (at
 * debug level: the driver reports what matters itself, with the device and endpoint named).
 * It is a library-wide hook, so it is installed once per process.
 *
 * OPCUACertificateManager is not re-exported by node-opcua-client; it comes from
 * node-opcua-certificate-manager, the exact version node-opcua-client depends on (hoisted).
 */
import { format } from 'node:util';
import type { Logger } from '../../agent/core/logger.js';

export type NodeOpcua = typeof import('node-opcua-client');
export type CertificateManagerModule = typeof import('node-opcua-certificate-manager');

export interface OpcUaLibrary {
  client: NodeOpcua;
  certificates: CertificateManagerModule;
}

let loaded: Promise<OpcUaLibrary> | null = null;
let sink: Logger | null = null;

export function loadNodeOpcua(logger: Logger): Promise<OpcUaLibrary> {
  sink ??= logger.child({ lib: 'node-opcua' });
  loaded ??= (async () => {
    const [client, certificates] = await Promise.all([import('node-opcua-client'), import('node-opcua-certificate-manager')]);
    // node-opcua calls these with (caller context, ...console.log arguments).
    const forward = (_context?: unknown, ...args: unknown[]) => sink?.debug({}, format(...args));
    client.setWarningLogger(forward);
    client.setErrorLogger(forward);
    return { client, certificates };
  })();
  loaded.catch(() => {
    loaded = null;
  });
  return loaded;
}
