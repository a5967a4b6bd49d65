/*
 * sdguest — the guest half of `syndrop verify --vm`: runs inside a qemu guest (started by the
 * initramfs's /init) and is the real kernel's side of a differential scenario, like
 * assets/verify/kernel-listener.py is on the host. It is driven over a serial line (ttyS1),
 * never over the network: a TCP control connection would move the very counters compared.
 *
 * Protocol: one command per line; every reply is "ok N\n" followed by N bytes, or "err TEXT\n".
 *   hello                                   -> ok (the guest's uname -r)
 *   write PATH VALUE                        -> ok      (sysctls: /proc/sys/...)
 *   read PATH                               -> ok file contents (/proc/net/tcp, ...)
 *   counters                                -> ok "Name value\n" per non-zero nstat counter
 *   listen ADDR PORT BACKLOG ACCEPT APP     -> ok      ACCEPT never|fast|<rate/s>; APP http|echo|discard|hold
 *   stop                                    -> ok      (accepted sockets closed with SO_LINGER 0: RST)
 *   dmesg                                   -> ok the kernel log buffer
 *   connect ADDR PORT SRCPORT SYNCNT        -> ok      a client connect() with TCP_SYNCNT, in a child
 *                                                      process; when it ends, /tmp/connect-SRCPORT
 *                                                      holds "connected MS" or "failed MS ERRNO"
 * The accept token bucket and the applications mirror kernel-listener.py byte for byte.
 *
 * Static, plain C, no libraries: it must run in an initramfs holding nothing but busybox.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define REPLY_MAX (1 << 20)

static const char BODY[] = "hello from syndrop\n";
static char response[256];
static int response_len;

struct conn {
    int fd;
    char head[4096];
    int head_len;
    int answered;
};

static int ctl = -1;
static int listener = -1;
static struct conn conns[MAX_CONNS];
static int nconns;
static char accept_mode[16];
static double rate, tokens, last_tick;
static char app[16];
static char reply_buf[REPLY_MAX];

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void reply_ok(const char *data, size_t n) {
    char head[32];
    int h = snprintf(head, sizeof head, "ok %zu\n", n);
    write_all(ctl, head, (size_t)h);
    if (n > 0) write_all(ctl, data, n);
}

static void reply_err(const char *what) {
    char line[512];
    int n = snprintf(line, sizeof line, "err %s: %s\n", what, strerror(errno));
    write_all(ctl, line, (size_t)n);
}

/* Reads a whole file into reply_buf; returns its length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            close(fd);
            return -1;
        }
        if (r == 0) break;
        len += (size_t)r;
        if (len >= cap - 1) break;
    }
    close(fd);
    buf[len] = 0;
    return (ssize_t)len;
}

/*
 * /proc/net/snmp and /proc/net/netstat come as header/value line pairs ("TcpExt: A B" then
 * "TcpExt: 1 2"); nstat names a counter by the prefix plus the field ("TcpExtA"). Only
 * non-zero values are sent: the serial line is slow and absent means zero on the host side.
 */
static size_t append_counters(const char *path, char *out, size_t at, size_t cap) {
    static char file[65536];
    if (slurp(path, file, sizeof file) < 0) return at;
    char *save_lines = NULL;
    char *header = strtok_r(file, "\n", &save_lines);
    while (header != NULL) {
        char *values = strtok_r(NULL, "\n", &save_lines);
        if (values == NULL) break;
        char *colon = strchr(header, ':');
        char *vcolon = strchr(values, ':');
        if (colon != NULL && vcolon != NULL) {
            *colon = 0;
            char *save_h = NULL, *save_v = NULL;
            char *name = strtok_r(colon + 1, " ", &save_h);
            char *value = strtok_r(vcolon + 1, " ", &save_v);
            while (name != NULL && value != NULL) {
                if (strcmp(value, "0") != 0 && at + 128 < cap) {
                    at += (size_t)snprintf(out + at, cap - at, "%s%s %s\n", header, name, value);
                }
                name = strtok_r(NULL, " ", &save_h);
                value = strtok_r(NULL, " ", &save_v);
            }
        }
        header = strtok_r(NULL, "\n", &save_lines);
    }
    return at;
}

