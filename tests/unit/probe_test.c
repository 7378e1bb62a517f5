// SPDX-License-Identifier: Apache-2.0
// probe_test.c: probing plain files, new files and wrong kinds in a temp
// dir, and the extent each on-disk structure guards, on image files.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "probe.h"
#include "testlib.h"

static int
probe_setup(void **state)
{
	*state = testlib_tmpdir("probe");
	return 0;
}

static int
probe_teardown(void **state)
{
	testlib_rm_rf(*state);
	free(*state);
	return 0;
}

static char *
probe_test_path(void **state, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", (char *) *state, name) < 0)
		abort();
	return p;
}

static void
test_probe__file_reports_size_space_and_fs(void **state)
{
	char             *path = probe_test_path(state, "f");
	struct probe_info info;
	pa_err            err = PA_ERR_INIT;

	assert_int_equal(testlib_write_random(path, 0, MiB + 100, 1), 0);
	assert_int_equal(probe_path(&info, path, &err), PA_OK);
	assert_int_equal(info.kind, PROBE_FILE);
	assert_int_equal(info.size, MiB + 100);
	assert_true(info.allocated >= MiB);
	assert_true(info.free_bytes > 0);
	assert_true(info.fs[0] != '\0');
	// $TMPDIR is a real filesystem: the try gives a yes or a no
	assert_int_not_equal(info.falloc, PROBE_FALLOC_UNKNOWN);
	free(path);
}

static void
test_probe__missing_file_is_new(void **state)
{
	char             *path = probe_test_path(state, "new");
	struct probe_info info;

	assert_int_equal(probe_path(&info, path, NULL), PA_OK);
	assert_int_equal(info.kind, PROBE_NEW_FILE);
	assert_int_equal(info.size, 0);
	assert_true(info.fs[0] != '\0');
	assert_int_equal(testlib_file_size(path), -1); // nothing created
	free(path);
}

static void
test_probe__missing_directory_is_not_found(void **state)
{
	char             *path = probe_test_path(state, "no/such/file");
	struct probe_info info;
	pa_err            err = PA_ERR_INIT;

	assert_int_equal(probe_path(&info, path, &err), PA_NOT_FOUND);
	assert_int_equal(err.code, PA_NOT_FOUND);
	free(path);
}

static void
test_probe__directory_and_char_device_are_invalid(void **state)
{
	struct probe_info info;
	pa_err            err = PA_ERR_INIT;

	assert_int_equal(probe_path(&info, *state, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "neither"));
	assert_int_equal(
	    probe_path(&info, "/dev/null", NULL), PA_INVALID_ARGUMENT);
	assert_int_equal(probe_path(&info, "", NULL), PA_INVALID_ARGUMENT);
	assert_int_equal(probe_path(&info, NULL, NULL), PA_INVALID_ARGUMENT);
}

static void
test_probe__out_untouched_on_failure(void **state)
{
	struct probe_info info, before;

	memset(&info, 0xab, sizeof(info));
	before = info;
	assert_int_not_equal(probe_path(&info, "/dev/null", NULL), PA_OK);
	assert_memory_equal(&info, &before, sizeof(info));
}

static void
test_probe__fs_name_tells_tmpfs_and_unknown(void **state)
{
	struct statfs sfs;
	char          name[32];
	int           fd;

	// a magic outside the table is named by its number
	assert_true((fd = open("/proc", O_RDONLY)) >= 0);
	assert_int_equal(probe_fs_name(name, sizeof(name), fd, NULL), PA_OK);
	assert_string_equal(name, "0x9fa0");
	close(fd);
	if (statfs("/dev/shm", &sfs) != 0 || sfs.f_type != 0x01021994) {
		print_message("SKIP: /dev/shm is not a tmpfs here\n");
		skip();
	}
	assert_true((fd = open("/dev/shm", O_RDONLY)) >= 0);
	assert_int_equal(probe_fs_name(name, sizeof(name), fd, NULL), PA_OK);
	assert_string_equal(name, "tmpfs");
	close(fd);
}

