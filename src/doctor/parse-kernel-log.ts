// tcp_syn_flood_action's warning in `dmesg`, `dmesg -T` or `journalctl -k` output (spec §1.3):
//   3.10:       TCP: TCP: Possible SYN flooding on port 80. Sending cookies.  Check SNMP counters.
//               (an IPv6 listener: TCP: TCPv6: …, and request_sock_TCPv6 on 4.4+)
//   4.4 – 6.1:  TCP: request_sock_TCP: Possible SYN flooding on port 80. Dropping request.  Check SNMP counters.
//   6.2+:       TCP: request_sock_TCP: Possible SYN flooding on port 10.0.0.1:80. Sending cookies.
//               (IPv6: port [::1]:80; a wildcard listener shows 0.0.0.0, spec §8a)

export interface FloodLine {
  /** The listener's bound address (6.2+ form), or null when the line names only a port. */
  address: string | null;
  port: number;
  sendingCookies: boolean;
  /** The text before "TCP:" (dmesg's [uptime], dmesg -T's date, journalctl's prefix), trimmed. */
  when: string;
  /** Which kernel's wording (spec §1.3). */
  form: 'v3.10' | 'v4.4' | 'v6.2';
  line: string;
}

const FLOOD =
  /^(.*?)TCP: (TCP(?:v6)?|request_sock_TCP(?:v6)?): Possible SYN flooding on port (?:\[([0-9a-fA-F:.]+)\]:|(\d{1,3}(?:\.\d{1,3}){3}):)?(\d+)\. (Sending cookies|Dropping request)\./;

export function parseFloodLines(text: string): FloodLine[] {
  const lines: FloodLine[] = [];
  for (const raw of text.split('\n')) {
    const match = FLOOD.exec(raw.trim());
    if (!match) continue;
    const address = match[3] ?? match[4] ?? null;
    lines.push({
      address,
      port: Number(match[5]),
      sendingCookies: match[6] === 'Sending cookies',
      when: match[1]!.replace(/\s*kernel:\s*$/, '').trim(),
      form: address !== null ? 'v6.2' : match[2] === 'TCP' || match[2] === 'TCPv6' ? 'v3.10' : 'v4.4',
      line: raw.trim(),
    });
  }
  return lines;
}
