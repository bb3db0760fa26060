/* serve_client.h - starting `docrt serve` from a test and a tiny HTTP/1.1
 * client for it (test_serve.c, test_bad_catalogue.c). Include after
 * ocr_eval.h. */
#ifndef DOCRT_SERVE_CLIENT_H
#define DOCRT_SERVE_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

/* Starts docrt serve (-m weights) with the extra arguments, its stderr in
 * work/TAG.stderr; returns its port, or -1 with a note on stderr (no ck_assert: the main server starts in the
 * runner's process, where Check cannot record a failure; each test asserts
 * server_port instead). */
static inline int start_server_in(const char *work, const char *weights,
                                  pid_t *pid, const char *tag,
                                  char *const extra[])
{
    char errp[PATH_MAX + 64];
    snprintf(errp, sizeof errp, "%s/%s.stderr", work, tag);
    char *argv[32] = {(char *)docrt_exe(), "serve", "--listen", "127.0.0.1:0",
                      "-m", (char *)weights};
    int n = 6;
    for (int i = 0; extra && extra[i] && n < 30; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    *pid = fork();
    if (*pid < 0) {
        perror("docrt serve test: fork");
        return -1;
    }
    if (*pid == 0) {
        int fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    for (int i = 0; i < 600; i++) { /* up to 60 s for the model to compile */
        char *e = slurp(errp, NULL);
        const char *p = e ? strstr(e, "listening on http://127.0.0.1:") : NULL;
        if (p) {
            int port = atoi(p + strlen("listening on http://127.0.0.1:"));
            free(e);
            return port;
        }
        free(e);
        int st;
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            fprintf(stderr, "docrt serve test: docrt serve exited before listening "
                    "(see %s)\n", errp);
            *pid = 0;
            return -1;
        }
        usleep(100000);
    }
    fprintf(stderr, "docrt serve test: docrt serve did not listen within 60 s "
            "(see %s)\n", errp);
    return -1;
}

typedef struct {
    int status;
    char *head; /* status line and headers */
    char *body;
    size_t body_len;
} http_resp;

static inline void resp_free(http_resp *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static inline int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {120, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static inline int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One request on its own connection (Connection: close). headers: extra
 * header lines, each ending in \r\n. Returns 0, or -1 when no response. */
static inline int http(int port, const char *method, const char *path,
                const char *headers, const void *body, size_t len,
                http_resp *r)
{
    memset(r, 0, sizeof *r);
    int fd = connect_port(port);
    if (fd < 0)
        return -1;
    char head[2048];
    int hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close"
                      "\r\n%s%s",
                      method, path, headers ? headers : "",
                      body ? "" : "\r\n");
    if (body) {
        hn += snprintf(head + hn, sizeof head - (size_t)hn,
                       "Content-Length: %zu\r\n\r\n", len);
    }
    int ok = send_all(fd, head, (size_t)hn) == 0;
    if (ok && body && len)
        send_all(fd, body, len); /* the server may answer before the end */
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            ck_assert_ptr_nonnull(buf);
        }
        ssize_t k = recv(fd, buf + n, cap - n, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    buf[n] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    if (!sep || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
        free(buf);
        return -1;
    }
    *sep = '\0';
    r->head = strdup(buf);
    r->body_len = n - (size_t)(sep + 4 - buf);
    r->body = malloc(r->body_len + 1);
    memcpy(r->body, sep + 4, r->body_len);
    r->body[r->body_len] = '\0';
    free(buf);
    return 0;
}

#endif
