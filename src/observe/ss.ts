// `syndrop ss`: iproute2 ss's table (misc/ss.c column engine: out() → field tokens,
// render_calc_width(), render(); read, and checked against ss from iproute2 6.1 on real
// sockets in a throwaway network namespace). Pure: snapshots in, text out.
//
// What ss does and this port keeps:
// - Columns State, Recv-Q, Send-Q, "Local Address:" (right-aligned, the ':' belongs to
//   the address), Port, "Peer Address:" (right-aligned), Port, Process; Netid is off (-t).
//   Each column is as wide as its widest cell (+1 for the ' ' delimiter, except the first
//   column and the columns with an empty delimiter: both Ports and Process). Recv-Q and
//   Send-Q cells are `%-6d`.
// - Output not on a terminal ("compact": what scripts and pipes see) stops there; on a
//   terminal (pass `screenWidth`), spare width is spread over the columns as ss does.
// - Trailing spaces are kept: ss 6.1 pads the last cell of every line.
// - ss's quirk, kept: the very last cell of the output (the last row's Process cell) is
//   never measured, so a timer or -e text on the last row does not widen the column.
// - Extra per-socket text (`-o` timers, `-e` details) goes into the Process cell, each
//   item as " key:value", exactly where ss puts " timer:(...)" and " ino:... sk:...".
//
// syndrop's extension, -e on listeners: ` synq:<len>/<max> young:<n> drops:<n>`. Real ss
// never shows the SYN queue (inet_diag has no field for it); these keys exist only here.

export interface ListenerSnapshot {
  localAddress: string;
  localPort: number;
  /** sk_ack_backlog: children waiting for accept() (ss Recv-Q). */
  acceptQueueLength: number;
  /** sk_max_ack_backlog = min(backlog, somaxconn) (ss Send-Q). */
  acceptQueueMax: number;
  synQueueLength: number;
  synQueueMax: number;
  young: number;
  /** sk_drops: SYNs and ACKs this listener dropped. */
  drops: number;
}

export type SocketState =
  | 'SYN-RECV'
  | 'ESTAB'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'LAST-ACK'
  | 'CLOSING'
  | 'TIME-WAIT';

export interface SocketSnapshot {
  state: SocketState;
  localAddress: string;
  localPort: number;
  peerAddress: string;
  peerPort: number;
  recvQ: number;
  sendQ: number;
  /** idiag_retrans: SYN-ACK retransmits for SYN-RECV, data retransmits otherwise. */
  retransmits?: number;
  /** ms until the pending timer fires; no timer is shown without it. */
  expiresMs?: number;
  /**
   * ss timer name: 'on' (retransmit), 'keepalive', 'timewait', 'persist'. Defaults:
   * SYN-RECV → 'on' (inet_req_diag_fill), TIME-WAIT → 'timewait' (inet_twsk_diag_fill),
   * others → 'on'.
   */
  timer?: string;
}

export interface SsOptions {
  /** ss -e: append syndrop's listener queue details (see file comment). */
  extended?: boolean;
  /** Terminal width: ss spreads spare space when stdout is a TTY; omit for pipe output. */
  screenWidth?: number;
}

export interface SsAllOptions extends SsOptions {
  /** ss -o: timer:(name,expires,retrans). Default true (`ss -tano`). */
  timers?: boolean;
}

const enum Align {
  Left,
  Right,
}

interface Column {
  readonly align: Align;
  readonly header: string;
  readonly ldelim: string;
}

// ss.c columns[] with Netid disabled (as with -t) and the always-empty EXT column dropped:
// EXT has width 0 in our output and contributes nothing but the line end.
const COLUMNS: readonly Column[] = [
  { align: Align.Left, header: 'State', ldelim: ' ' },
  { align: Align.Left, header: 'Recv-Q', ldelim: ' ' },
  { align: Align.Left, header: 'Send-Q', ldelim: ' ' },
  { align: Align.Right, header: 'Local Address:', ldelim: ' ' },
  { align: Align.Left, header: 'Port', ldelim: '' },
  { align: Align.Right, header: 'Peer Address:', ldelim: ' ' },
  { align: Align.Left, header: 'Port', ldelim: '' },
  { align: Align.Left, header: 'Process', ldelim: '' },
];

/** ss's render(): measure, size, print. `rows` excludes the header. */
function renderTable(rows: readonly (readonly string[])[], screenWidth: number | undefined): string {
  const lines = [COLUMNS.map((c) => c.header), ...rows];
  const maxLen = COLUMNS.map(() => 0);
  lines.forEach((cells, r) => {
    cells.forEach((cell, c) => {
      // the last token of the buffer is never flushed, so never measured (ss quirk)
      if (r === lines.length - 1 && c === cells.length - 1 && r > 0) return;
      if (cell.length > maxLen[c]!) maxLen[c] = cell.length;
    });
  });
  const width = calcWidths(maxLen, screenWidth);

  let out = '';
  for (const cells of lines) {
    cells.forEach((cell, c) => {
      const col = COLUMNS[c]!;
      let printed = 0;
      let text = '';
      if (c > 0) {
        text += col.ldelim;
        printed += col.ldelim.length;
      }
      const w = width[c]!;
      if (w && col.align === Align.Right) {
        const s = w - cell.length - printed;
        if (s > 0) {
          text += ' '.repeat(s);
          printed += s;
        }
      }
      text += cell;
      printed += cell.length;
      if (w && col.align === Align.Left && w - printed > 0) text += ' '.repeat(w - printed);
      out += text;
    });
    out += '\n';
  }
  return out;
}

