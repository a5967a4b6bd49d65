/* sdgen/syn.c - The SYN flood: spoofed sources from --src-net, sendmmsg batches, pacing, the report.
 * Part of sdgen's single translation unit: included by ../sdgen.c, in order. */

/* ----------------------------------------------------------- send loop */

struct txq {
    int fd;
    int batch;
    uint8_t (*buf)[FRAME_MAX];
    struct mmsghdr *msgs;
    struct iovec *iov;
    struct sockaddr_ll sll;
    uint64_t send_errors;
};

static void txq_init(struct txq *q, int fd, int batch, const struct link *l)
{
    q->fd = fd;
    q->batch = batch;
    q->buf = calloc((size_t)batch, FRAME_MAX);
    q->msgs = calloc((size_t)batch, sizeof *q->msgs);
    q->iov = calloc((size_t)batch, sizeof *q->iov);
    if (!q->buf || !q->msgs || !q->iov) die(1, "out of memory");
    memset(&q->sll, 0, sizeof q->sll);
    q->sll.sll_family = AF_PACKET;
    q->sll.sll_protocol = htons(ETH_P_IP);
    q->sll.sll_ifindex = l->ifindex;
    q->sll.sll_halen = 6;
    memcpy(q->sll.sll_addr, l->dst_mac, 6);
    for (int i = 0; i < batch; i++) {
        q->iov[i].iov_base = q->buf[i];
        q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
        q->msgs[i].msg_hdr.msg_iovlen = 1;
        q->msgs[i].msg_hdr.msg_name = &q->sll;
        q->msgs[i].msg_hdr.msg_namelen = sizeof q->sll;
    }
}

/* Sends frames [0, n) of the queue; returns how many went out (may be < n). */
static int txq_send(struct txq *q, int n)
{
    int done = 0;
    int spins = 0;
    while (done < n && !g_stop) {
        int r = sendmmsg(q->fd, q->msgs + done, (unsigned)(n - done), 0);
        if (r > 0) { done += r; continue; }
        if (r < 0 && (errno == EINTR)) continue;
        if (r < 0 && (errno == ENOBUFS || errno == EAGAIN)) {
            q->send_errors++;
            if (++spins > 1000) break;
            sched_yield();
            continue;
        }
        die(1, "sendmmsg: %s", strerror(errno));
    }
    return done;
}

static void pace(double start, uint64_t sent, double rate)
{
    if (rate <= 0) return;
    double due = start + (double)sent / rate;
    double t = now_s();
    if (due > t + 50e-6) {
        double d = due - t;
        struct timespec ts = { .tv_sec = (time_t)d, .tv_nsec = (long)((d - (double)(time_t)d) * 1e9) };
        nanosleep(&ts, NULL);
    }
}

