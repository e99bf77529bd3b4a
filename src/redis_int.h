/*
 * redis_int.h: what redis.c (a connection: its states, commands and replies)
 * and redis_tls.c (its TLS: OpenSSL on a BIO of our own) share: the
 * connection's fields. Nothing else includes it.
 */
#ifndef SD_REDIS_INT_H
#define SD_REDIS_INT_H

#include "buf.h"
#include "redis.h"

#ifdef SD_HAVE_HIREDIS
#include <hiredis/hiredis.h>
#ifdef SD_HAVE_OPENSSL
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif

/* Where a connection stands. */
typedef enum sd_rstate { SD_R_IDLE, SD_R_CONNECTING, SD_R_HANDSHAKE, SD_R_READY } sd_rstate;

/* A command waiting for its reply. */
typedef struct sd_rwait {
    long long id;          /* the caller's id; 0 for the connection's own AUTH */
    struct sd_rwait *next; /* the next one (FIFO) */
} sd_rwait;

struct sd_redis {
    char *host;               /* from the options (owned) */
    int port;                 /* TCP port */
    char *user, *password;    /* AUTH (owned), or NULL */
    int tls;                  /* rediss:// */
    long timeout_ms;          /* connect or reply time limit */
    sd_rstate state;          /* where it stands */
    sd_addrs *addrs;          /* the host's addresses, while connecting */
    size_t addr_i;            /* the address being tried */
    sd_socket sock;           /* SD_BAD_SOCKET when IDLE */
    sd_buf out;               /* formatted commands not sent yet (from out_off) */
    size_t out_off;           /* bytes of out already sent */
    redisReader *reader;      /* replies being read (NULL while IDLE) */
    sd_rwait *wait_head, *wait_tail; /* commands sent or queued, in order */
    size_t nwait;             /* their number (AUTH included) */
    sd_redis_result *res_head, *res_tail; /* finished commands, in order */
    long long deadline;       /* monotonic us at which the connect or the oldest reply is late, -1 none */
    short want_tls;           /* poll events the TLS layer waits for (handshake, read or write) */
#ifdef SD_HAVE_OPENSSL
    SSL_CTX *ctx;             /* TLS settings (owned) */
    SSL *ssl;                 /* this connection's TLS (owned), or NULL */
    BIO_METHOD *bio_method;   /* the BIO on our socket (owned; made at the first TLS start), or NULL */
#endif
};

#ifdef SD_HAVE_OPENSSL
/* The connection's TLS settings (c->ctx): TLS 1.2 at least, the peer verified against ca_file
 * (NULL: the system's CAs). 0, or -1 with err said (the caller frees the connection). */
int sd_rtls_setup(sd_redis *c, const char *ca_file, char *err, size_t errlen);
/* Free the connection's TLS settings and BIO method (after its SSL). */
void sd_rtls_free(sd_redis *c);
/* Start TLS on the connected socket (c->ssl), the host name or address checked. 0, or -1 (failed). */
int sd_tls_start(sd_redis *c);
/* The poll events an SSL call that did not finish waits for; 0 when it failed for good. */
short sd_tls_wants(sd_redis *c, int rc);
/* The last TLS error as text. */
void sd_tls_error(sd_redis *c, char *out, size_t n);
#endif
#endif

#endif
