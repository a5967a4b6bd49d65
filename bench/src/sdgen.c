/*
 * sdgen - bounded SYN flood / malformed-frame generator for syndrop benchmarks.
 *
 * Runs inside a client network namespace. Sends hand-built Ethernet+IPv4 frames
 * through AF_PACKET SOCK_RAW with PACKET_QDISC_BYPASS and sendmmsg() batches.
 *
 *   sdgen syn     --dst A --dport P --src-net N/L --count N --seconds S [...]
 *   sdgen garbage --dst A --dport P --count N --seconds S --seed K [--src A]
 *
 * Every run is bounded by --count AND --seconds (both required, capped at
 * 50,000,000 frames and 120 s). One JSON line on stdout at the end.
 * Exit: 0 ok, 1 runtime failure, 2 usage error.
 *
 * Plain C, Linux only, no external libraries.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PROG "sdgen"
#include "common.h"

#define MAX_COUNT 50000000ULL
#define MAX_SECONDS 120.0
#define MAX_BATCH 1024
#define FRAME_MAX 1600

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

/* ------------------------------------------------------------- arguments */

enum rxmode { RX_NONE, RX_BPF, RX_RING };
static const char *rxmode_name[] = { "none", "bpf", "ring" };

struct opts {
    const char *mode;
    uint32_t dst;          /* host order */
    int dst_set;
    uint16_t dport;
    uint32_t src_net, src_mask; int src_len; int src_net_set;
    uint32_t src; int src_set;
    int src_rand;          /* --src-order rand|inc */
    uint64_t count; int count_set;
    double seconds; int seconds_set;
    double rate;
    int batch;
    const char *ifname;
    int gw_mac_set; uint8_t gw_mac[6];
    int ts, sack, wscale; uint16_t mss;
    int grace_ms;
    int progress;
    enum rxmode rx;
    uint64_t seed; int seed_set;
};

static void usage(int code)
{
    fprintf(code ? stderr : stdout,
        "usage:\n"
        "  sdgen syn --dst IP --dport PORT --src-net NET/LEN --count N --seconds S\n"
        "            [--rate PPS] [--batch 64] [--ifname IF] [--gw-mac auto|xx:xx:xx:xx:xx:xx]\n"
        "            [--src-order rand|inc] [--mss 1460] [--ts] [--sack] [--wscale N]\n"
        "            [--grace-ms 500] [--rx bpf|ring|none] [--progress]\n"
        "  sdgen garbage --dst IP --dport PORT --count N --seconds S --seed K [--src IP]\n"
        "            [--rate PPS] [--batch 64] [--ifname IF] [--gw-mac auto|MAC] [--progress]\n"
        "Both --count and --seconds are required (caps: %llu frames, %.0f s).\n"
        "Output: one JSON line on stdout. Exit 0 ok, 1 runtime failure, 2 usage error.\n",
        (unsigned long long)MAX_COUNT, MAX_SECONDS);
    exit(code);
}

static uint32_t parse_ip(const char *s, const char *what)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        die(2, "bad %s address '%s'", what, s);
    return ntohl(a.s_addr);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (v[i] > 255) return -1;
        mac[i] = (uint8_t)v[i];
    }
    return 0;
}

static double parse_num(const char *s, const char *what)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0)
        die(2, "bad value for %s: '%s'", what, s);
    return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 64;
    o->mss = 1460;
    o->wscale = -1;
    o->grace_ms = 500;
    o->src_rand = 1;
    o->rx = RX_BPF;
    if (argc < 2) usage(2);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) usage(0);
    o->mode = argv[1];
    if (strcmp(o->mode, "syn") && strcmp(o->mode, "garbage"))
        die(2, "unknown mode '%s' (syn|garbage)", o->mode);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