static void
test_probe__falloc_answer_is_cached_per_filesystem(void **state)
{
	int               fd = open(*state, O_RDONLY | O_DIRECTORY);
	enum probe_falloc first, again;

	assert_true(fd >= 0);
	first = probe_falloc_works(fd);
	again = probe_falloc_works(fd);
	assert_int_equal(first, again);
	// what a real fallocate taught wins over the try
	probe_falloc_learnt(fd, PROBE_FALLOC_NO);
	assert_int_equal(probe_falloc_works(fd), PROBE_FALLOC_NO);
	probe_falloc_learnt(fd, first);
	close(fd);
}

// What probe_signatures() finds in an image file: libblkid probes a
// regular file as it probes a device, so the extents need no root.
struct probe_test_scan {
	struct probe_signature s[PROBE_MAX_SIGNATURES];
	size_t                 n;
};

static void
probe_test_need(const char *prog)
{
	if (!testlib_have_program(prog)) {
		print_message("SKIP: %s is not installed\n", prog);
		skip();
	}
}

// A sparse image of @p size bytes in the test's directory.
static char *
probe_test_image(void **state, uint64_t size)
{
	char *path = probe_test_path(state, "disk.img");

	assert_int_equal(
	    testlib_run("truncate -s %" PRIu64 " '%s'", size, path), 0);
	return path;
}

static void
probe_test_scan(struct probe_test_scan *out, const char *path)
{
	pa_err err = PA_ERR_INIT;
	int    fd  = open(path, O_RDONLY);

	assert_true(fd >= 0);
	memset(out, 0, sizeof(*out));
	if (probe_signatures(out->s, &out->n, PROBE_MAX_SIGNATURES, fd, &err) !=
	    PA_OK)
		fail_msg("probe_signatures: %s", err.msg);
	close(fd);
}

static int
probe_test_check(const char *path, uint64_t off, uint64_t end, pa_err *err)
{
	int fd = open(path, O_RDONLY);
	int rc;

	assert_true(fd >= 0);
	pa_err_clear(err);
	rc = probe_check_range(fd, off, end, err);
	close(fd);
	return rc;
}

static void
probe_test_extent(const struct probe_signature *sig, const char *usage,
    const char *type, uint64_t start, uint64_t len, bool unknown)
{
	assert_string_equal(sig->usage, usage);
	assert_string_equal(sig->type, type);
	assert_int_equal(sig->extent_start, start);
	assert_int_equal(sig->extent_len, len);
	assert_int_equal(sig->extent_unknown, unknown);
}

static void
probe_test_patch(const char *path, uint64_t off, const void *bytes, size_t n)
{
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, bytes, n, (off_t) off), (ssize_t) n);
	close(fd);
}

// A filesystem at the start of a bigger device: the tail past it is free,
// a range that reaches one sector into it is refused with the numbers.
static void
probe_test_fs_boundary(const char *path, const struct probe_signature *sig,
    uint64_t fs_end, uint64_t dev_size)
{
	pa_err err = PA_ERR_INIT;
	char   want[128];

	assert_int_equal(probe_test_check(path, fs_end, dev_size, &err), PA_OK);
	assert_int_equal(probe_test_check(path, fs_end - 512, dev_size, &err),
	    PA_FAILED_PRECONDITION);
	assert_int_equal(err.code, PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, sig->type));
	if (sig->uuid[0] != '\0')
		assert_non_null(strstr(err.msg, sig->uuid));
	snprintf(want, sizeof(want), "covers [0, %" PRIu64 ")", fs_end);
	assert_non_null(strstr(err.msg, want));
	snprintf(want, sizeof(want), "[%" PRIu64 ", %" PRIu64 ")", fs_end - 512,
	    dev_size);
	assert_non_null(strstr(err.msg, want));
}

