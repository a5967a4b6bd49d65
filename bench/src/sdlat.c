/*
 * sdlat - round-trip latency of single SYNs (or pings) at a low rate, from kernel timestamps.
 *
 * Runs inside a client network namespace. Sends one probe every 1/--rate s through a raw IPv4
 * socket (the normal route and qdisc, so the interface's packet taps see it) and reads BOTH
 * directions from one AF_PACKET socket (ETH_P_ALL, SO_TIMESTAMPNS): the kernel stamps the
 * outgoing probe when it leaves through the interface and the reply when it arrives there.
 * RTT = reply stamp - probe stamp: the client program's scheduling is not in it.
 *
 *   sdlat syn  --dst A --dport P --src-net N/L --rate R --count N [--ifname eth0] [--grace-ms 500]
 *   sdlat ping --dst A --src A --rate R --count N [--ifname eth0] [--grace-ms 500]
 *
 * syn: probe i comes from a distinct (address, port) of --src-net (a random host per run, so
 * reruns never meet an old request socket) with seq = hash(i); a reply counts when it is a
 * SYN-ACK to that 4-tuple with ack = seq + 1 (retransmitted SYN-ACKs are ignored).
 * --src-net must be routed back to this namespace and not be local to it (no RST).
 * ping: ICMP echo from --src (this namespace's address) with a random id and seq = i.
 *
 * One JSON line on stdout: sent, answered, lost, p10/p50/p90/p99/max/min/mean in microseconds. The low
 * percentiles are the path's own cost: a busy neighbour only ever adds to a round trip.
 * Exit: 0 ok, 1 runtime failure, 2 usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "sdlat"
#include "common.h"

#define MAX_COUNT 100000
#define MAX_RATE 20000.0

struct opts {
    int syn;                 /* 1 = syn, 0 = ping */
    uint32_t dst, src, net, mask;
    uint16_t dport;
    double rate;
    int count;
    const char *ifname;
    int grace_ms;
};

struct probe {
    int64_t tx_ns, rx_ns;    /* kernel timestamps, 0 = not seen */
    uint32_t saddr;
    uint16_t sport;
    uint32_t seq;
};

static uint32_t parse_ip(const char *s, const char *what)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1) die(2, "%s: not an IPv4 address: %s", what, s);
    return ntohl(a.s_addr);
}

static void usage(void)
{
    fputs("usage: sdlat syn --dst A --dport P --src-net N/L --rate R --count N [--ifname IF] [--grace-ms MS]\n"
          "       sdlat ping --dst A --src A --rate R --count N [--ifname IF] [--grace-ms MS]\n", stderr);
    exit(2);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->ifname = "eth0";
    o->grace_ms = 500;
    if (argc < 2) usage();
    if (!strcmp(argv[1], "syn")) o->syn = 1;
    else if (strcmp(argv[1], "ping")) usage();
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        if (i + 1 >= argc) die(2, "%s needs a value", k);
        const char *v = argv[++i];
        if (!strcmp(k, "--dst")) o->dst = parse_ip(v, k);
        else if (!strcmp(k, "--src")) o->src = parse_ip(v, k);
        else if (!strcmp(k, "--dport")) o->dport = (uint16_t)atoi(v);
        else if (!strcmp(k, "--rate")) o->rate = atof(v);
        else if (!strcmp(k, "--count")) o->count = atoi(v);
        else if (!strcmp(k, "--ifname")) o->ifname = v;
        else if (!strcmp(k, "--grace-ms")) o->grace_ms = atoi(v);
        else if (!strcmp(k, "--src-net")) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s", v);
            char *slash = strchr(buf, '/');
            if (slash == NULL) die(2, "--src-net: want N/L");
            *slash = 0;
            int len = atoi(slash + 1);
            if (len < 8 || len > 24) die(2, "--src-net: prefix length 8..24");
            o->mask = len == 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
            o->net = parse_ip(buf, "--src-net") & o->mask;
        } else die(2, "unknown option %s", k);
    }
    if (o->dst == 0) die(2, "--dst is required");
    if (o->syn && (o->dport == 0 || o->net == 0)) die(2, "syn needs --dport and --src-net");
    if (!o->syn && o->src == 0) die(2, "ping needs --src");
    if (!(o->rate > 0 && o->rate <= MAX_RATE)) die(2, "--rate must be in (0, %.0f]", MAX_RATE);
    if (o->count < 1 || o->count > MAX_COUNT) die(2, "--count must be 1..%d", MAX_COUNT);
    if (o->grace_ms < 0 || o->grace_ms > 5000) die(2, "--grace-ms must be 0..5000");
}

