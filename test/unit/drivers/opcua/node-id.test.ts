import { describe, expect, it } from 'vitest';
import { needsNamespaceArray, resolveNamespaceUri, splitNamespaceUri } from '../../../../drivers/opcua/node-id.js';

const NAMESPACES = ['http://opcfoundation.org/UA/', 'urn:host:server', 'urn:allbit:simulator:plant', 'urn:a;b'];

describe('OPC UA NodeIds with a namespace URI', () => {
  it('splits nsu= from the identifier, whatever its kind', () => {
    expect(splitNamespaceUri('nsu=urn:allbit:simulator:plant;s=chiller-1.power_kw')).toEqual({ namespaceUri: 'urn:allbit:simulator:plant', rest: 's=chiller-1.power_kw' });
    expect(splitNamespaceUri('nsu=http://vendor.example/UA/;i=1001')).toEqual({ namespaceUri: 'http://vendor.example/UA/', rest: 'i=1001' });
    expect(splitNamespaceUri('nsu=urn:x;s=a;b=c')).toEqual({ namespaceUri: 'urn:x', rest: 's=a;b=c' });
    expect(splitNamespaceUri('ns=2;s=Chiller1.SupplyTemp')).toEqual({ rest: 'ns=2;s=Chiller1.SupplyTemp' });
    expect(splitNamespaceUri(' i=2258 ')).toEqual({ rest: 'i=2258' });
  });

  it('replaces the URI with the index the server uses today', () => {
    expect(resolveNamespaceUri('nsu=urn:allbit:simulator:plant;s=chiller-1.power_kw', NAMESPACES)).toEqual({ ok: true, text: 'ns=2;s=chiller-1.power_kw' });
    expect(resolveNamespaceUri('nsu=http://opcfoundation.org/UA/;i=2258', NAMESPACES)).toEqual({ ok: true, text: 'i=2258' });
    expect(resolveNamespaceUri('nsu=urn:a%3Bb;g=09087e75-8e5e-499b-954f-f2a9603db28a', NAMESPACES)).toEqual({ ok: true, text: 'ns=3;g=09087e75-8e5e-499b-954f-f2a9603db28a' });
    expect(resolveNamespaceUri('ns=4;s=x', NAMESPACES)).toEqual({ ok: true, text: 'ns=4;s=x' });
  });

  it('names a URI the server does not know', () => {
    expect(resolveNamespaceUri('nsu=urn:nobody;s=x', NAMESPACES)).toEqual({ ok: false, error: "namespace urn:nobody is not in the server's NamespaceArray" });
  });

  it('asks for the NamespaceArray only when a NodeId needs it', () => {
    expect(needsNamespaceArray(['ns=2;s=a', 'i=85'])).toBe(false);
    expect(needsNamespaceArray(['ns=2;s=a', 'nsu=urn:x;s=b'])).toBe(true);
  });
});
