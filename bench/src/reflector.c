/*
 * reflector - the physical limit of the TUN path for syndrop benchmarks.
 *
 * Attaches to a TUN device (IFF_TUN | IFF_NO_PI), optionally after entering a
 * network namespace, and answers every IPv4 TCP SYN with a SYN-ACK written in
 * place (addresses and ports swapped, ack = seq + 1, ISN from a cheap hash,
 * MSS option, IPv4 and TCP checksums). Everything else is counted and ignored.
 * Nonblocking fd: read up to --batch frames per wakeup until EAGAIN, poll()
 * only when the queue is empty, one write() per reply.
 *
 *   reflector --dev sd0 [--netns NAME] --seconds S [--batch 64] [--mss 1460]
 *             [--no-verify] [--progress]
 *
 * Stops by itself after --seconds (capped at 600) or on SIGINT/SIGTERM and
 * prints one JSON line on stdout. Exit: 0 ok, 1 runtime failure, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "reflector"
#include "common.h"

#define MAX_SECONDS 600.0
#define MAX_BATCH 1024
#define BUF_SIZE 2048

static uint16_t tcp_csum(const uint8_t *ip, const uint8_t *t, size_t len)
{
    uint32_t s = csum_add(0, ip + 12, 8);
    s += 6u + (uint32_t)len;
    return csum_fold(csum_add(s, t, len));
}

enum { C_FRAMES, C_SYNACKS, C_NOT_IPV4, C_NOT_TCP, C_NOT_SYN, C_FRAGMENT, C_MALFORMED, C_BAD_CSUM,
       C_WRITE_ERR, C_READS, C_N };
static uint64_t cnt[C_N];

static int verify = 1;
static uint16_t reply_mss = 1460;
static uint32_t isn_secret;

/* Returns the reply length (44) if p holds a SYN it answered in place, else 0. */
static int reflect(uint8_t *p, size_t n)
{
    if (n < 20) { cnt[C_MALFORMED]++; return 0; }
    if ((p[0] >> 4) != 4) { cnt[C_NOT_IPV4]++; return 0; }
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t tot = get16(p + 2);
    if (ihl < 20 || tot < ihl || tot > n) { cnt[C_MALFORMED]++; return 0; }
    if (verify && csum_fold(csum_add(0, p, ihl)) != 0) { cnt[C_BAD_CSUM]++; return 0; }
    if (p[9] != 6) { cnt[C_NOT_TCP]++; return 0; }
    if (get16(p + 6) & 0x3fff) { cnt[C_FRAGMENT]++; return 0; }
    size_t tl = tot - ihl;
    if (tl < 20) { cnt[C_MALFORMED]++; return 0; }
    uint8_t *t = p + ihl;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (doff < 20 || doff > tl) { cnt[C_MALFORMED]++; return 0; }
    if ((t[13] & 0x17) != 0x02) { cnt[C_NOT_SYN]++; return 0; } /* SYN without ACK/RST/FIN */
    if (verify && tcp_csum(p, t, tl) != 0) { cnt[C_BAD_CSUM]++; return 0; }

    uint32_t saddr = get32(p + 12), daddr = get32(p + 16);
    uint16_t sport = get16(t), dport = get16(t + 2);
    uint32_t seq = get32(t + 4);
    uint32_t isn = mix32(saddr ^ mix32(daddr ^ isn_secret) ^ ((uint32_t)sport << 16 | dport));

    /* IPv4 header, 20 bytes, no options */
    p[0] = 0x45; p[1] = 0;
    put16(p + 2, 44);
    put16(p + 4, 0);
    put16(p + 6, 0x4000);
    p[8] = 64; p[9] = 6;
    put16(p + 10, 0);
    put32(p + 12, daddr);
    put32(p + 16, saddr);
    put16(p + 10, csum_fold(csum_add(0, p, 20)));
    /* TCP header + MSS option */
    uint8_t *r = p + 20;
    put16(r, dport);
    put16(r + 2, sport);
    put32(r + 4, isn);
    put32(r + 8, seq + 1);
    r[12] = 6 << 4;
    r[13] = 0x12;
    put16(r + 14, 65535);
    put16(r + 16, 0);
    put16(r + 18, 0);
    r[20] = 2; r[21] = 4; put16(r + 22, reply_mss);
    put16(r + 16, tcp_csum(p, r, 24));
    return 44;
}