static void close_conn(int i, int abortive) {
    if (abortive) {
        struct linger lg = {1, 0};
        setsockopt(conns[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(conns[i].fd);
    conns[i] = conns[--nconns];
}

static void stop_listener(void) {
    while (nconns > 0) close_conn(nconns - 1, 1);
    if (listener >= 0) close(listener);
    listener = -1;
}

static int start_listener(const char *addr, int port, int backlog, const char *accept, const char *application) {
    stop_listener();
    listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (listener < 0) return -1;
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    if (bind(listener, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
    /* A negative backlog is passed as is: the kernel compares it unsigned with somaxconn (spec §5.1). */
    if (listen(listener, backlog) != 0) return -1;
    snprintf(accept_mode, sizeof accept_mode, "%s", accept);
    snprintf(app, sizeof app, "%s", application);
    rate = (strcmp(accept, "never") == 0 || strcmp(accept, "fast") == 0) ? 0 : atof(accept);
    tokens = rate > 0 ? (rate > 1 ? rate : 1) : 0;
    last_tick = now_s();
    return 0;
}

static int fast(void) { return strcmp(accept_mode, "fast") == 0; }

static void accept_ready(void) {
    while (fast() || (rate > 0 && tokens >= 1)) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) break;
        if (nconns == MAX_CONNS) {
            close(fd);
            continue;
        }
        conns[nconns].fd = fd;
        conns[nconns].head_len = 0;
        conns[nconns].answered = 0;
        nconns++;
        if (rate > 0) tokens -= 1;
    }
}

/* One readable accepted socket: the application's reaction (kernel-listener.py's). */
static void serve(int i) {
    char data[65536];
    ssize_t r = recv(conns[i].fd, data, sizeof data, 0);
    if (r <= 0) {
        close_conn(i, 0);
        return;
    }
    if (strcmp(app, "echo") == 0) {
        send(conns[i].fd, data, (size_t)r, MSG_NOSIGNAL);
    } else if (strcmp(app, "http") == 0 && !conns[i].answered) {
        struct conn *c = &conns[i];
        size_t room = sizeof c->head - 1 - (size_t)c->head_len;
        size_t take = (size_t)r < room ? (size_t)r : room;
        memcpy(c->head + c->head_len, data, take);
        c->head_len += (int)take;
        c->head[c->head_len] = 0;
        if (strstr(c->head, "\r\n\r\n") != NULL) {
            send(c->fd, response, (size_t)response_len, MSG_NOSIGNAL);
            /* Close first, like syndrop's http app: this side enters TIME_WAIT. */
            close_conn(i, 0);
        }
    }
}

/*
 * The guest's kernel as a client (simulate's client model against it): a blocking connect()
 * with TCP_SYNCNT from SRCPORT, timed on the monotonic clock, in a child so the control line
 * stays free while the SYNs retransmit for up to minutes. The result goes to a file the host
 * polls with `read`; written to a temporary name and renamed, so it is never read half-written.
 */
static int start_client(const char *addr, int port, int srcport, int syncnt) {
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid > 0) return 0;
    char path[64], tmp[72], result[96];
    snprintf(path, sizeof path, "/tmp/connect-%d", srcport);
    snprintf(tmp, sizeof tmp, "%s.part", path);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srcport)};
    int ok = fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof syncnt) == 0 &&
             bind(fd, (struct sockaddr *)&from, sizeof from) == 0;
    double start = now_s();
    int n;
    if (!ok) {
        n = snprintf(result, sizeof result, "setup-failed 0 %d\n", errno);
    } else if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0) {
        n = snprintf(result, sizeof result, "connected %.1f\n", (now_s() - start) * 1000);
    } else {
        n = snprintf(result, sizeof result, "failed %.1f %d\n", (now_s() - start) * 1000, errno);
    }
    mkdir("/tmp", 01777); /* the initramfs has none; EEXIST is fine */
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out >= 0) {
        write_all(out, result, (size_t)n);
        close(out);
        rename(tmp, path);
    }
    _exit(0);
}