static void
test_probe__ext4_extent_is_its_blocks_count(void **state)
{
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_test_scan sc;

	probe_test_need("mkfs.ext4");
	assert_int_equal(testlib_run("mkfs.ext4 -q -F '%s' 16M", img), 0);
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 1);
	probe_test_extent(&sc.s[0], "filesystem", "ext4", 0, 16 * MiB, false);
	assert_int_equal(sc.s[0].offset, 1080);
	probe_test_fs_boundary(img, &sc.s[0], 16 * MiB, 64 * MiB);
	free(img);
}

// The high word of the blocks count counts only with the 64bit feature.
static void
test_probe__ext4_blocks_count_high_word_needs_64bit(void **state)
{
	uint64_t const         big = ((1ULL << 32) + 16 * 1024) * KiB;
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_test_scan sc;
	unsigned char          hi = 1, incompat = 0;
	int                    fd;

	probe_test_need("mkfs.ext4");
	// no metadata_csum: the patched superblock must still be found
	assert_int_equal(testlib_run("mkfs.ext4 -q -F -b 1024 -O "
	                             "64bit,^metadata_csum '%s' 16M",
	                     img),
	    0);
	probe_test_patch(img, 1024 + 0x150, &hi, 1); // s_blocks_count_hi = 1
	if (truncate(img, (off_t) (big + 16 * MiB)) != 0) {
		print_message("SKIP: no %" PRIu64 "-byte sparse file here\n",
		    (uint64_t) (big + 16 * MiB));
		skip();
	}
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 1);
	probe_test_extent(&sc.s[0], "filesystem", "ext4", 0, big, false);
	// without INCOMPAT_64BIT the high word is not part of the count
	assert_true((fd = open(img, O_RDWR)) >= 0);
	assert_int_equal(pread(fd, &incompat, 1, 1024 + 0x60), 1);
	incompat &= (unsigned char) ~0x80;
	assert_int_equal(pwrite(fd, &incompat, 1, 1024 + 0x60), 1);
	close(fd);
	probe_test_scan(&sc, img);
	probe_test_extent(&sc.s[0], "filesystem", "ext4", 0, 16 * MiB, false);
	free(img);
}

// A superblock that claims more than the device holds was misread, or
// the device was cut short: it guards everything.
static void
test_probe__superblock_past_the_device_guards_all_of_it(void **state)
{
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_test_scan sc;
	pa_err                 err = PA_ERR_INIT;

	probe_test_need("mkfs.ext4");
	assert_int_equal(testlib_run("mkfs.ext4 -q -F '%s'", img), 0);
	assert_int_equal(truncate(img, 32 * MiB), 0);
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 1);
	probe_test_extent(&sc.s[0], "filesystem", "ext4", 0, 32 * MiB, true);
	assert_int_equal(probe_test_check(img, 32 * MiB - 512, 32 * MiB, &err),
	    PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "size unknown: the whole device"));
	free(img);
}

static void
test_probe__xfs_extent_is_dblocks_times_blocksize(void **state)
{
	char                  *img = probe_test_image(state, 512 * MiB);
	struct probe_test_scan sc;

	probe_test_need("mkfs.xfs");
	// 300 MB is the smallest xfs mkfs.xfs makes
	assert_int_equal(
	    testlib_run("mkfs.xfs -q -f -d size=320m '%s'", img), 0);
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 1);
	probe_test_extent(&sc.s[0], "filesystem", "xfs", 0, 320 * MiB, false);
	probe_test_fs_boundary(img, &sc.s[0], 320 * MiB, 512 * MiB);
	free(img);
}

static void
test_probe__btrfs_extent_is_its_total_bytes(void **state)
{
	char                  *img = probe_test_image(state, 256 * MiB);
	struct probe_test_scan sc;

	probe_test_need("mkfs.btrfs");
	assert_int_equal(
	    testlib_run("mkfs.btrfs -q -f -b 128m '%s' >/dev/null", img), 0);
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 1);
	probe_test_extent(&sc.s[0], "filesystem", "btrfs", 0, 128 * MiB, false);
	assert_int_equal(sc.s[0].offset, 64 * KiB + 0x40);
	probe_test_fs_boundary(img, &sc.s[0], 128 * MiB, 256 * MiB);
	free(img);
}

