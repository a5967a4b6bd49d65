/* sdgen/rx.c - Counting what comes back (SYN-ACKs, RSTs): an eBPF socket filter, or a packet ring.
 * Part of sdgen's single translation unit: included by ../sdgen.c, in order. */

/* --------------------------------------------------------- reply counter */

/*
 * Replies are counted on the client interface by an AF_PACKET socket (before
 * the client's IP layer drops them). Two modes:
 *  - bpf  (default): an eBPF socket filter counts SYN-ACK / RST / other into a
 *         per-CPU array map and copies nothing, except a random 1/64 sample
 *         that goes to a small TPACKET_V3 ring for the ack check. Cheap: the
 *         counting runs on the *server* core (inside its write()), so a copy
 *         per reply would slow the system under test.
 *  - ring: classic BPF filter + TPACKET_V3 ring, every reply copied (128 B).
 */
struct rx {
    int fd;
    int map_fd;          /* bpf mode: per-CPU counters [synack, rst, other] */
    int ncpu;
    enum rxmode mode;
    uint8_t *map;
    unsigned block_size, block_nr, cur;
    uint64_t syn_acks, rsts, other, bad_ack, checked, kernel_drops;
};

static long sys_bpf(int cmd, union bpf_attr *attr)
{
    return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int possible_cpus(void)
{
    FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
    int n = 0;
    if (f) {
        char buf[256];
        if (fgets(buf, sizeof buf, f)) {
            char *p = buf;
            while (*p && *p != '\n') {
                char *e;
                long a = strtol(p, &e, 10), b = a;
                if (e == p) break;
                p = e;
                if (*p == '-') { p++; b = strtol(p, &e, 10); p = e; }
                n += (int)(b - a + 1);
                if (*p == ',') p++;
            }
        }
        fclose(f);
    }
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 ? n : 1;
}

#define I(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/* Loads the counting program; returns prog fd or -1 (reason on stderr). */
static int load_count_prog(int map_fd, uint32_t net, uint32_t mask)
{
    enum { DROP = 38, STORE = 23 };
    struct bpf_insn p[] = {
        /* 0 */ I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),
        /* 1 */ I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_0, BPF_REG_6, offsetof(struct __sk_buff, pkt_type), 0),
        /* 2 */ I(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, DROP - 3, PACKET_OUTGOING),
        /* 3 */ I(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 12),
        /* 4 */ I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, DROP - 5, ETH_P_IP),
        /* 5 */ I(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 23),
        /* 6 */ I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, DROP - 7, 6),
        /* 7 */ I(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 20),
        /* 8 */ I(BPF_JMP | BPF_JSET | BPF_K, BPF_REG_0, 0, DROP - 9, 0x1fff),
        /* 9 */ I(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 30),
        /* 10 */ I(BPF_ALU | BPF_AND | BPF_K, BPF_REG_0, 0, 0, (int32_t)mask),
        /* 11 */ I(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_0, 0, DROP - 12, (int32_t)net),
        /* 12 */ I(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 14),
        /* 13 */ I(BPF_ALU | BPF_AND | BPF_K, BPF_REG_0, 0, 0, 0x0f),
        /* 14 */ I(BPF_ALU | BPF_LSH | BPF_K, BPF_REG_0, 0, 0, 2),
        /* 15 */ I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_0, 0, 0),
        /* 16 */ I(BPF_LD | BPF_IND | BPF_B, 0, BPF_REG_7, 0, 14 + 13),
        /* 17 */ I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_8, 0, 0, 1),           /* key 1: RST */
        /* 18 */ I(BPF_JMP | BPF_JSET | BPF_K, BPF_REG_0, 0, STORE - 19, 0x04),
        /* 19 */ I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_8, 0, 0, 2),           /* key 2: other */
        /* 20 */ I(BPF_ALU | BPF_AND | BPF_K, BPF_REG_0, 0, 0, 0x12),
        /* 21 */ I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, STORE - 22, 0x12),
        /* 22 */ I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_8, 0, 0, 0),           /* key 0: SYN-ACK */
        /* 23 */ I(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_8, -4, 0),
        /* 24 */ I(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
        /* 25 */ I(0, 0, 0, 0, 0),
        /* 26 */ I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
        /* 27 */ I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
        /* 28 */ I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
        /* 29 */ I(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, DROP - 30, 0),
        /* 30 */ I(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_0, 0, 0),
        /* 31 */ I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, 1),
        /* 32 */ I(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_1, 0, 0),
        /* 33 */ I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32),
        /* 34 */ I(BPF_ALU | BPF_AND | BPF_K, BPF_REG_0, 0, 0, 63),
        /* 35 */ I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, DROP - 36, 0),
        /* 36 */ I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 128),          /* sample: copy 128 B */
        /* 37 */ I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        /* 38 */ I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),            /* DROP */
        /* 39 */ I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    static char log[16384];
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    a.insns = (uint64_t)(uintptr_t)p;
    a.insn_cnt = sizeof p / sizeof p[0];
    a.license = (uint64_t)(uintptr_t)"Dual MIT/GPL";
    a.log_buf = (uint64_t)(uintptr_t)log;
    a.log_size = sizeof log;
    a.log_level = 1;
    int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
    if (fd < 0)
        fprintf(stderr, "sdgen: eBPF counter not loaded (%s)%s%s\n", strerror(errno), log[0] ? ": " : "", log);
    return fd;
}
#undef I

