// The fuzzer's raw material: real Linux frames as seeds, a seeded generator, and a checksum
// repair written independently of src/wire (the fuzzer must not share the code it tests).

// ── Seed corpus: real Linux frames (the capture fixtures of the unit tests tell their story; a
//    regression test checks both copies are the same bytes). ──
export const SEED_CORPUS: Readonly<Record<string, string>> = {
  SYN_TS: '4500003cc9e9400040065b3e0ac900020ac90001c3581f90d61b0e9c00000000a002faf007ec0000020405b40402080a75f9f1f1000000000103030a',
  SYNACK_TS: '4500003c00004000400625280ac900010ac900021f90c358fd95fac5d61b0e9da012fe886a1b0000020405b40402080ace19d3b175f9f1f10103030a',
  ACK_TS: '45000034c9ea400040065b450ac900020ac90001c3581f90d61b0e9dfd95fac68010003f973400000101080a75f9f1f1ce19d3b1',
  GET_TS:
    '4500008dc9eb400040065aeb0ac900020ac90001c3581f90d61b0e9dfd95fac68018003ff66400000101080a75f9f1f1ce19d3b1474554202f696e6465782e68' +
    '746d6c20485454502f312e310d0a486f73743a2031302e3230312e302e313a383038300d0a557365722d4167656e743a206375726c2f372e38382e310d0a4163' +
    '636570743a202a2f2a0d0a0d0a',
  SERVER_ACK_TS: '45000034197f400040060bb10ac900010ac900021f90c358fd95fac6d61b0ef68010004096da00000101080ace19d3b175f9f1f1',
  SERVER_DATA_TS: '4500003a1981400040060ba90ac900010ac900021f90c358fd95fb7ed61b0ef680180040523000000101080ace19d3b575f9f1f568656c6c6f0a',
  FIN_TS: '45000034c9ee400040065b410ac900020ac90001c3581f90d61b0ef6fd95fb848011003f961400000101080a75f9f1f5ce19d3b5',
  SYN_NOTS: '45000034218d4000400603a30ac900020ac90001c3641f90bd78e49e000000008002faf0d97c0000020405b4010104020103030a',
  SYNACK_NOTS: '4500003400004000400625300ac900010ac900021f90c3641013f378bd78e49f8012faf0d5df0000020405b4010104020103030a',
  ACK_NOTS: '45000028218e4000400603ae0ac900020ac90001c3641f90bd78e49f1013f3795010003f11670000',
  GET_NOTS:
    '45000081218f4000400603540ac900020ac90001c3641f90bd78e49f1013f3795018003f70970000474554202f696e6465782e68746d6c20485454502f312e31' +
    '0d0a486f73743a2031302e3230312e302e313a383038300d0a557365722d4167656e743a206375726c2f372e38382e310d0a4163636570743a202a2f2a0d0a0d' +
    '0a',
  SERVER_ACK_NOTS: '45000028d52f40004006500c0ac900010ac900021f90c3641013f379bd78e4f85010003f110e0000',
  FIN_NOTS: '4500002821924000400603aa0ac900020ac90001c3641f90bd78e4f81013f4375011003f104f0000',
  SYN_CLOSED_PORT: '4500003cadcd40004006775a0ac900020ac900019ea2000955abef3a00000000a002faf016520000020405b40402080a8f29ae6a000000000103030a',
  RST_ACK: '45000028000040004006253c0ac900010ac9000200099ea20000000055abef3b50140000b6a90000',
  ICMP_ECHO_REQUEST: '4500003cf53c400040012ff00ac900020ac9000108002ca55344000173796e64726f702d776972652d6563686f2d3031323334353637383961626364',
  ICMP_ECHO_REPLY: '4500003ce32b0000400182010ac900010ac90002000034a55344000173796e64726f702d776972652d6563686f2d3031323334353637383961626364',
  HPING_SYN: '4500002829f7000040063b450ac900020ac900010b7e1f904313b6ad3424ca915002020074c90000',
  SYNACK_MSS_ONLY: '4500002c00004000400625380ac900010ac900021f900b7e4f7c42334313b6ae6012faf0d1110000020405b4',
  RST_BARE: '45000028000040004006253c0ac900020ac900010b7e1f904313b6ae0000000050040000757c0000',
};

export function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

// ── Deterministic randomness (xorshift128+ folded to 32 bits: fast, seedable) ──
export class Rng {
  private s0: number;
  private s1: number;
  constructor(seed: number) {
    this.s0 = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.s1 = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    this.s1 = x >>> 0;
    return (this.s1 + y) >>> 0;
  }
  /** 0 ≤ n < bound. */
  below(bound: number): number {
    return Math.floor((this.u32() / 4294967296) * bound);
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
}

// ── Checksum repair (independent of src/wire on purpose: the fuzzer must not share its bugs) ──
export function sum16(b: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  return sum;
}
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}
export function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}
export function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}
export function get32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Fixes the IP header checksum and the TCP/ICMP checksum when the lengths allow it. */
export function repairChecksums(b: Uint8Array, len: number, fixIp: boolean, fixInner: boolean): void {
  if (len < 20) return;
  const ihl = (b[0]! & 0x0f) * 4;
  const total = (b[2]! << 8) | b[3]!;
  if (fixInner && ihl >= 20 && total <= len && total >= ihl) {
    if (b[9] === 6 && total - ihl >= 18) {
      put16(b, ihl + 16, 0);
      put16(b, ihl + 16, fold(sum16(b, ihl, total, sum16(b, 12, 20, 0) + 6 + total - ihl)));
    } else if (b[9] === 1 && total - ihl >= 4) {
      put16(b, ihl + 2, 0);
      put16(b, ihl + 2, fold(sum16(b, ihl, total, 0)));
    }
  }
  if (fixIp && ihl >= 20 && ihl <= len) {
    put16(b, 10, 0);
    put16(b, 10, fold(sum16(b, 0, ihl, 0)));
  }
}

// ── Invariants ──
