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

find_package(Threads REQUIRED)
