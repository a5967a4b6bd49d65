/* sdgen/garbage.c - The malformed-frame generator: weighted kinds of broken TCP/IP/ICMP/UDP, the report.
 * Part of sdgen's single translation unit: included by ../sdgen.c, in order. */

/* ------------------------------------------------------- garbage frames */

enum kind {
    K_TCP_TRUNC,        /* TCP header shorter than 20 bytes */
    K_TCP_BAD_DOFF,     /* data offset < 5 or beyond the segment */
    K_TCP_OPT_OVERRUN,  /* option length runs past the header / zero length */
    K_TCP_BAD_CSUM,     /* well-formed SYN, wrong checksum */
    K_TCP_RAND_FLAGS,   /* valid checksum, random flag combination */
    K_TCP_RAND_PAYLOAD, /* valid header + random payload of random length */
    K_TCP_EMPTY,        /* protocol 6 with zero-length transport part */
    K_IP_OPTIONS,       /* IPv4 options (NOP/EOL/RR/unknown) + SYN */
    K_IP_FRAGMENT,      /* MF set and/or fragment offset != 0 */
    K_RAND_PROTO,       /* random protocol number, random payload */
    K_UDP_RANDOM,       /* UDP with random payload / bad length field */
    K_ICMP_BAD_CSUM,    /* ICMP with wrong checksum */
    K_ICMP_RANDOM,      /* ICMP random type/code, valid checksum */
    K_TCP_VALID_SYN,    /* a correct SYN (the target should still answer) */
    K_NKINDS
};
static const char *kind_name[K_NKINDS] = {
    "tcpTruncated", "tcpBadDataOffset", "tcpOptionOverrun", "tcpBadChecksum", "tcpRandomFlags",
    "tcpRandomPayload", "tcpEmpty", "ipOptions", "ipFragment", "randomProtocol", "udpRandom",
    "icmpBadChecksum", "icmpRandom", "tcpValidSyn",
};
/* relative weights */
static const unsigned kind_weight[K_NKINDS] = { 8, 8, 10, 8, 10, 8, 3, 8, 8, 6, 5, 5, 5, 8 };

static void rand_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rnd32();
}

static void fill_tcp(uint8_t *t, uint16_t sport, uint16_t dport, uint8_t doff_words, uint8_t flags)
{
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, rnd32());
    put32(t + 8, (flags & 0x10) ? rnd32() : 0);
    t[12] = (uint8_t)(doff_words << 4);
    t[13] = flags;
    put16(t + 14, (uint16_t)rnd32());
    put16(t + 16, 0);
    put16(t + 18, 0);
}

