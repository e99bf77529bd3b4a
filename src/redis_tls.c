/*
 * redis_tls.c: TLS for a Redis connection (rediss://, redis.c drives it).
 * OpenSSL runs on a BIO of our own on the connection's socket, which sends
 * and receives through platform.h (never SIGPIPE); the peer is verified
 * against ca_file (else the system's CAs) and the host name (or address) of
 * the URL; TLS 1.2 at least. Compiles to nothing without hiredis or OpenSSL.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>

#include "redis_int.h"

#if defined(SD_HAVE_HIREDIS) && defined(SD_HAVE_OPENSSL)
/* The BIO on the connection's socket: sends and receives through platform.h (never SIGPIPE). */
static int sd_bio_write(BIO *b, const char *p, int n) {
    sd_redis *c = BIO_get_data(b);
    long r = sd_tcp_send(c->sock, p, (size_t)n);
    BIO_clear_retry_flags(b);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(b);
    return (int)r;
}

static int sd_bio_read(BIO *b, char *p, int n) {
    sd_redis *c = BIO_get_data(b);
    long r = sd_tcp_recv(c->sock, p, (size_t)n);
    BIO_clear_retry_flags(b);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
    return (int)r;
}

static long sd_bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int sd_bio_create(BIO *b) {
    BIO_set_init(b, 1);
    return 1;
}

/* The connection's BIO method, made at its first TLS start and freed with the connection
 * (one made once for the process would be lost when Lua unloads the core). */
static BIO_METHOD *sd_bio_method(sd_redis *c) {
    if (c->bio_method == NULL) {
        BIO_METHOD *n = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "seedance redis socket");
        if (n == NULL) return NULL;
        BIO_meth_set_write(n, sd_bio_write);
        BIO_meth_set_read(n, sd_bio_read);
        BIO_meth_set_ctrl(n, sd_bio_ctrl);
        BIO_meth_set_create(n, sd_bio_create);
        c->bio_method = n;
    }
    return c->bio_method;
}

/* The poll events an SSL call that did not finish waits for; 0 when it failed for good. */
short sd_tls_wants(sd_redis *c, int rc) {
    int e = SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ) return POLLIN;
    if (e == SSL_ERROR_WANT_WRITE) return POLLOUT;
    return 0;
}

/* The last TLS error as text. */
void sd_tls_error(sd_redis *c, char *out, size_t n) {
    unsigned long e = ERR_get_error();
    long v = SSL_get_verify_result(c->ssl);
    if (v != X509_V_OK) snprintf(out, n, "certificate not verified: %s", X509_verify_cert_error_string(v));
    else if (e != 0) ERR_error_string_n(e, out, n);
    else snprintf(out, n, "the connection ended during the TLS handshake");
    ERR_clear_error();
}

/* Start TLS on the connected socket. 0, or -1 (failed). */
int sd_tls_start(sd_redis *c) {
    BIO *bio;
    BIO_METHOD *m = sd_bio_method(c);
    unsigned char ip[16];
    int is_ip = 0;
    if (m == NULL || (c->ssl = SSL_new(c->ctx)) == NULL) return -1;
    bio = BIO_new(m);
    if (bio == NULL) return -1;
    BIO_set_data(bio, c);
    SSL_set_bio(c->ssl, bio, bio);
    is_ip = inet_pton(AF_INET, c->host, ip) == 1 || inet_pton(AF_INET6, c->host, ip) == 1;
    if (is_ip) {
        if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host)) return -1;
    } else {
        SSL_set_tlsext_host_name(c->ssl, c->host);
        if (!SSL_set1_host(c->ssl, c->host)) return -1;
    }
    SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_connect_state(c->ssl);
    return 0;
}
int sd_rtls_setup(sd_redis *c, const char *ca_file, char *err, size_t errlen) {
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL) {
        snprintf(err, errlen, "cannot set up TLS");
        return -1;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if (ca_file != NULL ? SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1
                        : SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
        snprintf(err, errlen, "cannot read the CA bundle %s", ca_file ? ca_file : "of the system");
        ERR_clear_error();
        return -1;
    }
    return 0;
}

void sd_rtls_free(sd_redis *c) {
    if (c->ctx != NULL) SSL_CTX_free(c->ctx);
    c->ctx = NULL;
    if (c->bio_method != NULL) BIO_meth_free(c->bio_method);
    c->bio_method = NULL;
}

#else
typedef int sd_redis_tls_unused; /* ISO C wants something in every file */
#endif