/* bpf mode: returns 0 if the counter is attached to r->fd. */
static int rx_attach_bpf(struct rx *r, uint32_t net, uint32_t mask)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_PERCPU_ARRAY;
    a.key_size = 4;
    a.value_size = 8;
    a.max_entries = 3;
    r->map_fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
    if (r->map_fd < 0) {
        fprintf(stderr, "sdgen: eBPF map not created (%s)\n", strerror(errno));
        return -1;
    }
    int prog = load_count_prog(r->map_fd, net, mask);
    if (prog < 0) { close(r->map_fd); r->map_fd = -1; return -1; }
    int rc = setsockopt(r->fd, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof prog);
    close(prog); /* the socket holds a reference */
    if (rc < 0) {
        fprintf(stderr, "sdgen: SO_ATTACH_BPF: %s\n", strerror(errno));
        close(r->map_fd); r->map_fd = -1;
        return -1;
    }
    r->ncpu = possible_cpus();
    return 0;
}

static void rx_read_bpf(struct rx *r)
{
    if (r->mode != RX_BPF) return;
    uint64_t tot[3] = { 0, 0, 0 };
    uint64_t *vals = calloc((size_t)r->ncpu, 8);
    if (!vals) return;
    for (uint32_t k = 0; k < 3; k++) {
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.map_fd = (uint32_t)r->map_fd;
        a.key = (uint64_t)(uintptr_t)&k;
        a.value = (uint64_t)(uintptr_t)vals;
        if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) == 0)
            for (int c = 0; c < r->ncpu; c++) tot[k] += vals[c];
    }
    free(vals);
    r->syn_acks = tot[0];
    r->rsts = tot[1];
    r->other = tot[2];
}

/* Filter: non-outgoing, non-fragment IPv4 TCP whose destination is inside the
 * spoofed prefix; 128 bytes copied into a TPACKET_V3 ring. */