/* Builds one garbage frame into f; returns frame length. */
static size_t build_garbage(uint8_t *f, const struct link *l, const struct opts *o, uint32_t src,
                            uint16_t ipid, enum kind k)
{
    eth_hdr(f, l);
    uint8_t *ip = f + 14;
    int ihlw = 5;
    uint16_t frag = 0x4000; /* DF */
    int proto = 6;
    uint16_t sport = (uint16_t)(1024 + rndn(64512));
    uint8_t *l4;
    size_t l4len = 0;

    if (k == K_IP_OPTIONS) {
        /* 4..40 bytes of options, well-formed enough for ip_options_compile on a router */
        int olen = 4 * (1 + (int)rndn(10));
        uint8_t *op = ip + 20;
        int n = 0;
        uint32_t style = rndn(3);
        if (style == 0) {            /* NOPs then EOL */
            memset(op, 1, (size_t)olen);
            op[olen - 1] = 0;
            n = olen;
        } else if (style == 1 && olen >= 8) { /* record route with room for addresses */
            memset(op, 0, (size_t)olen); /* zeroed slots, EOL padding after the option */
            op[0] = 7; op[1] = (uint8_t)(3 + 4 * ((olen - 3) / 4)); op[2] = 4;
            n = olen;
        } else {                     /* unknown option types with consistent lengths */
            while (n < olen) {
                int room = olen - n;
                if (room < 4) { memset(op + n, 1, (size_t)room); n = olen; break; }
                int len = 2 + (int)rndn((uint32_t)(room - 1));
                op[n] = (uint8_t)(0x1e + rndn(0x40)) & 0x7f; /* not copied, class 0 */
                if (op[n] < 2 || op[n] == 7 || op[n] == 0x44) op[n] = 0x1e;
                op[n + 1] = (uint8_t)len;
                rand_bytes(op + n + 2, (size_t)len - 2);
                n += len;
            }
        }
        ihlw = 5 + olen / 4;
    }
    l4 = ip + ihlw * 4;
    size_t room = FRAME_MAX - 14 - (size_t)ihlw * 4;

    switch (k) {
    case K_TCP_TRUNC:
        l4len = rndn(20); /* 0..19 bytes */
        rand_bytes(l4, l4len);
        if (l4len >= 4) { put16(l4, sport); put16(l4 + 2, o->dport); }
        if (l4len >= 14) l4[13] = 0x02;
        break;
    case K_TCP_BAD_DOFF: {
        uint32_t sub = rndn(2);
        uint8_t doff = sub ? (uint8_t)rndn(5) : (uint8_t)(6 + rndn(10)); /* <5, or > what is there */
        l4len = 20 + (sub ? rndn(20) : 0);
        if (!sub && doff * 4u <= l4len) doff = 15;
        fill_tcp(l4, sport, o->dport, doff, 0x02);
        rand_bytes(l4 + 20, l4len - 20);
        break;
    }
    case K_TCP_OPT_OVERRUN: {
        uint8_t doff = (uint8_t)(6 + rndn(10));
        l4len = doff * 4u;
        fill_tcp(l4, sport, o->dport, doff, 0x02);
        uint8_t *op = l4 + 20;
        size_t olen = l4len - 20;
        memset(op, 1, olen);
        uint32_t sub = rndn(4);
        size_t at = rndn((uint32_t)olen); /* where the bad option starts */
        if (sub == 0) { op[at] = 2; if (at + 1 < olen) op[at + 1] = (uint8_t)(olen - at + 1 + rndn(40)); }
        else if (sub == 1) { op[at] = (uint8_t)(2 + rndn(30)); if (at + 1 < olen) op[at + 1] = 0; }
        else if (sub == 2) { op[at] = 8; if (at + 1 < olen) op[at + 1] = 1; }
        else op[olen - 1] = (uint8_t)(2 + rndn(8)); /* kind in the last byte, no length byte */
        break;
    }
    case K_TCP_BAD_CSUM:
    case K_TCP_VALID_SYN:
    case K_IP_OPTIONS:
    case K_IP_FRAGMENT: {
        l4len = 24;
        fill_tcp(l4, sport, o->dport, 6, 0x02);
        put32(l4 + 8, 0);
        put16(l4 + 14, 64240);
        l4[20] = 2; l4[21] = 4; put16(l4 + 22, 1460);
        if (k == K_IP_FRAGMENT) {
            uint32_t sub = rndn(3);
            if (sub == 0) frag = 0x2000;                                   /* MF, offset 0 */
            else if (sub == 1) frag = (uint16_t)(1 + rndn(0x1fff));        /* last fragment */
            else frag = (uint16_t)(0x2000 | (1 + rndn(0x1fff)));           /* middle */
            if (frag & 0x2000) l4len = 24; /* MF requires a multiple of 8: 24 ok */
        }
        break;
    }
    case K_TCP_RAND_FLAGS:
        l4len = 20;
        fill_tcp(l4, sport, o->dport, 5, (uint8_t)rnd32());
        if (rndn(4) == 0) l4[12] |= (uint8_t)rndn(16); /* reserved bits */
        break;
    case K_TCP_RAND_PAYLOAD: {
        l4len = 20 + rndn(1400);
        fill_tcp(l4, sport, o->dport, 5, (uint8_t)(rnd32() | 0x10));
        rand_bytes(l4 + 20, l4len - 20);
        break;
    }
    case K_TCP_EMPTY:
        l4len = 0;
        break;
    case K_RAND_PROTO:
        do proto = (int)rndn(256); while (proto == 6 || proto == 1 || proto == 17);
        l4len = rndn(200);
        rand_bytes(l4, l4len);
        break;
    case K_UDP_RANDOM:
        proto = 17;
        l4len = 8 + rndn(300);
        rand_bytes(l4, l4len);
        put16(l4, sport);
        put16(l4 + 2, (uint16_t)(rndn(2) ? o->dport : rnd32()));
        put16(l4 + 4, (uint16_t)(rndn(2) ? l4len : rnd32())); /* sometimes a lying length */
        put16(l4 + 6, 0);
        break;
    case K_ICMP_BAD_CSUM:
    case K_ICMP_RANDOM:
        proto = 1;
        l4len = 8 + rndn(100);
        rand_bytes(l4, l4len);
        if (k == K_ICMP_BAD_CSUM) { l4[0] = rndn(2) ? 8 : (uint8_t)rndn(20); l4[1] = 0; }
        break;
    default:
        break;
    }
    if (l4len > room) l4len = room;
    uint16_t tot = (uint16_t)(ihlw * 4 + (int)l4len);
    /* keep IP options that were written in place */
    uint8_t saved[40];
    if (ihlw > 5) memcpy(saved, ip + 20, (size_t)(ihlw - 5) * 4);
    ip_hdr(ip, ihlw, tot, ipid, frag, proto, src, o->dst);
    if (ihlw > 5) memcpy(ip + 20, saved, (size_t)(ihlw - 5) * 4);
    ip_csum(ip);

    /* transport checksums after the IP header exists */
    switch (k) {
    case K_TCP_BAD_DOFF:
    case K_TCP_OPT_OVERRUN:
    case K_TCP_RAND_FLAGS:
    case K_TCP_RAND_PAYLOAD:
    case K_TCP_VALID_SYN:
    case K_IP_OPTIONS:
    case K_IP_FRAGMENT:
        put16(l4 + 16, 0);
        put16(l4 + 16, l4_csum(ip, l4, l4len, 6));
        break;
    case K_TCP_BAD_CSUM: {
        put16(l4 + 16, 0);
        uint16_t c = l4_csum(ip, l4, l4len, 6);
        put16(l4 + 16, (uint16_t)(c ^ (1 + rndn(0xfffe))));
        break;
    }
    case K_UDP_RANDOM:
        if (rndn(2)) { put16(l4 + 6, l4_csum(ip, l4, l4len, 17)); }
        break;
    case K_ICMP_RANDOM:
        put16(l4 + 2, 0);
        put16(l4 + 2, csum_fold(csum_add(0, l4, l4len)));
        break;
    case K_ICMP_BAD_CSUM: {
        put16(l4 + 2, 0);
        uint16_t c = csum_fold(csum_add(0, l4, l4len));
        put16(l4 + 2, (uint16_t)(c ^ (1 + rndn(0xfffe))));
        break;
    }
    default:
        break;
    }
    return 14 + (size_t)tot;
}

