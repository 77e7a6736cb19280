/**
 * NodeId strings with a namespace URI ("nsu=urn:vendor:plant;s=Chiller1.SupplyTemp") → the
 * server's current namespace index ("ns=2;s=Chiller1.SupplyTemp"). Pure; the driver reads the
 * server's NamespaceArray once per session and hands it in.
 */

export interface NamespacedNodeId {
  /** The namespace URI when the text names one (nsu=…), else undefined. */
  namespaceUri?: string;
  /** The identifier part: "s=…", "i=…", "g=…" or "b=…" (with "ns=N;" when no URI was given). */
  rest: string;
}

const NSU = /^nsu=(.*?);([isgb]=.*)$/s;

export function splitNamespaceUri(text: string): NamespacedNodeId {
  const match = NSU.exec(text.trim());
  if (!match) return { rest: text.trim() };
  return { namespaceUri: decodeUri(match[1]), rest: match[2] };
}

/** OPC 10000-6 §5.3.1.11: ';' and '%' inside the URI are percent-escaped. */
function decodeUri(uri: string): string {
  return uri.replace(/%3B/gi, ';').replace(/%25/g, '%');
}

export type ResolvedNodeIdText = { ok: true; text: string } | { ok: false; error: string };

/** The NodeId text with the namespace index the server uses today. */
export function resolveNamespaceUri(text: string, namespaceArray: readonly string[]): ResolvedNodeIdText {
  const { namespaceUri, rest } = splitNamespaceUri(text);
  if (namespaceUri === undefined) return { ok: true, text: rest };
  const index = namespaceArray.indexOf(namespaceUri);
  if (index < 0) return { ok: false, error: `namespace ${namespaceUri} is not in the server's NamespaceArray` };
  return { ok: true, text: index === 0 ? rest : `ns=${index};${rest}` };
}

/** Whether any of these NodeIds names its namespace by URI (then the NamespaceArray is needed). */
export function needsNamespaceArray(texts: readonly string[]): boolean {
  return texts.some((t) => splitNamespaceUri(t).namespaceUri !== undefined);
}