static void usage(int code)
{
    fprintf(code ? stderr : stdout,
        "usage: reflector --dev NAME [--netns NAME] --seconds S [--batch 64] [--mss 1460]\n"
        "                 [--no-verify] [--progress]\n"
        "Answers every TCP SYN read from the TUN device with a SYN-ACK; stops after --seconds\n"
        "(max %.0f) and prints one JSON line. Exit 0 ok, 1 runtime failure, 2 usage error.\n",
        MAX_SECONDS);
    exit(code);
}

int main(int argc, char **argv)
{
    const char *dev = NULL, *netns = NULL;
    double seconds = 0;
    int batch = 64, progress = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage(0);
        else if (!strcmp(a, "--no-verify")) verify = 0;
        else if (!strcmp(a, "--progress")) progress = 1;
        else if (i + 1 >= argc) die(2, "unknown option or missing value: '%s' (see --help)", a);
        else if (!strcmp(a, "--dev")) dev = argv[++i];
        else if (!strcmp(a, "--netns")) netns = argv[++i];
        else if (!strcmp(a, "--seconds")) {
            char *e; seconds = strtod(argv[++i], &e);
            if (*e || seconds <= 0) die(2, "bad --seconds");
            if (seconds > MAX_SECONDS) { fprintf(stderr, "reflector: --seconds capped at %.0f\n", MAX_SECONDS); seconds = MAX_SECONDS; }
        } else if (!strcmp(a, "--batch")) {
            char *e; long v = strtol(argv[++i], &e, 10);
            if (*e || v < 1 || v > MAX_BATCH) die(2, "--batch must be 1..%d", MAX_BATCH);
            batch = (int)v;
        } else if (!strcmp(a, "--mss")) {
            char *e; long v = strtol(argv[++i], &e, 10);
            if (*e || v < 1 || v > 65535) die(2, "bad --mss");
            reply_mss = (uint16_t)v;
        } else die(2, "unknown option '%s' (see --help)", a);
    }
    if (!dev) die(2, "--dev is required");
    if (seconds <= 0) die(2, "--seconds is required");
    if (strlen(dev) >= IFNAMSIZ) die(2, "--dev name too long");

    if (netns) {
        if (strchr(netns, '/')) die(2, "--netns takes a name from /var/run/netns");
        char path[256];
        snprintf(path, sizeof path, "/var/run/netns/%s", netns);
        int nfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nfd < 0) die(1, "open %s: %s", path, strerror(errno));
        if (setns(nfd, CLONE_NEWNET) < 0)
            die(1, "setns(%s): %s%s", netns, strerror(errno), errno == EPERM ? " (run as root)" : "");
        close(nfd);
    }

    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) die(1, "open /dev/net/tun: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        die(1, "TUNSETIFF %s: %s%s", dev, strerror(errno), errno == EPERM ? " (needs CAP_NET_ADMIN: run as root)" : "");
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) die(1, "O_NONBLOCK: %s", strerror(errno));
    {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        struct ifreq q;
        memset(&q, 0, sizeof q);
        snprintf(q.ifr_name, IFNAMSIZ, "%s", dev);
        if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &q) == 0 && !(q.ifr_flags & IFF_UP))
            fprintf(stderr, "reflector: warning: %s is not up (configure it: ip link set %s up)\n", dev, dev);
        if (s >= 0) close(s);
    }

    uint8_t *slab = malloc((size_t)batch * BUF_SIZE);
    size_t *len = malloc((size_t)batch * sizeof *len);
    if (!slab || !len) die(1, "out of memory");
    isn_secret = mix32((uint32_t)getpid() ^ (uint32_t)now_s());

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    double start = now_s(), deadline = start + seconds;
    double first = 0, last = 0, next_prog = start + 1.0;
    uint64_t prog_sa = 0, prog_fr = 0;
    uint64_t max_batch = 0;
    double t = start;
    while (!g_stop) {
        int n = 0;
        while (n < batch) {
            ssize_t r = read(fd, slab + (size_t)n * BUF_SIZE, BUF_SIZE);
            if (r < 0) {
                if (errno == EAGAIN || errno == EINTR) break;
                die(1, "read %s: %s", dev, strerror(errno));
            }
            len[n++] = (size_t)r;
        }
        t = now_s();
        if (n == 0) {
            if (t >= deadline) break;
            int ms = (int)((deadline - t) * 1000.0) + 1;
            struct pollfd p = { .fd = fd, .events = POLLIN };
            poll(&p, 1, ms > 100 ? 100 : ms);
        } else {
            cnt[C_READS]++;
            if ((uint64_t)n > max_batch) max_batch = (uint64_t)n;
            if (!first) first = t;
            last = t;
            cnt[C_FRAMES] += (uint64_t)n;
            for (int i = 0; i < n; i++) {
                uint8_t *p = slab + (size_t)i * BUF_SIZE;
                int rl = reflect(p, len[i]);
                if (!rl) continue;
                if (write(fd, p, (size_t)rl) == rl) cnt[C_SYNACKS]++;
                else cnt[C_WRITE_ERR]++;
            }
            if (t >= deadline) break;
        }
        if (progress && t >= next_prog) {
            fprintf(stderr, "{\"t\":%.0f,\"framesPerSec\":%llu,\"synAckPerSec\":%llu}\n", next_prog - start,
                    (unsigned long long)(cnt[C_FRAMES] - prog_fr), (unsigned long long)(cnt[C_SYNACKS] - prog_sa));
            prog_fr = cnt[C_FRAMES]; prog_sa = cnt[C_SYNACKS];
            next_prog += 1.0;
        }
    }
    double secs = now_s() - start;
    double active = last - first;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
    double cs = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    printf("{\"mode\":\"reflector\",\"frames\":%llu,\"synAcks\":%llu,\"seconds\":%.3f,\"perSec\":%.0f,"
           "\"activeSeconds\":%.3f,\"ignored\":{\"notIpv4\":%llu,\"notTcp\":%llu,\"notSyn\":%llu,"
           "\"fragment\":%llu,\"malformed\":%llu,\"badChecksum\":%llu},\"writeErrors\":%llu,"
           "\"readBatches\":%llu,\"avgBatch\":%.1f,\"maxBatch\":%llu,\"cpuUser\":%.2f,\"cpuSys\":%.2f,"
           "\"cpuNsPerFrame\":%.0f,\"dev\":\"%s\",\"batch\":%d}\n",
           (unsigned long long)cnt[C_FRAMES], (unsigned long long)cnt[C_SYNACKS], secs,
           active > 0 ? (double)cnt[C_SYNACKS] / active : 0.0, active,
           (unsigned long long)cnt[C_NOT_IPV4], (unsigned long long)cnt[C_NOT_TCP],
           (unsigned long long)cnt[C_NOT_SYN], (unsigned long long)cnt[C_FRAGMENT],
           (unsigned long long)cnt[C_MALFORMED], (unsigned long long)cnt[C_BAD_CSUM],
           (unsigned long long)cnt[C_WRITE_ERR], (unsigned long long)cnt[C_READS],
           cnt[C_READS] ? (double)cnt[C_FRAMES] / (double)cnt[C_READS] : 0.0, (unsigned long long)max_batch,
           cu, cs, cnt[C_FRAMES] ? (cu + cs) * 1e9 / (double)cnt[C_FRAMES] : 0.0, dev, batch);
    fflush(stdout);
    close(fd);
    free(slab);
    free(len);
    return 0;
}