static void rx_open(struct rx *r, const struct link *l, uint32_t net, uint32_t mask, enum rxmode want)
{
    memset(r, 0, sizeof *r);
    r->map_fd = -1;
    r->fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: nothing queued until bind */
    if (r->fd < 0) die(1, "socket(AF_PACKET rx): %s", strerror(errno));
    r->mode = RX_RING;
    if (want == RX_BPF) {
        if (rx_attach_bpf(r, net, mask) == 0) r->mode = RX_BPF;
        else fprintf(stderr, "sdgen: falling back to --rx ring (every reply copied; costs the server core)\n");
    }
    if (r->mode == RX_RING) {
        struct sock_filter code[] = {
            /* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
            /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 10, 0),
            /* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
            /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 8),
            /* 4 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
            /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 6),
            /* 6 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),
            /* 7 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
            /* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 30),
            /* 9 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask),
            /* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, net, 0, 1),
            /* 11 */ BPF_STMT(BPF_RET | BPF_K, 128),
            /* 12 */ BPF_STMT(BPF_RET | BPF_K, 0),
        };
        struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };
        if (setsockopt(r->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
            die(1, "SO_ATTACH_FILTER: %s", strerror(errno));
    }
    int v = TPACKET_V3;
    if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0)
        die(1, "PACKET_VERSION: %s", strerror(errno));
    r->block_size = r->mode == RX_RING ? 1u << 20 : 1u << 18;
    r->block_nr = r->mode == RX_RING ? 16 : 4;
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = r->block_size;
    req.tp_block_nr = r->block_nr;
    req.tp_frame_size = 2048;
    req.tp_frame_nr = r->block_size / 2048 * r->block_nr;
    req.tp_retire_blk_tov = 20; /* ms */
    if (setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
        die(1, "PACKET_RX_RING: %s", strerror(errno));
    r->map = mmap(NULL, (size_t)r->block_size * r->block_nr, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
    if (r->map == MAP_FAILED) die(1, "mmap rx ring: %s", strerror(errno));
    /* ETH_P_ALL, not ETH_P_IP: a tap is called before ip_rcv() and drops its reference at
     * once, so ip_rcv() sees an unshared skb. A device-bound ETH_P_IP socket is called after
     * ip_rcv() has been handed a shared skb, which it then clones for every reply (~12 %
     * of the server core in the reflector lab). */
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = l->ifindex };
    if (bind(r->fd, (struct sockaddr *)&sll, sizeof sll) < 0) die(1, "bind(AF_PACKET rx): %s", strerror(errno));
}

static uint32_t syn_isn(uint32_t saddr, uint16_t sport) { return mix32(saddr * 0x9e3779b1U ^ sport ^ 0x5d0c1a2bU); }

static void rx_frame(struct rx *r, const uint8_t *f, unsigned len)
{
    if (len < 14 + 20) return;
    const uint8_t *ip = f + 14;
    unsigned ihl = (unsigned)(ip[0] & 0x0f) * 4;
    if (ihl < 20 || len < 14 + ihl + 20) { r->other++; return; }
    const uint8_t *t = ip + ihl;
    uint8_t fl = t[13];
    int counting = r->mode == RX_RING; /* bpf mode: the map counts, the ring holds a sample */
    if (fl & 0x04) { if (counting) r->rsts++; }
    else if ((fl & 0x12) == 0x12) {
        if (counting) r->syn_acks++;
        r->checked++;
        /* SYN-ACK must acknowledge our ISN + 1 */
        if (get32(t + 8) != syn_isn(get32(ip + 16), get16(t + 2)) + 1) r->bad_ack++;
    } else if (counting) r->other++;
}

static void rx_drain(struct rx *r)
{
    if (r->fd < 0) return;
    for (;;) {
        struct tpacket_block_desc *bd = (struct tpacket_block_desc *)(r->map + (size_t)r->cur * r->block_size);
        if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) return;
        uint32_t n = bd->hdr.bh1.num_pkts;
        struct tpacket3_hdr *h = (struct tpacket3_hdr *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
        for (uint32_t i = 0; i < n; i++) {
            rx_frame(r, (uint8_t *)h + h->tp_mac, h->tp_snaplen);
            h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
        }
        __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        r->cur = (r->cur + 1) % r->block_nr;
    }
}

static void rx_close(struct rx *r)
{
    rx_read_bpf(r);
    if (r->map_fd >= 0) close(r->map_fd);
    struct tpacket_stats_v3 st;
    socklen_t sl = sizeof st;
    if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
        r->kernel_drops += st.tp_drops;
    munmap(r->map, (size_t)r->block_size * r->block_nr);
    close(r->fd);
}
