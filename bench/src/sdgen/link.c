/* sdgen/link.c - The interface and next hop: route and ARP lookup, the AF_PACKET socket frames leave by.
 * Part of sdgen's single translation unit: included by ../sdgen.c, in order. */

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