static void
test_probe__swap_extent_ends_at_its_last_page(void **state)
{
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_test_scan sc;

	probe_test_need("mkswap");
	// mkswap's size is a count of KiB
	assert_int_equal(testlib_run("mkswap -q '%s' 8192", img), 0);
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 1);
	probe_test_extent(&sc.s[0], "other", "swap", 0, 8 * MiB, false);
	probe_test_fs_boundary(img, &sc.s[0], 8 * MiB, 64 * MiB);
	free(img);
}

static void
test_probe__vfat_extent_is_its_sector_count(void **state)
{
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_test_scan sc;

	probe_test_need("mkfs.vfat");
	assert_int_equal(
	    testlib_run("mkfs.vfat '%s' 16384 >/dev/null 2>&1", img), 0);
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 1);
	probe_test_extent(&sc.s[0], "filesystem", "vfat", 0, 16 * MiB, false);
	probe_test_fs_boundary(img, &sc.s[0], 16 * MiB, 64 * MiB);
	free(img);
}

// A filesystem whose size probe does not read (minix here; LVM, raid and
// LUKS alike) guards the whole device, even far past its end.
static void
test_probe__unknown_filesystem_guards_the_whole_device(void **state)
{
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_test_scan sc;
	pa_err                 err = PA_ERR_INIT;

	probe_test_need("mkfs.minix");
	assert_int_equal(
	    testlib_run("mkfs.minix '%s' 4096 >/dev/null", img), 0);
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 1);
	probe_test_extent(&sc.s[0], "filesystem", "minix", 0, 64 * MiB, true);
	assert_int_equal(probe_test_check(img, 63 * MiB, 64 * MiB, &err),
	    PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "minix filesystem"));
	assert_non_null(strstr(err.msg, "the whole device"));
	free(img);
}

#define PROBE_P1 (1 * MiB)  // the partitions probe_test_table makes
#define PROBE_P2 (10 * MiB) // each 8 MiB
#define PROBE_PLEN (8 * MiB)

static void
probe_test_table(const char *img, const char *label)
{
	probe_test_need("sfdisk");
	assert_int_equal(testlib_run("printf 'label: %s\\nstart=2048, "
	                             "size=16384\\nstart=20480, size=16384\\n' "
	                             "| sfdisk -q '%s' >/dev/null",
	                     label, img),
	    0);
}

static void
test_probe__dos_table_and_its_partitions_are_structures(void **state)
{
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_test_scan sc;
	pa_err                 err = PA_ERR_INIT;

	probe_test_table(img, "dos");
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 3);
	// the MBR and the gap a boot loader embeds itself in, up to p1
	probe_test_extent(
	    &sc.s[0], "partition table", "dos", 0, PROBE_P1, false);
	assert_int_equal(sc.s[0].offset, 510);
	probe_test_extent(
	    &sc.s[1], "partition", "0x83", PROBE_P1, PROBE_PLEN, false);
	assert_int_equal(sc.s[1].partno, 1);
	assert_int_equal(sc.s[1].offset, PROBE_P1);
	probe_test_extent(
	    &sc.s[2], "partition", "0x83", PROBE_P2, PROBE_PLEN, false);
	assert_int_equal(sc.s[2].partno, 2);
	assert_non_null(strstr(sc.s[2].uuid, "-02"));
	// a range inside either partition, or over the MBR, is refused
	assert_int_equal(probe_test_check(img, 2 * MiB, 3 * MiB, &err),
	    PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "partition 1 (type 0x83"));
	assert_int_equal(probe_test_check(img, 17 * MiB, 64 * MiB, &err),
	    PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "partition 2"));
	assert_non_null(strstr(err.msg, sc.s[2].uuid));
	assert_non_null(strstr(err.msg, "covers [10485760, 18874368)"));
	assert_int_equal(
	    probe_test_check(img, 0, 512, &err), PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "dos partition table"));
	// the gaps between and after the partitions are free
	assert_int_equal(
	    probe_test_check(img, PROBE_P1 + PROBE_PLEN, PROBE_P2, &err),
	    PA_OK);
	assert_int_equal(
	    probe_test_check(img, PROBE_P2 + PROBE_PLEN, 64 * MiB, &err),
	    PA_OK);
	free(img);
}