#define NEEDARG() do { if (i + 1 >= argc) die(2, "%s needs a value", a); } while (0)
        if (!strcmp(a, "--dst")) { NEEDARG(); o->dst = parse_ip(argv[++i], "--dst"); o->dst_set = 1; }
        else if (!strcmp(a, "--dport")) {
            NEEDARG(); double v = parse_num(argv[++i], a);
            if (v < 1 || v > 65535) die(2, "--dport out of range");
            o->dport = (uint16_t)v;
        }
        else if (!strcmp(a, "--src-net")) {
            NEEDARG(); char buf[64]; snprintf(buf, sizeof buf, "%s", argv[++i]);
            char *slash = strchr(buf, '/');
            if (!slash) die(2, "--src-net needs NET/LEN");
            *slash = 0;
            int len = atoi(slash + 1);
            if (len < 8 || len > 32) die(2, "--src-net prefix length must be 8..32");
            o->src_len = len;
            o->src_mask = len == 32 ? 0xffffffffU : ~(0xffffffffU >> len);
            o->src_net = parse_ip(buf, "--src-net") & o->src_mask;
            o->src_net_set = 1;
        }
        else if (!strcmp(a, "--src")) { NEEDARG(); o->src = parse_ip(argv[++i], "--src"); o->src_set = 1; }
        else if (!strcmp(a, "--src-order")) {
            NEEDARG(); i++;
            if (!strcmp(argv[i], "rand")) o->src_rand = 1;
            else if (!strcmp(argv[i], "inc")) o->src_rand = 0;
            else die(2, "--src-order must be rand or inc");
        }
        else if (!strcmp(a, "--count")) {
            NEEDARG(); double v = parse_num(argv[++i], a);
            if (v < 1) die(2, "--count must be >= 1");
            if (v > (double)MAX_COUNT) {
                fprintf(stderr, "sdgen: --count capped at %llu\n", (unsigned long long)MAX_COUNT);
                v = (double)MAX_COUNT;
            }
            o->count = (uint64_t)v; o->count_set = 1;
        }
        else if (!strcmp(a, "--seconds")) {
            NEEDARG(); double v = parse_num(argv[++i], a);
            if (v <= 0) die(2, "--seconds must be > 0");
            if (v > MAX_SECONDS) { fprintf(stderr, "sdgen: --seconds capped at %.0f\n", MAX_SECONDS); v = MAX_SECONDS; }
            o->seconds = v; o->seconds_set = 1;
        }
        else if (!strcmp(a, "--rate")) { NEEDARG(); o->rate = parse_num(argv[++i], a); }
        else if (!strcmp(a, "--batch")) {
            NEEDARG(); double v = parse_num(argv[++i], a);
            if (v < 1 || v > MAX_BATCH) die(2, "--batch must be 1..%d", MAX_BATCH);
            o->batch = (int)v;
        }
        else if (!strcmp(a, "--ifname")) { NEEDARG(); o->ifname = argv[++i]; }
        else if (!strcmp(a, "--gw-mac")) {
            NEEDARG(); i++;
            if (strcmp(argv[i], "auto")) {
                if (parse_mac(argv[i], o->gw_mac)) die(2, "bad --gw-mac '%s'", argv[i]);
                o->gw_mac_set = 1;
            }
        }
        else if (!strcmp(a, "--ts")) o->ts = 1;
        else if (!strcmp(a, "--sack")) o->sack = 1;
        else if (!strcmp(a, "--wscale")) {
            NEEDARG(); double v = parse_num(argv[++i], a);
            if (v > 14) die(2, "--wscale must be 0..14");
            o->wscale = (int)v;
        }
        else if (!strcmp(a, "--mss")) {
            NEEDARG(); double v = parse_num(argv[++i], a);
            if (v > 65535) die(2, "--mss out of range");
            o->mss = (uint16_t)v;
        }
        else if (!strcmp(a, "--grace-ms")) {
            NEEDARG(); double v = parse_num(argv[++i], a);
            if (v > 10000) die(2, "--grace-ms must be <= 10000");
            o->grace_ms = (int)v;
        }
        else if (!strcmp(a, "--seed")) {
            NEEDARG(); char *end; errno = 0;
            o->seed = strtoull(argv[++i], &end, 0);
            if (errno || *end) die(2, "bad --seed");
            o->seed_set = 1;
        }
        else if (!strcmp(a, "--progress")) o->progress = 1;
        else if (!strcmp(a, "--no-rx")) o->rx = RX_NONE;
        else if (!strcmp(a, "--rx")) {
            NEEDARG(); i++;
            if (!strcmp(argv[i], "bpf")) o->rx = RX_BPF;
            else if (!strcmp(argv[i], "ring")) o->rx = RX_RING;
            else if (!strcmp(argv[i], "none")) o->rx = RX_NONE;
            else die(2, "--rx must be bpf, ring or none");
        }
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage(0);
        else die(2, "unknown option '%s' (see --help)", a);
#undef NEEDARG
    }
    if (!o->count_set || !o->seconds_set)
        die(2, "refusing to run without both --count and --seconds");
    if (!o->dst_set) die(2, "--dst is required");
    if (!o->dport) die(2, "--dport is required");
    if (!strcmp(o->mode, "syn") && !o->src_net_set) die(2, "syn mode needs --src-net NET/LEN");
    if (!strcmp(o->mode, "garbage") && !o->seed_set) die(2, "garbage mode needs --seed K");
}

/* ------------------------------------------------ interface / next hop */

