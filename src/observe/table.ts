// Plain-text tables for people (lab addresses, scenario verdicts, bench results), on cli-table3
// with every border blanked: columns two spaces apart, optional fixed widths with word wrap,
// optional right alignment, and a rule of ─ under the heading. (`ss` output is not drawn here:
// it must match iproute2's own layout, see ss.ts.)

import Table from 'cli-table3';

export interface TableLayout {
  /** Heading row; drawn first and underlined with ─ when `rule` is set. */
  head?: readonly string[];
  rule?: boolean;
  /** Fixed column widths (cells wrap at word boundaries); natural widths when absent. */
  widths?: readonly number[];
  /** Per column; left when absent. */
  align?: readonly ('left' | 'right')[];
}

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '',
  middle: '  ',
};

export function renderTable(rows: readonly (readonly string[])[], layout: TableLayout = {}): string {
  const options: Table.TableConstructorOptions = {
    chars: NO_BORDER,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  };
  if (layout.widths !== undefined) {
    options.colWidths = [...layout.widths];
    options.wordWrap = true;
  } else if (layout.head !== undefined) {
    // cli-table3 fixes its column widths at the first toString() (the head's line count
    // below): without fixed widths the body would be cut to the head's.
    options.colWidths = naturalWidths([layout.head, ...rows]);
  }
  if (layout.align !== undefined) options.colAligns = [...layout.align];
  const body = new Table(options);
  if (layout.head !== undefined) body.push([...layout.head]);
  const headLines = layout.head === undefined ? 0 : body.toString().split('\n').length;
  for (const row of rows) body.push([...row]);
  const lines = body.toString().split('\n').map((line) => line.trimEnd());
  if (layout.head !== undefined && layout.rule === true) {
    const widths = layout.widths ?? naturalWidths([layout.head, ...rows]);
    lines.splice(headLines, 0, widths.map((w) => '─'.repeat(w)).join('  '));
  }
  return lines.join('\n');
}

function naturalWidths(rows: readonly (readonly string[])[]): number[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return widths;
}