// Extended and logical partitions are structures too.
static void
test_probe__dos_logical_partitions_are_structures(void **state)
{
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_test_scan sc;

	probe_test_need("sfdisk");
	assert_int_equal(
	    testlib_run("printf 'label: dos\\nstart=2048, "
	                "size=16384, type=5\\nstart=4096, "
	                "size=4096\\n' | sfdisk -q '%s' >/dev/null",
	        img),
	    0);
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 3);
	probe_test_extent(
	    &sc.s[1], "partition", "0x05", PROBE_P1, PROBE_PLEN, false);
	probe_test_extent(
	    &sc.s[2], "partition", "0x83", 2 * MiB, 2 * MiB, false);
	assert_int_equal(sc.s[2].partno, 5);
	free(img);
}

#define PROBE_GPT_TAIL (16 * 1024 + 512) // backup entries and header

static void
test_probe__gpt_is_two_tables_and_its_partitions(void **state)
{
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_test_scan sc;
	pa_err                 err = PA_ERR_INIT;

	probe_test_table(img, "gpt");
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 4);
	// pMBR, header and entries up to the first usable LBA (2048)
	probe_test_extent(
	    &sc.s[0], "partition table", "gpt", 0, PROBE_P1, false);
	assert_int_equal(sc.s[0].offset, 512);
	// 128 entries of 128 bytes and the header in the last LBA
	probe_test_extent(&sc.s[1], "partition table", "gpt",
	    64 * MiB - PROBE_GPT_TAIL, PROBE_GPT_TAIL, false);
	assert_int_equal(sc.s[1].offset, 64 * MiB - 512);
	assert_string_equal(sc.s[0].uuid, sc.s[1].uuid);
	probe_test_extent(&sc.s[2], "partition",
	    "0fc63daf-8483-4772-8e79-3d69d8477de4", PROBE_P1, PROBE_PLEN,
	    false);
	probe_test_extent(&sc.s[3], "partition",
	    "0fc63daf-8483-4772-8e79-3d69d8477de4", PROBE_P2, PROBE_PLEN,
	    false);
	// the range that covers the backup header is refused
	assert_int_equal(probe_test_check(img, 63 * MiB, 64 * MiB, &err),
	    PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "gpt partition table"));
	assert_non_null(strstr(err.msg, sc.s[1].uuid));
	assert_non_null(strstr(err.msg, "at byte 67108352"));
	assert_int_equal(probe_test_check(img, PROBE_P2 + PROBE_PLEN,
	                     64 * MiB - PROBE_GPT_TAIL, &err),
	    PA_OK);
	free(img);
}

// A disk image written onto a bigger volume: its backup table lies where
// the image ended, and the rest of the volume is free.
static void
test_probe__gpt_image_on_a_bigger_device_leaves_the_tail(void **state)
{
	char                  *img = probe_test_image(state, 32 * MiB);
	struct probe_test_scan sc;
	pa_err                 err = PA_ERR_INIT;

	probe_test_table(img, "gpt");
	assert_int_equal(truncate(img, 64 * MiB), 0);
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 4);
	probe_test_extent(&sc.s[1], "partition table", "gpt",
	    32 * MiB - PROBE_GPT_TAIL, PROBE_GPT_TAIL, false);
	assert_int_equal(
	    probe_test_check(img, 32 * MiB, 64 * MiB, &err), PA_OK);
	assert_int_equal(probe_test_check(img, 32 * MiB - 512, 64 * MiB, &err),
	    PA_FAILED_PRECONDITION);
	free(img);
}

