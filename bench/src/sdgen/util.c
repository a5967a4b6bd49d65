/* sdgen/util.c - Deterministic PRNG and the IPv4/L4 checksums of hand-built frames.
 * Part of sdgen's single translation unit: included by ../sdgen.c, in order. */

/* ---------------------------------------------------------------- utils */

/* xorshift64* - deterministic PRNG for garbage mode and address scrambling */
static uint64_t rng_state;
static uint64_t rnd64(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}
static uint32_t rnd32(void) { return (uint32_t)(rnd64() >> 32); }
static uint32_t rndn(uint32_t n) { return n ? (uint32_t)(((uint64_t)rnd32() * n) >> 32) : 0; }

/* ip: IPv4 header (ihl from byte 0). Fills header checksum. */
static void ip_csum(uint8_t *ip)
{
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    ip[10] = ip[11] = 0;
    put16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
}
/* Transport checksum with IPv4 pseudo header; off = checksum field offset in l4. */
static uint16_t l4_csum(const uint8_t *ip, const uint8_t *l4, size_t l4len, int proto)
{
    uint32_t s = 0;
    s = csum_add(s, ip + 12, 8);
    s += (uint32_t)proto;
    s += (uint32_t)l4len;
    s = csum_add(s, l4, l4len);
    return csum_fold(s);
}
