// Events name their endpoints as text, "10.77.1.2:40000" or "[fd77:1::2]:40000" (snapshot.ts).
// These split one into its address and its port, for either family: an IPv6 address holds
// colons itself, so the port is what follows the last one.

/** "10.77.1.2:40000" → "10.77.1.2", "[fd77:1::2]:40000" → "fd77:1::2". */
export function endpointAddress(endpoint: string): string {
  const colon = endpoint.lastIndexOf(':');
  const host = colon < 0 ? endpoint : endpoint.slice(0, colon);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** "10.77.1.2:40000" → "40000", "[fd77:1::2]:40000" → "40000". */
export function endpointPort(endpoint: string): string {
  return endpoint.slice(endpoint.lastIndexOf(':') + 1);
}

/** An address as the host part of a URL or of an `address:port` endpoint (IPv6 in brackets, as ss and curl write it). */
export function hostPart(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** "10.77.1.2", 80 → "10.77.1.2:80"; "::", 80 → "[::]:80" (as ss writes an IPv6 endpoint). */
export function endpointText(address: string, port: number): string {
  return `${hostPart(address)}:${port}`;
}
