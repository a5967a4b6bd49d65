/* sdgen/args.c - Command line: the options of both modes, their caps, usage text.
 * Part of sdgen's single translation unit: included by ../sdgen.c, in order. */

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