static int run_garbage(const struct opts *o)
{
    struct link l;
    setup_link(o, &l);
    uint32_t src = o->src_set ? o->src : l.if_addr;
    if (!src) die(1, "%s has no IPv4 address; give --src", l.ifname);
    int fd = open_tx(&l);
    struct txq q;
    txq_init(&q, fd, o->batch, &l);
    rng_state = o->seed * 0x9e3779b97f4a7c15ULL + 0x0123456789abcdefULL;
    if (!rng_state) rng_state = 1;
    unsigned wsum = 0;
    for (int k = 0; k < K_NKINDS; k++) wsum += kind_weight[k];
    uint64_t kinds[K_NKINDS] = { 0 };
    /* frames are built per batch; a partially sent batch keeps its unsent tail */
    enum kind bk[MAX_BATCH];

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    uint64_t sent = 0, built = 0;
    uint16_t ipid = 1;
    double start = now_s();
    double deadline = start + o->seconds;
    double next_prog = start + 1.0;
    uint64_t prog_sent = 0;
    int pending = 0, off = 0;
    while (sent < o->count && !g_stop) {
        double t = now_s();
        if (t >= deadline) break;
        if (o->progress && t >= next_prog) {
            fprintf(stderr, "{\"t\":%.0f,\"sentPerSec\":%llu}\n", next_prog - start,
                    (unsigned long long)(sent - prog_sent));
            prog_sent = sent;
            next_prog += 1.0;
        }
        pace(start, sent, o->rate);
        if (pending == 0) {
            int n = o->batch;
            if ((uint64_t)n > o->count - sent) n = (int)(o->count - sent);
            for (int i = 0; i < n; i++) {
                unsigned w = rndn(wsum), k = 0;
                while (w >= kind_weight[k]) { w -= kind_weight[k]; k++; }
                bk[i] = (enum kind)k;
                q.iov[i].iov_len = build_garbage(q.buf[i], &l, o, src, ipid++, (enum kind)k);
                built++;
            }
            pending = n; off = 0;
        }
        int done = 0;
        while (done < pending && !g_stop) {
            int r = sendmmsg(fd, q.msgs + off + done, (unsigned)(pending - done), 0);
            if (r > 0) { done += r; continue; }
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && (errno == ENOBUFS || errno == EAGAIN)) { q.send_errors++; sched_yield(); break; }
            if (r < 0 && (errno == EINVAL || errno == EMSGSIZE)) { /* skip a frame the kernel refuses */
                q.send_errors++; done++; continue;
            }
            die(1, "sendmmsg: %s", strerror(errno));
        }
        for (int i = 0; i < done; i++) kinds[bk[off + i]]++;
        sent += (uint64_t)done;
        off += done;
        pending -= done;
    }
    double secs = now_s() - start;
    printf("{\"mode\":\"garbage\",\"sent\":%llu,\"seconds\":%.3f,\"sentPerSec\":%.0f,\"seed\":%llu,\"kinds\":{",
           (unsigned long long)sent, secs, secs > 0 ? (double)sent / secs : 0.0, (unsigned long long)o->seed);
    for (int k = 0; k < K_NKINDS; k++)
        printf("%s\"%s\":%llu", k ? "," : "", kind_name[k], (unsigned long long)kinds[k]);
    printf("},\"sendRetries\":%llu,\"ifname\":\"%s\"}\n", (unsigned long long)q.send_errors, l.ifname);
    fflush(stdout);
    (void)built;
    close(fd);
    return 0;
}