// libblkid is ambivalent (two superblocks, safeprobe -2): each guards its
// own extent, so the union of the two is refused and only past both is
// free.
static void
test_probe__ambivalent_superblocks_each_guard_their_extent(void **state)
{
	char                  *img = probe_test_image(state, 512 * MiB);
	char                  *xfs = probe_test_path(state, "xfs.img");
	struct probe_test_scan sc;
	pa_err                 err = PA_ERR_INIT;

	probe_test_need("mkfs.ext4");
	probe_test_need("mkfs.xfs");
	assert_int_equal(
	    testlib_run("truncate -s 512M '%s' && mkfs.xfs -q -f -d "
	                "size=320m '%s' && mkfs.ext4 -q -F -b 4096 '%s' 16M && "
	                "dd if='%s' of='%s' bs=512 count=1 conv=notrunc "
	                "status=none",
	        xfs, xfs, img, xfs, img),
	    0);
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 2);
	probe_test_extent(&sc.s[0], "filesystem", "xfs", 0, 320 * MiB, false);
	probe_test_extent(&sc.s[1], "filesystem", "ext4", 0, 16 * MiB, false);
	assert_int_equal(probe_test_check(img, 16 * MiB, 512 * MiB, &err),
	    PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "xfs filesystem"));
	assert_int_equal(
	    probe_test_check(img, 320 * MiB, 512 * MiB, &err), PA_OK);
	free(xfs);
	free(img);
}

// More structures than probe keeps cannot all be checked: refused, even
// for a range none of the kept ones covers.
static void
test_probe__more_structures_than_kept_are_refused(void **state)
{
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_test_scan sc;
	pa_err                 err = PA_ERR_INIT;

	probe_test_need("sfdisk");
	assert_int_equal(testlib_run("(echo 'label: gpt'; for i in $(seq 0 "
	                             "19); do echo \"start=$((2048 + i * "
	                             "2048)), size=2048\"; done) | sfdisk -q "
	                             "'%s' >/dev/null",
	                     img),
	    0);
	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 22); // 2 tables, 20 partitions
	assert_int_equal(probe_test_check(img, 48 * MiB, 60 * MiB, &err),
	    PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "22 structures"));
	free(img);
}

static void
test_probe__signatures_counts_past_max(void **state)
{
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_signature sigs[2];
	size_t                 n = 0;
	int                    fd;

	probe_test_table(img, "dos");
	memset(sigs, 0xab, sizeof(sigs));
	assert_true((fd = open(img, O_RDONLY)) >= 0);
	assert_int_equal(probe_signatures(sigs, &n, 1, fd, NULL), PA_OK);
	close(fd);
	assert_int_equal(n, 3);
	assert_string_equal(sigs[0].type, "dos");
	assert_int_equal(
	    sigs[1].extent_len, 0xababababababababULL); // untouched
	free(img);
}

static void
test_probe__blank_device_and_empty_range_are_allowed(void **state)
{
	char                  *img = probe_test_image(state, 64 * MiB);
	struct probe_test_scan sc;
	pa_err                 err = PA_ERR_INIT;

	probe_test_scan(&sc, img);
	assert_int_equal(sc.n, 0);
	assert_int_equal(probe_test_check(img, 0, 64 * MiB, &err), PA_OK);
	probe_test_need("mkfs.ext4");
	assert_int_equal(testlib_run("mkfs.ext4 -q -F '%s'", img), 0);
	// nothing is written: nothing to guard
	assert_int_equal(probe_test_check(img, MiB, MiB, &err), PA_OK);
	assert_int_equal(
	    probe_test_check(img, 0, MiB, &err), PA_FAILED_PRECONDITION);
	free(img);
}

