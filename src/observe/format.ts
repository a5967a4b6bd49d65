// printf pieces the observe formatters share. Each mirrors one C conversion exactly, so
// output matches the tool being imitated byte for byte.

/** C `%llu` of a counter held in a double: exact past 2^53, never exponent notation. */
export function formatUnsigned(value: number): string {
  if (!Number.isFinite(value) || value <= 0) return '0';
  const whole = Math.trunc(value);
  return Number.isSafeInteger(whole) ? String(whole) : BigInt(whole).toString();
}

/**
 * C `%.1f`. JS `toFixed` rounds exact binary ties up (0.25 → "0.3") where glibc rounds
 * them to even (0.25 → "0.2"); ties at one decimal are exactly the values n/4 with n odd.
 */
export function formatFixed1(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : value < 0 ? '-inf' : 'nan';
  if (Math.abs(value) >= 2 ** 53) return `${BigInt(value)}.0`; // integral; toFixed would switch to exponents at 1e21
  const quarters = value * 4;
  if (Number.isInteger(quarters) && quarters % 2 !== 0) {
    const tenths = value * 10; // exact: n/4 * 10 = 2.5 n
    const low = Math.floor(tenths);
    const even = low % 2 === 0 ? low : low + 1;
    return (even / 10).toFixed(1);
  }
  const s = value.toFixed(1);
  return s === '-0.0' ? '-0.0' : s;
}

/** C `%-Ns`: left-justified, never truncated. */
export function padRight(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** C `%Ns`: right-justified, never truncated. */
export function padLeft(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

/**
 * fnmatch(3) with flags 0, as nstat matches its PATTERN arguments: `*`, `?`, `[...]`
 * (with `!` or `^` negation and ranges), backslash escapes; case-sensitive; `/` and a
 * leading `.` are ordinary characters.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') out += '[\\s\\S]*';
    else if (ch === '?') out += '[\\s\\S]';
    else if (ch === '\\' && i + 1 < pattern.length) out += escapeRegExp(pattern[++i]!);
    else if (ch === '[') {
      const close = findBracketEnd(pattern, i);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      let cls = '';
      for (let j = 0; j < body.length; j++) {
        const c = body[j]!;
        if (c === '\\' && j + 1 < body.length) cls += escapeClass(body[++j]!);
        else if (c === '-' && j > 0 && j < body.length - 1) cls += '-';
        else cls += escapeClass(c);
      }
      out += negate ? `[^${cls}]` : `[${cls}]`;
      i = close;
    } else out += escapeRegExp(ch);
  }
  return new RegExp(out + '$');
}

function findBracketEnd(pattern: string, open: number): number {
  let j = open + 1;
  if (pattern[j] === '!' || pattern[j] === '^') j++;
  if (pattern[j] === ']') j++; // a leading ']' is a member, not the end
  for (; j < pattern.length; j++) {
    if (pattern[j] === '\\') j++;
    else if (pattern[j] === ']') return j;
  }
  return -1;
}

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? '\\' + ch : ch;
}

function escapeClass(ch: string): string {
  return /[\\\]^[-]/.test(ch) ? '\\' + ch : ch;
}