static uint32_t urandom32(void)
{
    uint32_t v = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &v, sizeof v) != sizeof v) v ^= 0x9e3779b9u;
        close(fd);
    }
    return v;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Builds probe i into buf; returns its length. */
static size_t build(const struct opts *o, const struct probe *p, uint16_t ping_id, int i, uint8_t *buf)
{
    size_t l4 = o->syn ? 24 : 16; /* SYN with an MSS option; echo with 8 bytes of data */
    memset(buf, 0, 20 + l4);
    buf[0] = 0x45;
    put16(buf + 2, (uint16_t)(20 + l4));
    put16(buf + 4, (uint16_t)i);
    put16(buf + 6, 0x4000); /* DF */
    buf[8] = 64;
    buf[9] = o->syn ? IPPROTO_TCP : IPPROTO_ICMP;
    put32(buf + 12, p->saddr);
    put32(buf + 16, o->dst);
    put16(buf + 10, csum_fold(csum_add(0, buf, 20)));
    uint8_t *t = buf + 20;
    if (o->syn) {
        put16(t, p->sport);
        put16(t + 2, o->dport);
        put32(t + 4, p->seq);
        t[12] = 6 << 4;
        t[13] = 0x02;
        put16(t + 14, 64240);
        t[20] = 2; t[21] = 4; put16(t + 22, 1460);
        uint32_t s = csum_add(0, buf + 12, 8) + IPPROTO_TCP + (uint32_t)l4;
        put16(t + 16, csum_fold(csum_add(s, t, l4)));
    } else {
        t[0] = 8;
        put16(t + 4, ping_id);
        put16(t + 6, (uint16_t)i);
        put32(t + 8, (uint32_t)i);
        put16(t + 2, csum_fold(csum_add(0, t, l4)));
    }
    return 20 + l4;
}

struct run {
    const struct opts *o;
    struct probe *p;
    uint32_t host0;          /* first probe's host offset in --src-net */
    uint16_t ping_id;
    int sent;
    long unmatched;
};

/* Index of the probe a packet belongs to (outgoing: the probe; incoming: its reply), or -1. */
static int match(struct run *r, const uint8_t *ip, size_t n, int outgoing)
{
    const struct opts *o = r->o;
    if (n < 20 || (ip[0] >> 4) != 4) return -1;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if (n < ihl + 8) return -1;
    const uint8_t *t = ip + ihl;
    if (o->syn) {
        if (ip[9] != IPPROTO_TCP || n < ihl + 20) return -1;
        uint32_t addr = get32(ip + (outgoing ? 12 : 16));
        uint16_t port = get16(t + (outgoing ? 0 : 2));
        if ((addr & o->mask) != o->net || port < 1024) return -1;
        uint32_t hosts = ~o->mask + 1;
        uint32_t h = (addr - o->net - r->host0) & (hosts - 1);
        long i = (long)h * 64512 + (port - 1024);
        if (i < 0 || i >= r->sent) return -1;
        struct probe *p = &r->p[i];
        if (p->saddr != addr || p->sport != port) return -1;
        uint8_t flags = t[13];
        if (outgoing) return (flags & 0x12) == 0x02 && get32(t + 4) == p->seq ? (int)i : -1;
        return (flags & 0x12) == 0x12 && get32(t + 8) == p->seq + 1 ? (int)i : -1;
    }
    if (ip[9] != IPPROTO_ICMP || t[0] != (outgoing ? 8 : 0) || get16(t + 4) != r->ping_id) return -1;
    int i = get16(t + 6);
    return i < r->sent ? i : -1;
}

static void drain(struct run *r, int fd)
{
    uint8_t buf[2048];
    char ctl[256];
    for (;;) {
        struct sockaddr_ll from;
        struct iovec iov = {buf, sizeof buf};
        struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                           .msg_control = ctl, .msg_controllen = sizeof ctl};
        ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            die(1, "recvmsg: %s", strerror(errno));
        }
        if (ntohs(from.sll_protocol) != ETH_P_IP) continue;
        int outgoing = from.sll_pkttype == PACKET_OUTGOING;
        int i = match(r, buf, (size_t)n, outgoing);
        if (i < 0) { r->unmatched++; continue; }
        int64_t stamp = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
                stamp = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
            }
        if (stamp == 0) continue;
        int64_t *slot = outgoing ? &r->p[i].tx_ns : &r->p[i].rx_ns;
        if (*slot == 0) *slot = stamp; /* first only: a retransmitted SYN-ACK is not the answer */
    }
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const int64_t *v, int n, double q)
{
    if (n == 0) return 0;
    int k = (int)(q * (n - 1) + 0.5);
    return (double)v[k] / 1000.0;
}