static void
test_probe__unprobeable_descriptor_is_internal(void **state)
{
	struct probe_signature sig;
	size_t                 n   = 7;
	pa_err                 err = PA_ERR_INIT;

	(void) state;
	assert_int_equal(probe_check_range(-1, 0, MiB, &err), PA_INTERNAL);
	assert_int_equal(err.code, PA_INTERNAL);
	assert_int_equal(probe_signatures(&sig, &n, 1, -1, NULL), PA_INTERNAL);
	assert_int_equal(n, 7);
}

// A regular file has no device size: the ioctl's ENOTTY, out untouched.
static void
test_probe__device_geometry_of_a_file_is_the_ioctl_error(void **state)
{
	char                 *path = probe_test_path(state, "plain.img");
	struct probe_geometry g    = { 7, 7, 7 };
	pa_err                err  = PA_ERR_INIT;
	int                   fd;

	assert_int_equal(testlib_run("truncate -s 1M '%s'", path), 0);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(probe_device_geometry(&g, fd, path, &err),
	    pa_status_from_errno(ENOTTY));
	assert_int_equal(err.code, pa_status_from_errno(ENOTTY));
	assert_non_null(strstr(err.msg, "size ioctl"));
	assert_int_equal(g.size, 7);
	assert_int_equal(g.logical_sector, 7);
	assert_int_equal(g.physical_sector, 7);
	close(fd);
	free(path);
}

#define PROBE_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, probe_setup, probe_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_probe__file_reports_size_space_and_fs, probe_setup,
		    probe_teardown),
		cmocka_unit_test_setup_teardown(test_probe__missing_file_is_new,
		    probe_setup, probe_teardown),
		cmocka_unit_test_setup_teardown(
		    test_probe__missing_directory_is_not_found, probe_setup,
		    probe_teardown),
		cmocka_unit_test_setup_teardown(
		    test_probe__directory_and_char_device_are_invalid,
		    probe_setup, probe_teardown),
		cmocka_unit_test_setup_teardown(
		    test_probe__out_untouched_on_failure, probe_setup,
		    probe_teardown),
		cmocka_unit_test_setup_teardown(
		    test_probe__fs_name_tells_tmpfs_and_unknown, probe_setup,
		    probe_teardown),
		cmocka_unit_test_setup_teardown(
		    test_probe__falloc_answer_is_cached_per_filesystem,
		    probe_setup, probe_teardown),
		PROBE_TEST(test_probe__ext4_extent_is_its_blocks_count),
		PROBE_TEST(test_probe__ext4_blocks_count_high_word_needs_64bit),
		PROBE_TEST(
		    test_probe__superblock_past_the_device_guards_all_of_it),
		PROBE_TEST(test_probe__xfs_extent_is_dblocks_times_blocksize),
		PROBE_TEST(test_probe__btrfs_extent_is_its_total_bytes),
		PROBE_TEST(test_probe__swap_extent_ends_at_its_last_page),
		PROBE_TEST(test_probe__vfat_extent_is_its_sector_count),
		PROBE_TEST(
		    test_probe__unknown_filesystem_guards_the_whole_device),
		PROBE_TEST(
		    test_probe__dos_table_and_its_partitions_are_structures),
		PROBE_TEST(test_probe__dos_logical_partitions_are_structures),
		PROBE_TEST(test_probe__gpt_is_two_tables_and_its_partitions),
		PROBE_TEST(
		    test_probe__gpt_image_on_a_bigger_device_leaves_the_tail),
		PROBE_TEST(
		    test_probe__ambivalent_superblocks_each_guard_their_extent),
		PROBE_TEST(test_probe__more_structures_than_kept_are_refused),
		PROBE_TEST(test_probe__signatures_counts_past_max),
		PROBE_TEST(
		    test_probe__blank_device_and_empty_range_are_allowed),
		PROBE_TEST(test_probe__unprobeable_descriptor_is_internal),
		PROBE_TEST(
		    test_probe__device_geometry_of_a_file_is_the_ioctl_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