static int run_syn(const struct opts *o)
{
    struct link l;
    setup_link(o, &l);
    int fd = open_tx(&l);
    struct rx rx;
    memset(&rx, 0, sizeof rx);
    rx.fd = -1;
    if (o->rx != RX_NONE) rx_open(&rx, &l, o->src_net, o->src_mask, o->rx);

    struct srcgen g;
    uint32_t hosts = o->src_len == 32 ? 1 : (uint32_t)(1ULL << (32 - o->src_len));
    if (hosts >= 4) { g.base = o->src_net + 1; g.nh = hosts - 2; } /* skip network/broadcast */
    else { g.base = o->src_net; g.nh = hosts; }
    g.pmask = 1;
    while (g.pmask < g.nh - 1) g.pmask = g.pmask << 1 | 1;
    g.rand = o->src_rand;
    uint64_t distinct = (uint64_t)g.nh * 64512ULL;
    if (o->count > distinct)
        fprintf(stderr, "sdgen: warning: --count %llu exceeds %llu distinct (addr,port) pairs; tuples repeat\n",
                (unsigned long long)o->count, (unsigned long long)distinct);

    /* with --rate, keep bursts to about 1 ms worth of frames */
    int batch = o->batch;
    if (o->rate > 0 && o->rate / 1000.0 < batch) batch = o->rate < 1000.0 ? 1 : (int)(o->rate / 1000.0);
    struct txq q;
    txq_init(&q, fd, batch, &l);

    /* template */
    uint8_t tmpl[128];
    memset(tmpl, 0, sizeof tmpl);
    eth_hdr(tmpl, &l);
    uint8_t *tip = tmpl + 14;
    uint8_t *tt = tip + 20;
    int thl = syn_options(o, tt + 20);
    uint16_t tot = (uint16_t)(20 + thl);
    ip_hdr(tip, 5, tot, 0, 0x4000, 6, 0, o->dst);
    put16(tt + 2, o->dport);
    tt[12] = (uint8_t)((thl / 4) << 4);
    tt[13] = 0x02; /* SYN */
    put16(tt + 14, 64240);
    int ts_off = -1; /* offset of TSval inside TCP header */
    if (o->ts) ts_off = 20 + 4 + 2 + 2;
    size_t flen = 14 + (size_t)tot;
    for (int i = 0; i < batch; i++) {
        memcpy(q.buf[i], tmpl, flen);
        q.iov[i].iov_len = flen;
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    uint64_t sent = 0;
    uint16_t ipid = 1;
    double start = now_s();
    double deadline = start + o->seconds;
    double next_prog = start + 1.0;
    uint64_t prog_sent = 0, prog_sa = 0;
    double t = start;
    while (sent < o->count && !g_stop) {
        t = now_s();
        if (t >= deadline) break;
        if (o->progress && t >= next_prog) {
            rx_drain(&rx);
            rx_read_bpf(&rx);
            fprintf(stderr, "{\"t\":%.0f,\"sentPerSec\":%llu,\"synAckPerSec\":%llu}\n", next_prog - start,
                    (unsigned long long)(sent - prog_sent), (unsigned long long)(rx.syn_acks - prog_sa));
            prog_sent = sent; prog_sa = rx.syn_acks;
            next_prog += 1.0;
        }
        pace(start, sent, o->rate);
        int n = batch;
        if ((uint64_t)n > o->count - sent) n = (int)(o->count - sent);
        uint32_t tsval = (uint32_t)(t * 1000.0);
        for (int k = 0; k < n; k++) {
            uint8_t *ip = q.buf[k] + 14;
            uint8_t *tcp = ip + 20;
            uint32_t saddr; uint16_t sport;
            src_for(&g, sent + (uint64_t)k, &saddr, &sport);
            put16(ip + 4, ipid++);
            put32(ip + 12, saddr);
            ip_csum(ip);
            put16(tcp + 0, sport);
            put32(tcp + 4, syn_isn(saddr, sport));
            if (ts_off >= 0) put32(tcp + ts_off, tsval);
            tcp[16] = tcp[17] = 0;
            put16(tcp + 16, l4_csum(ip, tcp, (size_t)thl, 6));
        }
        int done = txq_send(&q, n);
        sent += (uint64_t)done;
        if (done < n) {
            /* keep distinct tuples: the unsent ones are rebuilt at the next pass */
        }
        rx_drain(&rx);
    }
    double send_end = now_s();
    double send_secs = send_end - start;
    /* grace period: keep counting replies */
    double grace_end = send_end + (o->rx == RX_NONE ? 0 : o->grace_ms / 1000.0);
    while (!g_stop) {
        double tn = now_s();
        if (tn >= grace_end) break;
        struct pollfd p = { .fd = rx.fd, .events = POLLIN };
        int ms = (int)((grace_end - tn) * 1000.0) + 1;
        poll(&p, 1, ms > 20 ? 20 : ms);
        rx_drain(&rx);
    }
    rx_drain(&rx);
    double total_secs = now_s() - start;
    if (rx.fd >= 0) rx_close(&rx);

    printf("{\"mode\":\"syn\",\"sent\":%llu,\"seconds\":%.3f,\"sentPerSec\":%.0f,"
           "\"synAcks\":%llu,\"rsts\":%llu,\"synAckPerSec\":%.0f,"
           "\"graceSeconds\":%.3f,\"synAcksBadAck\":%llu,\"otherTcp\":%llu,\"rxRingDrops\":%llu,"
           "\"sendRetries\":%llu,\"ifname\":\"%s\",\"batch\":%d,\"rxMode\":\"%s\",\"synAcksChecked\":%llu}\n",
           (unsigned long long)sent, send_secs, send_secs > 0 ? (double)sent / send_secs : 0.0,
           (unsigned long long)rx.syn_acks, (unsigned long long)rx.rsts,
           total_secs > 0 ? (double)rx.syn_acks / total_secs : 0.0,
           total_secs - send_secs, (unsigned long long)rx.bad_ack, (unsigned long long)rx.other,
           (unsigned long long)rx.kernel_drops, (unsigned long long)q.send_errors, l.ifname, batch,
           rxmode_name[rx.fd >= 0 ? rx.mode : RX_NONE], (unsigned long long)rx.checked);
    fflush(stdout);
    close(fd);
    return 0;
}