int main(int argc, char **argv)
{
    struct opts o;
    parse_args(argc, argv, &o);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    int rx = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (rx < 0) die(1, "socket(AF_PACKET): %s (needs root)", strerror(errno));
    int on = 1;
    if (setsockopt(rx, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0) die(1, "SO_TIMESTAMPNS: %s", strerror(errno));
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
    sll.sll_ifindex = (int)if_nametoindex(o.ifname);
    if (sll.sll_ifindex == 0) die(1, "no interface %s here", o.ifname);
    if (bind(rx, (struct sockaddr *)&sll, sizeof sll) < 0) die(1, "bind(AF_PACKET): %s", strerror(errno));
    int tx = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (tx < 0) die(1, "socket(IPPROTO_RAW): %s", strerror(errno));

    struct probe *p = calloc((size_t)o.count, sizeof *p);
    if (p == NULL) die(1, "out of memory");
    struct run r = {.o = &o, .p = p, .ping_id = (uint16_t)urandom32()};
    uint32_t seed = urandom32();
    if (o.syn) {
        uint32_t hosts = ~o.mask + 1;
        r.host0 = 1 + seed % (hosts - 4); /* at most 2 hosts: never the network or broadcast address */
        for (int i = 0; i < o.count; i++) {
            p[i].saddr = o.net + r.host0 + (uint32_t)(i / 64512);
            p[i].sport = (uint16_t)(1024 + i % 64512);
            p[i].seq = mix32(seed ^ (uint32_t)i);
        }
    } else {
        for (int i = 0; i < o.count; i++) p[i].saddr = o.src;
    }

    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(o.dst)};
    double started = now_s();
    int64_t start = mono_ns(), interval = (int64_t)(1e9 / o.rate);
    int64_t end = 0;
    long send_errors = 0;
    while (!g_stop) {
        int64_t now = mono_ns();
        if (r.sent < o.count && now >= start + r.sent * interval) {
            uint8_t buf[64];
            size_t len = build(&o, &p[r.sent], r.ping_id, r.sent, buf);
            if (sendto(tx, buf, len, 0, (struct sockaddr *)&to, sizeof to) < 0) send_errors++;
            r.sent++;
            if (r.sent == o.count) end = mono_ns() + (int64_t)o.grace_ms * 1000000LL;
            continue;
        }
        if (r.sent == o.count && now >= end) break;
        int64_t wait = r.sent < o.count ? start + r.sent * interval - now : end - now;
        struct timespec ts = {wait / 1000000000LL, wait % 1000000000LL};
        struct pollfd pfd = {rx, POLLIN, 0};
        if (ppoll(&pfd, 1, &ts, NULL) > 0) drain(&r, rx);
    }
    drain(&r, rx);
    double seconds = now_s() - started;

    int64_t *rtt = malloc(sizeof *rtt * (size_t)(r.sent ? r.sent : 1));
    int n = 0, no_tx = 0;
    double sum = 0;
    for (int i = 0; i < r.sent; i++) {
        if (p[i].tx_ns == 0) { no_tx++; continue; }
        if (p[i].rx_ns == 0) continue;
        rtt[n] = p[i].rx_ns - p[i].tx_ns;
        sum += (double)rtt[n];
        n++;
    }
    qsort(rtt, (size_t)n, sizeof *rtt, cmp64);
    printf("{\"mode\":\"%s\",\"sent\":%d,\"answered\":%d,\"lost\":%d,\"noTxStamp\":%d,\"sendErrors\":%ld,"
           "\"unmatched\":%ld,\"seconds\":%.3f,\"rate\":%.0f,\"p10_us\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,"
           "\"max_us\":%.1f,\"min_us\":%.1f,\"mean_us\":%.1f}\n",
           o.syn ? "syn" : "ping", r.sent, n, r.sent - n - no_tx, no_tx, send_errors, r.unmatched, seconds, o.rate,
           pct(rtt, n, 0.1), pct(rtt, n, 0.5), pct(rtt, n, 0.9), pct(rtt, n, 0.99), n ? (double)rtt[n - 1] / 1000.0 : 0,
           n ? (double)rtt[0] / 1000.0 : 0, n ? sum / n / 1000.0 : 0);
    free(rtt);
    free(p);
    return 0;
}
