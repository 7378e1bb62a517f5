// SPDX-License-Identifier: Apache-2.0
// tlscerts.c: throwaway certificates for TLS tests, made by openssl(1).
#include "tlscerts.h"
#include "testlib.h"

// One shell function per kind of certificate keeps the calls short: a
// self-signed CA, a leaf signed by a CA with localhost names, and a leaf
// with given validity dates. OpenSSL 3.0's req and x509 cannot set a
// start date, but its ca command can (-startdate, -enddate), given a
// minimal CA database, kept in cadb/.
static const char tlscerts_script[] =
    "set -e; cd \"$1\"; "
    "key() { openssl genpkey -algorithm EC "
    "-pkeyopt ec_paramgen_curve:prime256v1 -out \"$1.key\" 2>&1; }; "
    "ca() { key \"$1\"; openssl req -x509 -key \"$1.key\" -out \"$1.crt\" "
    "-days 2 -subj \"/CN=$1\" 2>&1; }; "
    "leaf() { key \"$2\"; openssl req -new -key \"$2.key\" -out \"$2.csr\" "
    "-subj /CN=localhost 2>&1; "
    "echo subjectAltName=DNS:localhost,IP:127.0.0.1 > san.ext; "
    "openssl x509 -req -in \"$2.csr\" -CA \"$1.crt\" -CAkey \"$1.key\" "
    "-CAcreateserial -out \"$2.crt\" -days 2 -extfile san.ext 2>&1; }; "
    "cadb() { mkdir -p cadb; : > cadb/index.txt; echo 01 > cadb/serial; "
    "printf \"[ca]\\ndefault_ca = d\\n[d]\\ndatabase = cadb/index.txt\\n"
    "new_certs_dir = cadb\\nserial = cadb/serial\\ndefault_md = sha256\\n"
    "policy = p\\nunique_subject = no\\n[p]\\ncommonName = supplied\\n\" "
    "> cadb/ca.cnf; }; "
    "dated() { key \"$2\"; openssl req -new -key \"$2.key\" "
    "-out \"$2.csr\" -subj /CN=localhost 2>&1; "
    "openssl ca -batch -notext -config cadb/ca.cnf -cert \"$1.crt\" "
    "-keyfile \"$1.key\" -in \"$2.csr\" -out \"$2.crt\" "
    "-startdate \"$3\" -enddate \"$4\" 2>&1; }; "
    "ca ca; leaf ca server; leaf ca client; ca other; leaf other stranger; "
    "cadb; dated ca expired 20200101000000Z 20200102000000Z; "
    "dated ca future 20400101000000Z 20400102000000Z";

int
tlscerts_make(const char *dir)
{
	if (!testlib_have_program("openssl"))
		return -1;
	return testlib_run("sh -c '%s' tlscerts '%s' >/dev/null",
	           tlscerts_script, dir) == 0
	    ? 0
	    : -1;
}
