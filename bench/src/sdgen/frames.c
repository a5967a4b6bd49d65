/* sdgen/frames.c - Frame builders: Ethernet and IPv4 headers, SYN options.
 * Part of sdgen's single translation unit: included by ../sdgen.c, in order. */

/* --------------------------------------------------------- frame builders */

static void eth_hdr(uint8_t *f, const struct link *l)
{
    memcpy(f, l->dst_mac, 6);
    memcpy(f + 6, l->src_mac, 6);
    f[12] = 0x08; f[13] = 0x00;
}

static void ip_hdr(uint8_t *ip, int ihl_words, uint16_t tot, uint16_t id, uint16_t frag, int proto,
                   uint32_t src, uint32_t dst)
{
    ip[0] = (uint8_t)(0x40 | ihl_words);
    ip[1] = 0;
    put16(ip + 2, tot);
    put16(ip + 4, id);
    put16(ip + 6, frag);
    ip[8] = 64;
    ip[9] = (uint8_t)proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
}

/* SYN template: returns TCP header length (20 + options). */
static int syn_options(const struct opts *o, uint8_t *opt)
{
    int n = 0;
    opt[n++] = 2; opt[n++] = 4; put16(opt + n, o->mss); n += 2;
    if (o->ts) {
        if (o->sack) { opt[n++] = 4; opt[n++] = 2; }
        else { opt[n++] = 1; opt[n++] = 1; }
        opt[n++] = 8; opt[n++] = 10;
        put32(opt + n, 0); n += 4; /* TSval filled per packet */
        put32(opt + n, 0); n += 4;
    } else if (o->sack) {
        opt[n++] = 1; opt[n++] = 1; opt[n++] = 4; opt[n++] = 2;
    }
    if (o->wscale >= 0) { opt[n++] = 1; opt[n++] = 3; opt[n++] = 3; opt[n++] = (uint8_t)o->wscale; }
    while (n % 4) opt[n++] = 1;
    return 20 + n;
}

/* Distinct (saddr, sport) for index i over nh hosts x 64512 ports. */
struct srcgen {
    uint32_t base;   /* first host address */
    uint32_t nh;     /* number of hosts */
    uint32_t pmask;  /* power-of-two domain - 1 (>= nh-1), for permutation */
    int rand;
};

static uint32_t perm(const struct srcgen *g, uint32_t x)
{
    /* bijection on [0, pmask] followed by cycle walking into [0, nh) */
    do {
        x = (x * 0x2c1b3c6dU + 0x297a2d39U) & g->pmask;
        x ^= (x >> 7) & g->pmask;
        x = (x * 0x9e3779b1U) & g->pmask; /* odd multiplier: bijective mod 2^k */
        x ^= x >> 11;
        x &= g->pmask;
    } while (x >= g->nh);
    return x;
}

static void src_for(const struct srcgen *g, uint64_t i, uint32_t *addr, uint16_t *port)
{
    uint32_t h = (uint32_t)(i % g->nh);
    uint32_t round = (uint32_t)(i / g->nh);
    if (g->rand) {
        h = perm(g, h);
        *port = (uint16_t)(1024 + (round + mix32(h)) % 64512);
    } else {
        *port = (uint16_t)(1024 + round % 64512);
    }
    *addr = g->base + h;
}
