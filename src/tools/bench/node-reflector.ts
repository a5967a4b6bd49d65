// The C reflector's job done in Node through syndrop's own TUN addon and frame loop shape
// (uv_poll wakeup → readBatch into a slab → transform in place → writeBatch), with none of the
// stack. Measured beside the C reflector and syndrop, it splits syndrop's cost into what the
// Node/addon hand-off costs and what the emulated kernel costs.
//
//   node dist/tools/bench/node-reflector.js --netns NS --dev sd0 --seconds S
// Prints one JSON line at the end: {"mode":"node-reflector","synAcks":N,"cpuNsPerFrame":..}

import { TunDevice } from '../../io/tun.js';
import { finishChecksum, pseudoHeaderSum, sumWords } from '../../wire/checksum.js';
import { readU16, readU32, writeU16, writeU32 } from '../../wire/ipv4.js';

const SLOTS = 64;
const SLOT = 2048;
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** Turns the IPv4 TCP SYN at `o` into a 40-byte SYN-ACK in place; false if it is not a bare SYN. */
function reflect(b: Uint8Array, o: number, len: number): boolean {
  if (len < 40 || b[o] !== 0x45 || b[o + 9] !== 6) return false;
  const t = o + 20;
  if ((b[t + 13]! & 0x17) !== TCP_SYN) return false;
  const src = readU32(b, o + 12);
  const dst = readU32(b, o + 16);
  writeU32(b, o + 12, dst);
  writeU32(b, o + 16, src);
  const sport = readU16(b, t);
  writeU16(b, t, readU16(b, t + 2));
  writeU16(b, t + 2, sport);
  writeU32(b, t + 8, (readU32(b, t + 4) + 1) >>> 0);
  writeU32(b, t + 4, Math.imul(src ^ sport, 0x9e3779b1) >>> 0);
  b[t + 12] = 5 << 4;
  b[t + 13] = TCP_SYN | TCP_ACK;
  writeU16(b, t + 14, 65535);
  writeU16(b, t + 16, 0);
  writeU16(b, t + 18, 0);
  writeU16(b, o + 2, 40);
  writeU16(b, o + 10, 0);
  writeU16(b, o + 10, finishChecksum(sumWords(b, o, 20, 0)));
  writeU16(b, t + 16, finishChecksum(sumWords(b, t, 20, pseudoHeaderSum(dst, src, 6, 20))));
  return true;
}

function main(): void {
  const dev = arg('--dev') ?? 'sd0';
  const netns = arg('--netns');
  const seconds = Number(arg('--seconds') ?? '10');
  const tun = TunDevice.open(dev, netns === undefined ? {} : { netns });
  const slab = new Uint8Array(SLOTS * SLOT);
  const lengths = new Int32Array(SLOTS);
  const offsets = new Int32Array(SLOTS);
  const outLengths = new Int32Array(SLOTS);
  const count = new Float64Array(4); // synAcks, frames, readBatch calls that returned frames, wakeups
  const cpu0 = process.cpuUsage();
  tun.onReadable(() => {
    count[3]!++;
    // The engine's shape (src/io/engine.ts drain): one frame first, then whole batches.
    let max = 1;
    for (;;) {
      const n = tun.readBatch(slab, lengths, max);
      if (n > 0) count[2]!++;
      let k = 0;
      for (let i = 0; i < n; i++) {
        if (!reflect(slab, i * SLOT, lengths[i]!)) continue;
        offsets[k] = i * SLOT;
        outLengths[k++] = 40;
      }
      if (k > 0) count[0]! += tun.writeBatch(slab, offsets, outLengths, k);
      count[1]! += n;
      if (n < max) break;
      max = SLOTS;
    }
  });
  const finish = () => {
    tun.close();
    const used = process.cpuUsage(cpu0);
    const cpuNs = (used.user + used.system) * 1000;
    process.stdout.write(
      `${JSON.stringify({ mode: 'node-reflector', synAcks: count[0], frames: count[1], wakeups: count[3], avgBatch: count[2]! > 0 ? Math.round((count[1]! / count[2]!) * 10) / 10 : 0, cpuNsPerFrame: count[1]! > 0 ? Math.round(cpuNs / count[1]!) : 0 })}\n`,
    );
    process.exit(0);
  };
  setTimeout(finish, seconds * 1000).unref();
  process.once('SIGTERM', finish);
  process.once('SIGINT', finish);
}

main();
