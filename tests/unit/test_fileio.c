// SPDX-License-Identifier: GPL-2.0
/*
 * read_small_file() (daemon/fileio.c): a file that arrives over several
 * reads (seq_file hands /proc/stat out a page at a time) is read whole up
 * to the buffer, trimmed only when asked, and errors come back as -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fileio.h"

/* A FIFO whose writer sends "abc", pauses, then "def\n": two reads at least. */
static void several_reads(const char *dir)
{
	char path[256], buf[64];
	pid_t pid;
	int ret, fd;

	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK(mkfifo(path, 0600) == 0, "mkfifo");
	pid = fork();
	if (pid == 0) {
		fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, "abc", 3) != 3)
			_exit(1);
		usleep(100 * 1000);
		_exit(write(fd, "def\n", 4) == 4 ? 0 : 1);
	}
	ret = read_small_file(path, buf, sizeof(buf), true);
	waitpid(pid, NULL, 0);
	CHECK_INT(ret, 0, "a file in two pieces reads");
	CHECK(!strcmp(buf, "abcdef"), "both pieces, trimmed: got '%s'", buf);
	unlink(path);
}

static void bounds_and_errors(const char *dir)
{
	char path[256], buf[5];
	FILE *f;

	snprintf(path, sizeof(path), "%s/long", dir);
	f = fopen(path, "w");
	CHECK(f && fputs("0123456789 \n", f) >= 0 && fclose(f) == 0, "write a fixture");
	CHECK_INT(read_small_file(path, buf, sizeof(buf), false), 0, "a longer file fills the buffer");
	CHECK(!strcmp(buf, "0123"), "at most len - 1 bytes, NUL-terminated: got '%s'", buf);
	CHECK_INT(read_small_file(path, buf, 0, false), -EINVAL, "no room at all is refused");
	snprintf(path, sizeof(path), "%s/absent", dir);
	CHECK_INT(read_small_file(path, buf, sizeof(buf), false), -ENOENT, "a missing file is -ENOENT");
}

int main(void)
{
	char dir[] = "/tmp/test_fileio.XXXXXX", path[300];

	if (!mkdtemp(dir))
		return 1;
	several_reads(dir);
	bounds_and_errors(dir);
	snprintf(path, sizeof(path), "%s/long", dir);
	unlink(path);
	rmdir(dir);
	return check_done();
}