/** render_calc_width(): first pass (content), second pass only on a terminal. */
function calcWidths(maxLen: readonly number[], screenWidth: number | undefined): number[] {
  const screen = screenWidth === undefined || screenWidth <= 0 ? Number.MAX_SAFE_INTEGER : screenWidth;
  const width: number[] = [];
  let first = true;
  COLUMNS.forEach((col, c) => {
    let w = !first && maxLen[c]! ? maxLen[c]! + col.ldelim.length : maxLen[c]!;
    w = Math.min(w, screen);
    if (w) first = false;
    width.push(w);
  });
  if (screenWidth === undefined || screenWidth <= 0) return width;

  let eol = -1;
  let len = 0;
  let lineCols = 0;
  for (let c = 0; c < width.length; c++) {
    if (!width[c]) continue;
    lineCols++;
    len += width[c]!;
    let last = true;
    for (let t = c + 1; t < width.length; t++) {
      if (width[t]) {
        last = false;
        break;
      }
    }
    if (!last && len < screen) continue;
    if (len !== screen) {
      if (len > screen) {
        len -= width[c]!;
        c--;
        lineCols--;
      }
      const pad = screen - len;
      const spacing = lineCols > 0 ? Math.trunc(pad / lineCols) : 0;
      let rem = lineCols > 0 ? pad % lineCols : 0;
      for (let t = c; t > eol; t--) {
        if (!width[t]) continue;
        width[t] = width[t]! + spacing;
        if (rem) {
          width[t]!++;
          rem--;
        }
      }
    }
    eol = c;
    len = 0;
    lineCols = 0;
  }
  return width;
}

/** inet_addr_print's address cell: IPv6 in brackets, then the ':' delimiter. */
function addressCell(address: string): string {
  const shown = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
  return shown + ':';
}

/** resolve_service with -n: the number, or `*` for port 0. */
function portCell(port: number): string {
  return port === 0 ? '*' : String(port);
}

/** `%-6d`. */
function queueCell(n: number): string {
  return String(Math.trunc(n)).padEnd(6);
}

/** ss print_ms_timer(): 1200 → "1.200ms", 59000 → "59sec", 125000 → "2min5sec". */
export function formatSsTimer(timeoutMs: number): string {
  const timeout = Math.max(0, Math.trunc(timeoutMs)) >>> 0; // unsigned int in ss
  let secs = Math.trunc(timeout / 1000);
  const minutes = Math.trunc(secs / 60);
  secs %= 60;
  let msecs = timeout % 1000;
  let out = '';
  if (minutes) {
    msecs = 0;
    out = `${minutes}min`;
    if (minutes > 9) secs = 0;
  }
  if (secs) {
    if (secs > 9) msecs = 0;
    out += `${secs}${msecs ? '.' : 'sec'}`;
  }
  if (msecs) out += `${String(msecs).padStart(3, '0')}ms`;
  return out;
}

function listenerRow(l: ListenerSnapshot, extended: boolean): string[] {
  const extra = extended ? ` synq:${l.synQueueLength}/${l.synQueueMax} young:${l.young} drops:${l.drops}` : '';
  return [
    'LISTEN',
    queueCell(l.acceptQueueLength),
    queueCell(l.acceptQueueMax),
    addressCell(l.localAddress),
    portCell(l.localPort),
    addressCell(l.localAddress.includes(':') ? '::' : '0.0.0.0'),
    '*',
    extra,
  ];
}

function socketRow(s: SocketSnapshot, timers: boolean): string[] {
  let extra = '';
  if (timers && s.expiresMs !== undefined) {
    const name = s.timer ?? (s.state === 'TIME-WAIT' ? 'timewait' : 'on');
    const retrans = s.state === 'TIME-WAIT' ? 0 : (s.retransmits ?? 0);
    extra = ` timer:(${name},${formatSsTimer(s.expiresMs)},${retrans})`;
  }
  return [
    s.state,
    queueCell(s.recvQ),
    queueCell(s.sendQ),
    addressCell(s.localAddress),
    portCell(s.localPort),
    addressCell(s.peerAddress),
    portCell(s.peerPort),
    extra,
  ];
}

/** `ss -lnt` (`-lnte` with `extended`): one LISTEN row per listener. */
export function renderSsListeners(listeners: readonly ListenerSnapshot[], opts: SsOptions = {}): string {
  return renderTable(
    listeners.map((l) => listenerRow(l, opts.extended ?? false)),
    opts.screenWidth,
  );
}

/**
 * `ss -tano`: listeners first, then the other sockets in the given order (ss walks the
 * listening hash before the established hash). SYN-RECV rows are request socks (Recv-Q and
 * Send-Q 0 in the kernel's inet_req_diag_fill); their timer is the SYN-ACK retransmit.
 */
export function renderSsAll(
  listeners: readonly ListenerSnapshot[],
  sockets: readonly SocketSnapshot[],
  opts: SsAllOptions = {},
): string {
  const timers = opts.timers ?? true;
  return renderTable(
    [...listeners.map((l) => listenerRow(l, opts.extended ?? false)), ...sockets.map((s) => socketRow(s, timers))],
    opts.screenWidth,
  );
}
