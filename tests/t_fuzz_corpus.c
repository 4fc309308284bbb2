/* SPDX-License-Identifier: MIT */
/*
 * t_fuzz_corpus - runs the fuzz target's entry point over every file of
 * the seed corpus (tests/fuzz/corpus) without libFuzzer: one TAP test per
 * file, each in a child process so that a crash or a hang names the file;
 * ring_observer_open() must give the same verdict as ring_open().
 * Under `make check SANITIZE=address` this is the sanitizer pass of the
 * open and validate code; `make fuzz` runs the real fuzzer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz_open.c"
#include "tap.h"
#include "lib/crashutil.h"

#define CORPUS_DIR "tests/fuzz/corpus"
#define MAX_FILES 256

/* Reads the file at @path; returns its bytes (malloc) and *@size. */
static uint8_t *read_file(const char *path, size_t *size)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    !(buf = malloc((size_t)st.st_size + 1)) ||
	    crash_read_all(fd, buf, (size_t)st.st_size) != 0) {
		close(fd);
		return NULL;
	}
	close(fd);
	*size = (size_t)st.st_size;
	return buf;
}

/* What ring_open must return for a corpus file, by its name. */
static int expected_open(const char *name)
{
	static const struct {
		const char *name;
		int rc;
	} table[] = {
		{ "bad-magic", -ENOEXEC },    { "bad-version", -EPROTONOSUPPORT },
		{ "bad-checksum", -EUCLEAN }, { "bad-slot-size", -EDOM },
		{ "bad-offsets", -EDOM },     { "bad-slot-count", -EDOM },
		{ "truncated", -ENODATA },
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(name, table[i].name) == 0)
			return table[i].rc;
	return 0; /* valid-*, and files damaged behind the superblock */
}

/* ring_open's result for @size bytes at @data written to a file (with
 * @observer: ring_observer_open's, which must validate the same way). */
static int open_result(const uint8_t *data, size_t size, int observer)
{
	struct ring_observer *o;
	struct ring *r;
	int rc;

	if (!fuzz_path[0])
		snprintf(fuzz_path, sizeof(fuzz_path),
			 "/dev/shm/libring-fuzz.%d", (int)getpid());
	if (fuzz_write_file(data, size) != 0)
		return 1;
	if (observer) {
		rc = ring_observer_open(fuzz_path, 0, &o);
		if (rc == 0)
			ring_observer_close(o);
	} else {
		rc = ring_open(fuzz_path, 0, &r);
		if (rc == 0)
			ring_close(r);
	}
	unlink(fuzz_path);
	return rc;
}

/* Orders file names for a stable test order. */
static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	char *names[MAX_FILES], path[512], why[64];
	struct dirent *de;
	unsigned n = 0, i;
	DIR *d;

	d = opendir(CORPUS_DIR);
	if (!d)
		skip_all("no seed corpus in " CORPUS_DIR);
	while ((de = readdir(d)) && n < MAX_FILES)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	if (n == 0)
		skip_all("the seed corpus is empty");
	qsort(names, n, sizeof(names[0]), by_name);

	plan(3 * (int)n);
	crash_guard(60 + 10 * n, NULL);
	for (i = 0; i < n; i++) {
		uint8_t *data;
		size_t size = 0;
		int status;
		pid_t pid;

		snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, names[i]);
		data = read_file(path, &size);
		if (!data) {
			ok(0, "%s: readable", names[i]);
			ok(0, "%s: not run", names[i]);
			ok(0, "%s: not observed", names[i]);
			continue;
		}
		is(open_result(data, size, 0), expected_open(names[i]),
		   "%s: ring_open gives the expected result", names[i]);
		is(open_result(data, size, 1), expected_open(names[i]),
		   "%s: ring_observer_open gives the same", names[i]);
		pid = crash_fork();
		if (pid == 0)
			_exit(LLVMFuzzerTestOneInput(data, size));
		crash_wait_exit(pid, 20000, &status);
		ok(crash_exited_ok(status), "%s (%zu bytes): %s", names[i],
		   size, crash_status_text(status, why, sizeof(why)));
		free(data);
		free(names[i]);
	}
	return exit_status();
}
