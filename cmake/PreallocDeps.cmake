# SPDX-License-Identifier: Apache-2.0
# PreallocDeps.cmake: find every dependency, or stop and name its Debian package.

find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
	message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

# pa_require_pkg(<name> <pkg-config module> <Debian package>) makes the
# imported target PkgConfig::<name>.
function(pa_require_pkg name module debian)
	pkg_check_modules(${name} QUIET IMPORTED_TARGET GLOBAL ${module})
	if(NOT ${name}_FOUND)
		message(FATAL_ERROR
		    "${module} not found: apt-get install ${debian}")
	endif()
endfunction()

pa_require_pkg(PROTOBUF_C libprotobuf-c libprotobuf-c-dev)
pa_require_pkg(YAML yaml-0.1 libyaml-dev)
pa_require_pkg(BLKID blkid libblkid-dev)
pa_require_pkg(JANSSON jansson libjansson-dev)
pa_require_pkg(MICROHTTPD libmicrohttpd libmicrohttpd-dev)
pa_require_pkg(SMARTCOLS smartcols libsmartcols-dev)
if(PREALLOC_TESTS)
	pa_require_pkg(CMOCKA cmocka libcmocka-dev)
endif()

find_program(PROTOC_C protoc-c)
if(NOT PROTOC_C)
	message(FATAL_ERROR "protoc-c not found: apt-get install protobuf-c-compiler")
endif()

find_package(nng 1.5 CONFIG QUIET)
if(NOT nng_FOUND)
	message(FATAL_ERROR "nng not found: apt-get install libnng-dev")
endif()

# mbedTLS, which nng 1.5.2 is built on: rpc_tls.c checks a certificate
# against its key and the clock before nng meets them. Debian 12's
# libmbedtls-dev (2.28) ships no pkg-config file, hence find_library.
find_path(MBEDTLS_INCLUDE_DIR mbedtls/x509_crt.h)
find_library(MBEDTLS_X509_LIBRARY mbedx509)
find_library(MBEDTLS_CRYPTO_LIBRARY mbedcrypto)
if(NOT MBEDTLS_INCLUDE_DIR OR NOT MBEDTLS_X509_LIBRARY OR
    NOT MBEDTLS_CRYPTO_LIBRARY)
	message(FATAL_ERROR "mbedTLS not found: apt-get install libmbedtls-dev")
endif()
add_library(MbedTLS::x509 INTERFACE IMPORTED GLOBAL)
set_target_properties(MbedTLS::x509 PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${MBEDTLS_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES
    "${MBEDTLS_X509_LIBRARY};${MBEDTLS_CRYPTO_LIBRARY}")

find_package(Threads REQUIRED)