static void command(char *line) {
    char *argv[8];
    int argc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " ", &save); tok != NULL && argc < 8; tok = strtok_r(NULL, " ", &save)) argv[argc++] = tok;
    if (argc == 0) return;
    if (strcmp(argv[0], "hello") == 0) {
        struct utsname u;
        uname(&u);
        reply_ok(u.release, strlen(u.release));
    } else if (strcmp(argv[0], "write") == 0 && argc == 3) {
        int fd = open(argv[1], O_WRONLY);
        if (fd < 0 || write(fd, argv[2], strlen(argv[2])) < 0) {
            reply_err(argv[1]);
        } else {
            reply_ok("", 0);
        }
        if (fd >= 0) close(fd);
    } else if (strcmp(argv[0], "read") == 0 && argc == 2) {
        ssize_t n = slurp(argv[1], reply_buf, sizeof reply_buf);
        if (n < 0) reply_err(argv[1]);
        else reply_ok(reply_buf, (size_t)n);
    } else if (strcmp(argv[0], "counters") == 0) {
        size_t n = append_counters("/proc/net/snmp", reply_buf, 0, sizeof reply_buf);
        n = append_counters("/proc/net/netstat", reply_buf, n, sizeof reply_buf);
        reply_ok(reply_buf, n);
    } else if (strcmp(argv[0], "listen") == 0 && argc == 6) {
        if (start_listener(argv[1], atoi(argv[2]), atoi(argv[3]), argv[4], argv[5]) != 0) {
            reply_err("listen");
            stop_listener();
        } else {
            reply_ok("", 0);
        }
    } else if (strcmp(argv[0], "stop") == 0) {
        stop_listener();
        reply_ok("", 0);
    } else if (strcmp(argv[0], "connect") == 0 && argc == 5) {
        if (start_client(argv[1], atoi(argv[2]), atoi(argv[3]), atoi(argv[4])) != 0) reply_err("connect");
        else reply_ok("", 0);
    } else if (strcmp(argv[0], "dmesg") == 0) {
        int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, reply_buf, sizeof reply_buf);
        if (n < 0) reply_err("dmesg");
        else reply_ok(reply_buf, (size_t)n);
    } else {
        errno = EINVAL;
        reply_err(argv[0]);
    }
}

static void open_control(const char *path) {
    ctl = open(path, O_RDWR | O_NOCTTY);
    if (ctl < 0) {
        perror(path);
        exit(1);
    }
    struct termios t;
    if (tcgetattr(ctl, &t) == 0) {
        cfmakeraw(&t);
        cfsetispeed(&t, B115200);
        cfsetospeed(&t, B115200);
        tcsetattr(ctl, TCSANOW, &t);
    }
}

int main(int argc, char **argv) {
    open_control(argc > 1 ? argv[1] : "/dev/ttyS1");
    /* connect's children are reaped by the kernel: nobody waits for them. */
    signal(SIGCHLD, SIG_IGN);
    response_len = snprintf(response, sizeof response,
                            "HTTP/1.1 200 OK\r\nServer: syndrop\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n%s",
                            strlen(BODY), BODY);
    write_all(ctl, "ready\n", 6);
    static char line[1024];
    size_t line_len = 0;
    for (;;) {
        double now = now_s();
        if (rate > 0) {
            tokens += (now - last_tick) * rate;
            double cap = rate > 1 ? rate : 1;
            if (tokens > cap) tokens = cap;
        }
        last_tick = now;
        struct pollfd fds[MAX_CONNS + 2];
        int n = 0;
        fds[n++] = (struct pollfd){.fd = ctl, .events = POLLIN};
        int want_accept = listener >= 0 && (fast() || (rate > 0 && tokens >= 1));
        int listen_slot = -1;
        if (want_accept) {
            listen_slot = n;
            fds[n++] = (struct pollfd){.fd = listener, .events = POLLIN};
        }
        int first_conn = n;
        if (strcmp(app, "hold") != 0) {
            for (int i = 0; i < nconns; i++) fds[n++] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
        }
        int timeout = 200;
        if (listener >= 0 && rate > 0 && !want_accept) {
            timeout = (int)((1 - tokens) / rate * 1000) + 1;
        }
        if (poll(fds, (nfds_t)n, timeout) < 0) continue;
        if (fds[0].revents & POLLIN) {
            ssize_t r = read(ctl, line + line_len, sizeof line - 1 - line_len);
            if (r > 0) line_len += (size_t)r;
            char *nl;
            while ((nl = memchr(line, '\n', line_len)) != NULL) {
                *nl = 0;
                size_t used = (size_t)(nl - line) + 1;
                if (nl > line && nl[-1] == '\r') nl[-1] = 0;
                command(line);
                memmove(line, line + used, line_len - used);
                line_len -= used;
            }
            if (line_len == sizeof line - 1) line_len = 0;
        }
        if (listen_slot >= 0 && (fds[listen_slot].revents & POLLIN)) accept_ready();
        /* Serve from the end: close_conn moves the last entry into the freed slot. */
        for (int k = n - 1; k >= first_conn; k--) {
            if (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) {
                int i = k - first_conn;
                if (i < nconns && conns[i].fd == fds[k].fd) serve(i);
            }
        }
    }
}