/* Longest-prefix match of dst in /proc/net/route. Returns 0 on success. */
static int route_lookup(uint32_t dst, char ifname[IFNAMSIZ], uint32_t *gw)
{
    FILE *f = fopen("/proc/net/route", "r");
    if (!f) return -1;
    char line[512];
    int best_len = -1;
    if (!fgets(line, sizeof line, f)) { fclose(f); return -1; }
    while (fgets(line, sizeof line, f)) {
        char ifn[64];
        unsigned d, g, fl, m;
        int refcnt, use, metric;
        if (sscanf(line, "%63s %x %x %x %d %d %d %x", ifn, &d, &g, &fl, &refcnt, &use, &metric, &m) != 8)
            continue;
        if (!(fl & 0x1)) continue; /* RTF_UP */
        uint32_t dn = ntohl(d), gn = ntohl(g), mn = ntohl(m);
        if ((dst & mn) != dn) continue;
        int len = __builtin_popcount(mn);
        if (len > best_len) {
            best_len = len;
            snprintf(ifname, IFNAMSIZ, "%.15s", ifn);
            *gw = (fl & 0x2) ? gn : 0; /* RTF_GATEWAY */
        }
    }
    fclose(f);
    return best_len >= 0 ? 0 : -1;
}

static int arp_lookup(uint32_t ip, const char *ifname, uint8_t mac[6])
{
    FILE *f = fopen("/proc/net/arp", "r");
    if (!f) return -1;
    char line[512];
    int found = -1;
    if (!fgets(line, sizeof line, f)) { fclose(f); return -1; }
    while (fgets(line, sizeof line, f)) {
        char ips[64], hw[64], mask[64], dev[64];
        unsigned type, flags;
        if (sscanf(line, "%63s 0x%x 0x%x %63s %63s %63s", ips, &type, &flags, hw, mask, dev) != 6)
            continue;
        if (!(flags & 0x2)) continue; /* ATF_COM */
        if (strcmp(dev, ifname)) continue;
        struct in_addr a;
        if (inet_pton(AF_INET, ips, &a) != 1 || ntohl(a.s_addr) != ip) continue;
        if (parse_mac(hw, mac) == 0) { found = 0; break; }
    }
    fclose(f);
    return found;
}

/* Make the kernel resolve nh by sending one UDP datagram to it (discard port). */
static void resolve_mac(uint32_t nh, const char *ifname, uint8_t mac[6])
{
    for (int attempt = 0; attempt < 3; attempt++) {
        if (arp_lookup(nh, ifname, mac) == 0) return;
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        if (s >= 0) {
            struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(nh) };
            setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname));
            (void)sendto(s, "x", 1, 0, (struct sockaddr *)&sa, sizeof sa);
            close(s);
        }
        for (int i = 0; i < 50; i++) { /* up to 1 s per attempt */
            usleep(20000);
            if (arp_lookup(nh, ifname, mac) == 0) return;
        }
    }
    struct in_addr a = { .s_addr = htonl(nh) };
    die(1, "could not resolve the MAC of next hop %s on %s (give --gw-mac)", inet_ntoa(a), ifname);
}

struct link {
    char ifname[IFNAMSIZ];
    int ifindex;
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint32_t if_addr; /* host order, 0 if none */
};

static void setup_link(const struct opts *o, struct link *l)
{
    uint32_t gw = 0;
    char rif[IFNAMSIZ] = "";
    int have_route = route_lookup(o->dst, rif, &gw) == 0;
    if (o->ifname) snprintf(l->ifname, IFNAMSIZ, "%s", o->ifname);
    else if (have_route) snprintf(l->ifname, IFNAMSIZ, "%s", rif);
    else die(1, "no route to --dst and no --ifname given");
    l->ifindex = (int)if_nametoindex(l->ifname);
    if (!l->ifindex) die(1, "no interface '%s' in this namespace", l->ifname);

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) die(1, "socket: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", l->ifname);
    if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) die(1, "SIOCGIFHWADDR %s: %s", l->ifname, strerror(errno));
    memcpy(l->src_mac, ifr.ifr_hwaddr.sa_data, 6);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", l->ifname);
    if (ioctl(s, SIOCGIFADDR, &ifr) == 0)
        l->if_addr = ntohl(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr);
    close(s);

    if (o->gw_mac_set) {
        memcpy(l->dst_mac, o->gw_mac, 6);
    } else {
        if (!have_route || strcmp(rif, l->ifname))
            die(1, "--dst is not routed via %s here; give --gw-mac", l->ifname);
        resolve_mac(gw ? gw : o->dst, l->ifname, l->dst_mac);
    }
}

static int open_tx(const struct link *l)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send-only, receives nothing */
    if (fd < 0) {
        if (errno == EPERM) die(1, "AF_PACKET needs CAP_NET_RAW: run as root");
        die(1, "socket(AF_PACKET): %s", strerror(errno));
    }
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0)
        fprintf(stderr, "sdgen: PACKET_QDISC_BYPASS unavailable (%s), using qdisc\n", strerror(errno));
    int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = 0, .sll_ifindex = l->ifindex };
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) die(1, "bind(AF_PACKET): %s", strerror(errno));
    return fd;
}

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

int main(int argc, char **argv)
{
    struct opts o;
    parse_args(argc, argv, &o);
    setvbuf(stderr, NULL, _IOLBF, 0);
    if (!strcmp(o.mode, "syn")) return run_syn(&o);
    return run_garbage(&o);
}
