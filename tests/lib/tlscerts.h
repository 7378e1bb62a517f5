// SPDX-License-Identifier: Apache-2.0
// tlscerts.h: throwaway certificates for TLS tests, made by openssl(1).
#ifndef PREALLOC_TLSCERTS_H
#define PREALLOC_TLSCERTS_H

/**
 * Make, in @p dir: a CA "ca" and, signed by it, "server" and "client"
 * certificates for localhost and 127.0.0.1; a second CA "other" and,
 * signed by it, "stranger"; and, signed by "ca", "expired" (valid only on
 * 2020-01-01) and "future" (valid only from 2040-01-01 to 2040-01-02).
 * Each is <name>.crt with <name>.key (PEM).
 * @return 0; -1 when openssl is missing or fails (its output is shown).
 */
int tlscerts_make(const char *dir);

#endif // PREALLOC_TLSCERTS_H
