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

/* The jobs live in their own files, compiled as this one translation unit (common.h's stop flag
 * and helpers are file-static, so one unit keeps a single copy of each): */
#include "sdgen/util.c"
#include "sdgen/args.c"
#include "sdgen/link.c"
#include "sdgen/rx.c"
#include "sdgen/frames.c"
#include "sdgen/syn.c"
#include "sdgen/garbage.c"

int main(int argc, char **argv)
{
    struct opts o;
    parse_args(argc, argv, &o);
    setvbuf(stderr, NULL, _IOLBF, 0);
    if (!strcmp(o.mode, "syn")) return run_syn(&o);
    return run_garbage(&o);
}
